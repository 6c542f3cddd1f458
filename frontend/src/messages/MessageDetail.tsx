import type { ReactNode } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { NotFound } from "../app/NotFound";
import { useI18n } from "../i18n";
import { formatDateTime } from "../lib/format";
import type { DeliveryDetail, InboundDetail } from "./api";
import { useInboundDetail, useOutboundDetail, useReprocess, useResend } from "./api";
import { ConfirmedAction, MessageStatus, RawAndParsed } from "./parts";
import { inboundPath, outboundPath, parseId } from "./search";
import "./messages.css";

/** The list this detail was opened from (its search is kept in the query string). */
function useBackLink(tab: "inbound" | "outbound"): string {
  const [params] = useSearchParams();
  const back = new URLSearchParams(params);
  back.set("tab", tab);
  return `/messages?${back.toString()}`;
}

function Frame(props: { heading: string; back: string; children: ReactNode }) {
  const { t } = useI18n();
  return (
    <section className="runs-page msg-page" aria-labelledby="msg-detail-heading">
      <Link className="back" to={props.back}>
        {t("msg.back")}
      </Link>
      <h1 id="msg-detail-heading">{props.heading}</h1>
      {props.children}
    </section>
  );
}

function Loading({ error }: { error: Error | null }) {
  const { t } = useI18n();
  return error ? (
    <p className="error-text" role="alert">
      {t("msg.detailError", { message: error.message })}
    </p>
  ) : (
    <p className="state">{t("msg.detailLoading")}</p>
  );
}

/** A link to each related message, keeping the list's search. */
function Links(props: { ids: readonly number[]; path: (id: number) => string }) {
  const [params] = useSearchParams();
  const suffix = params.toString() ? `?${params.toString()}` : "";
  return (
    <>
      {props.ids.map((id, i) => (
        <span key={id}>
          {i > 0 ? ", " : null}
          <Link to={`${props.path(id)}${suffix}`}>#{id}</Link>
        </span>
      ))}
    </>
  );
}

export function InboundDetailRoute() {
  const id = parseId(useParams().id);
  return id === null ? <NotFound /> : <InboundDetailPage key={id} id={id} />;
}

function InboundDetailPage({ id }: { id: number }) {
  const { t } = useI18n();
  const back = useBackLink("inbound");
  const query = useInboundDetail(id);
  return (
    <Frame heading={t("msg.inboundHeading", { id })} back={back}>
      {query.data ? <InboundBody message={query.data} /> : <Loading error={query.error} />}
    </Frame>
  );
}

function InboundBody({ message: m }: { message: InboundDetail }) {
  const { t, locale } = useI18n();
  const reprocess = useReprocess(m.id);
  return (
    <>
      <dl className="run-facts msg-facts">
        <dt>{t("msg.status")}</dt>
        <dd>
          <MessageStatus status={m.status} /> {m.ack_code}
        </dd>
        <dt>{t("msg.received")}</dt>
        <dd>{formatDateTime(m.received_at ?? null, locale)}</dd>
        <dt>{t("msg.type")}</dt>
        <dd>
          {m.message_type} {m.version}
        </dd>
        <dt>{t("msg.sender")}</dt>
        <dd>
          {m.sending_application} {m.sending_facility}
        </dd>
        <dt>{t("msg.controlId")}</dt>
        <dd>{m.control_id}</dd>
        <dt>{t("msg.accession")}</dt>
        <dd className="accession">{m.accession}</dd>
        <dt>{t("msg.mrn")}</dt>
        <dd>{m.patient_mrn}</dd>
        {m.workflow ? (
          <>
            <dt>{t("msg.workflow")}</dt>
            <dd>{m.workflow}</dd>
          </>
        ) : null}
        {m.run ? (
          <>
            <dt>{t("msg.run")}</dt>
            <dd>
              <Link to={`/runs/${m.run}`}>#{m.run}</Link>
            </dd>
          </>
        ) : null}
      </dl>
      {m.reprocess_of ? (
        <p data-testid="reprocess-of">
          {t("msg.reprocessOf", { id: m.reprocess_of })}:{" "}
          <Links ids={[m.reprocess_of]} path={inboundPath} />
        </p>
      ) : null}
      {m.reprocessed_as.length > 0 ? (
        <p data-testid="reprocessed-as">
          {t("msg.reprocessedAs")}: <Links ids={m.reprocessed_as} path={inboundPath} />
        </p>
      ) : null}
      {m.error ? (
        <p className="error-text">
          {t("msg.error")}: {m.error}
        </p>
      ) : null}
      {Array.isArray(m.problems) && m.problems.length > 0 ? (
        <p className="error-text">
          {t("msg.problems")}: {m.problems.map(String).join("; ")}
        </p>
      ) : null}
      <div className="run-actions">
        <ConfirmedAction
          label={t("msg.reprocess")}
          question={t("msg.confirmReprocess")}
          busy={reprocess.isPending}
          onConfirm={() => reprocess.mutate()}
        />
      </div>
      <ActionOutcome
        error={reprocess.error}
        created={reprocess.data?.id}
        path={inboundPath}
      />
      <RawAndParsed raw={m.raw_text} parsed={m.parsed} />
      <h3>{t("msg.ackText")}</h3>
      {m.ack_text ? (
        <pre className="msg-raw" data-testid="msg-ack">
          {m.ack_text.split(/\r\n|\r|\n/).filter(Boolean).join("\n")}
        </pre>
      ) : (
        <p className="muted">{t("msg.noAck")}</p>
      )}
    </>
  );
}

function ActionOutcome(props: {
  error: Error | null;
  created: number | undefined;
  path: (id: number) => string;
}) {
  const { t } = useI18n();
  return (
    <div aria-live="polite" className="live-region" data-testid="msg-action-outcome">
      {props.error ? (
        <p className="error-text">{t("msg.actionError", { message: props.error.message })}</p>
      ) : null}
      {props.created !== undefined ? (
        <p data-testid="msg-created">
          {t("msg.created", { id: props.created })}{" "}
          <Links ids={[props.created]} path={props.path} />
        </p>
      ) : null}
    </div>
  );
}

export function OutboundDetailRoute() {
  const id = parseId(useParams().id);
  return id === null ? <NotFound /> : <OutboundDetailPage key={id} id={id} />;
}

function OutboundDetailPage({ id }: { id: number }) {
  const { t } = useI18n();
  const back = useBackLink("outbound");
  const query = useOutboundDetail(id);
  return (
    <Frame heading={t("msg.outboundHeading", { id })} back={back}>
      {query.data ? <OutboundBody delivery={query.data} /> : <Loading error={query.error} />}
    </Frame>
  );
}

function OutboundBody({ delivery: d }: { delivery: DeliveryDetail }) {
  const { t, locale } = useI18n();
  const resend = useResend(d.id);
  return (
    <>
      <dl className="run-facts msg-facts">
        <dt>{t("msg.status")}</dt>
        <dd>
          <MessageStatus status={d.status} />
        </dd>
        <dt>{t("msg.destination")}</dt>
        <dd>
          {d.destination} ({d.channel})
        </dd>
        <dt>{t("msg.queued")}</dt>
        <dd>{formatDateTime(d.queued_at, locale)}</dd>
        <dt>{t("msg.event")}</dt>
        <dd>{d.event}</dd>
        <dt>{t("msg.controlId")}</dt>
        <dd>{d.control_id}</dd>
        <dt>{t("msg.accession")}</dt>
        <dd className="accession">{d.accession}</dd>
        <dt>{t("msg.mrn")}</dt>
        <dd>{d.mrn}</dd>
        <dt>{t("msg.report")}</dt>
        <dd>
          #{d.report} v{d.report_version} {d.report_status}
        </dd>
      </dl>
      {d.resend_of ? (
        <p data-testid="resend-of">
          {t("msg.resendOf", { id: d.resend_of })}:{" "}
          <Links ids={[d.resend_of]} path={outboundPath} />
        </p>
      ) : null}
      {d.resends.length > 0 ? (
        <p data-testid="resent-as">
          {t("msg.resentAs")}: <Links ids={d.resends} path={outboundPath} />
        </p>
      ) : null}
      {d.last_error ? (
        <p className="error-text">
          {t("msg.lastError")}: {d.last_error}
        </p>
      ) : null}
      <div className="run-actions">
        <ConfirmedAction
          label={t("msg.resend")}
          question={t("msg.confirmResend")}
          busy={resend.isPending}
          onConfirm={() => resend.mutate()}
        />
      </div>
      <ActionOutcome error={resend.error} created={resend.data?.id} path={outboundPath} />
      <RawAndParsed raw={d.message ?? ""} parsed={d.parsed} />
      <Attempts delivery={d} />
    </>
  );
}

function Attempts({ delivery }: { delivery: DeliveryDetail }) {
  const { t, locale } = useI18n();
  return (
    <section aria-labelledby="msg-attempts">
      <h3 id="msg-attempts">{t("msg.answers")}</h3>
      {delivery.attempt_log.length === 0 ? (
        <p className="muted">{t("msg.noAttempts")}</p>
      ) : (
        <ol className="msg-attempts">
          {delivery.attempt_log.map((a) => (
            <li key={a.number}>
              <strong>{t("msg.attemptN", { n: a.number })}</strong>{" "}
              <span className="muted">{formatDateTime(a.started_at, locale)}</span> {a.verdict}
              {a.summary ? <span> — {a.summary}</span> : null}
              {a.answer ? <pre className="msg-raw">{a.answer}</pre> : null}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
