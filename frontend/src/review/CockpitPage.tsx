// The sign-out cockpit: the draft's fields with where each value came from beside the value,
// what differs from the AI draft highlighted, every problem that blocks sign-out listed, and
// the keyboard first (see ./cockpit.ts). A signed version is shown read-only, with Amend.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError, useApi } from "../api/client";
import { NotFound } from "../app/NotFound";
import { useI18n } from "../i18n";
import { MarkGoldenButton } from "../quality/MarkGoldenButton";
import { AmendDialog } from "./AmendDialog";
import { QUEUE_KEY, useOverride, useQueue, useReviewReport } from "./api";
import { CockpitSlides } from "./CockpitSlides";
import type { ReviewDetail, ReviewField } from "./api";
import { INITIAL, canSign, cockpitReducer, commandOfKey, undecided } from "./cockpit";
import type { CockpitCommand, CockpitField, CockpitState } from "./cockpit";
import { FieldEditor } from "./FieldEditor";
import { displayValue, sourceOf } from "./format";
import { useLastSigned } from "./lastSigned";
import { SignDialog } from "./SignDialog";
import { SignedBanner } from "./SignedBanner";

function blockedIds(problems: readonly string[]): Set<string> {
  return new Set(problems.map((p) => p.split(":")[0] ?? ""));
}

function typingIn(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName) || target.isContentEditable)
  );
}

function FieldRow(props: {
  field: ReviewField;
  value: unknown;
  index: number;
  current: boolean;
  accepted: boolean;
  blocked: boolean;
  editing: boolean;
  changed: boolean;
  onFocus: () => void;
  onAccept: () => void;
  onEdit: () => void;
  onSave: (value: unknown, reason: string) => void;
  onCancel: () => void;
}) {
  const { t, lang } = useI18n();
  const { field } = props;
  const row = useRef<HTMLTableRowElement>(null);
  const { current } = props;
  useEffect(() => {
    if (current) row.current?.scrollIntoView?.({ block: "nearest" });
  }, [current]);
  const words = { yes: t("cockpit.yes"), no: t("cockpit.no"), empty: t("cockpit.clear") };
  const name = field.labels[lang] ?? field.labels.en ?? field.id;
  const source = sourceOf(field.provenance);
  const differs = field.differs_from_ai || props.changed;
  const classes = [
    "field-row",
    props.current ? "field-row--current" : "",
    differs ? "field-row--differs" : "",
    props.blocked ? "field-row--blocked" : "",
    props.accepted ? "field-row--accepted" : "",
  ];
  return (
    <tr
      ref={row}
      className={classes.join(" ")}
      data-testid="field-row"
      data-field={field.id}
      data-differs={differs ? "true" : "false"}
      data-accepted={props.accepted ? "true" : "false"}
      aria-current={props.current ? "true" : undefined}
      onClick={props.onFocus}
    >
      <th scope="row">
        {name}
        {field.is_required && <span aria-hidden="true"> *</span>}
      </th>
      <td>
        {props.editing ? (
          <FieldEditor
            field={field}
            value={props.value}
            onSave={props.onSave}
            onCancel={props.onCancel}
          />
        ) : (
          <>
            <span data-testid="field-value">{displayValue(field, props.value, lang, words)}</span>
            {differs && (
              <div className="ai-was" data-testid="ai-was">
                {t("cockpit.aiWas", { value: displayValue(field, field.ai_value, lang, words) })}
              </div>
            )}
          </>
        )}
      </td>
      <td className="source">
        <span>{t(source.key, source.params)}</span>
        {field.confidence !== null && field.confidence !== undefined && (
          <span className="muted">
            {" · "}
            {t("cockpit.confidence", { value: Math.round(field.confidence * 100) })}
          </span>
        )}
      </td>
      <td className="decision">
        {differs ? (
          <span className="badge badge--person">{t("cockpit.yours")}</span>
        ) : props.accepted ? (
          <span className="badge badge--ok">{t("cockpit.accepted")}</span>
        ) : (
          <button
            type="button"
            aria-label={t("cockpit.acceptField", { label: name })}
            disabled={props.blocked}
            onClick={props.onAccept}
          >
            ✓
          </button>
        )}{" "}
        {!props.editing && (
          <button
            type="button"
            aria-label={t("cockpit.editField", { label: name })}
            onClick={props.onEdit}
          >
            ✎
          </button>
        )}
      </td>
    </tr>
  );
}

function Cockpit({ detail }: { detail: ReviewDetail }) {
  const { t, lang } = useI18n();
  const navigate = useNavigate();
  const override = useOverride(detail.report_id);
  const api = useApi();
  const queries = useQueryClient();
  const queue = useQueue({ ordering: "priority", caseType: "", priority: "", minTriage: "" });
  const signInBackground = useLastSigned((s) => s.signInBackground);
  const submitted = useLastSigned((s) => s.submitted);
  const [state, setState] = useState<CockpitState>(INITIAL);
  // A signed version is amended: changes are kept here until the amendment is signed.
  const [changes, setChanges] = useState<Record<string, unknown>>({});
  const [amending, setAmending] = useState(false);
  const problems = detail.problems;
  const blocked = useMemo(() => blockedIds(problems), [problems]);
  const fields: CockpitField[] = useMemo(
    () =>
      detail.elements.map((f) => ({
        id: f.id,
        differsFromAi: f.differs_from_ai || f.id in changes,
        blocked: blocked.has(f.id),
      })),
    [detail.elements, blocked, changes],
  );

  // The next case: the first waiting draft that is neither this one nor one being signed.
  const nextCase = useCallback(() => {
    const next = (queue.data ?? []).find(
      (item) => item.report_id !== detail.report_id && !submitted.has(item.report_id),
    );
    void navigate(next ? `/review/${next.report_id}` : "/review");
  }, [queue.data, detail.report_id, submitted, navigate]);

  const run = useCallback(
    (command: CockpitCommand) => {
      if (command.kind === "sign" && detail.signed) {
        setAmending(true);
        return;
      }
      setState((old) => cockpitReducer(old, command, fields, problems));
    },
    [fields, problems, detail.signed],
  );

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (state.signing || amending || event.ctrlKey || event.metaKey || event.altKey) return;
      const command = commandOfKey(event.key, state.editing !== null || typingIn(event.target));
      if (command === null) return;
      event.preventDefault();
      if (command === "openNext") nextCase();
      else run(command);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [state.signing, state.editing, amending, nextCase, run]);

  const save = (field: ReviewField, value: unknown, reason = "") => {
    if (detail.signed) {
      setChanges((old) => ({ ...old, [field.id]: value }));
      run({ kind: "stopEditing" });
      return;
    }
    override.mutate(
      { element: field.id, value, reason },
      { onSuccess: () => run({ kind: "stopEditing" }) },
    );
  };

  // The next case opens at once; the sign-out (password check, signed PDF) finishes in the
  // background and the banner reports it — a refused one with a link back to this case.
  const doSign = (password: string) => {
    const draft = { reportId: detail.report_id, accession: detail.case.accession };
    void signInBackground(api, draft, password, () => {
      void queries.invalidateQueries({ queryKey: QUEUE_KEY });
    });
    nextCase();
  };

  const waiting = undecided(fields, state);
  const signable = !detail.signed && canSign(fields, state, problems);
  const heading = detail.signed
    ? t("cockpit.signedHeading", {
        accession: detail.case.accession,
        version: detail.version,
        status: detail.status,
      })
    : t("cockpit.heading", { accession: detail.case.accession, version: detail.version });

  return (
    <section className="cockpit" data-testid="cockpit" data-report={detail.report_id}>
      <SignedBanner />
      <p>
        <Link to="/review">{t("cockpit.back")}</Link>
      </p>
      <h1>{heading}</h1>
      <dl className="case-facts">
        <dt>{t("cockpit.patient")}</dt>
        <dd>
          {detail.case.patient_name} · {detail.case.patient_mrn}
        </dd>
        {detail.case.clinical_info && (
          <>
            <dt>{t("cockpit.clinical")}</dt>
            <dd>{detail.case.clinical_info}</dd>
          </>
        )}
      </dl>
      <p className="muted keys-hint">{t("cockpit.keys")}</p>
      <div className="review-toolbar">
        {!detail.signed && (
          <>
            <button type="button" onClick={() => run({ kind: "acceptAgreed" })}>
              {t("cockpit.acceptAll")}
            </button>
            <button
              type="button"
              className="primary"
              data-testid="sign"
              disabled={!signable}
              onClick={() => run({ kind: "sign" })}
            >
              {t("cockpit.sign")}
            </button>
          </>
        )}
        {detail.signed && (
          <button type="button" data-testid="amend" onClick={() => setAmending(true)}>
            {t("cockpit.amend")}
          </button>
        )}
        {detail.signed && <MarkGoldenButton reportId={detail.report_id} />}
        <button type="button" onClick={nextCase}>
          {t("cockpit.next")}
        </button>
        <a href={detail.pdf_url} target="_blank" rel="noreferrer">
          {t("cockpit.pdf")}
        </a>
      </div>
      {problems.length > 0 && (
        <div role="alert" className="review-banner review-banner--error" data-testid="sign-blocked">
          <strong>{t("cockpit.blocked")}</strong>
          <ul>
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      )}
      {!detail.signed && problems.length === 0 && waiting.length > 0 && (
        <p className="muted" data-testid="undecided">
          {t("cockpit.undecided", { count: waiting.length })}
        </p>
      )}
      {override.error && (
        <div role="alert" className="error-text" data-testid="override-error">
          {override.error.message}
          {override.error instanceof ApiError && override.error.problems.length > 0 && (
            <ul>
              {override.error.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      <div className="cockpit-body">
      <table className="table fields" data-testid="fields">
        <thead>
          <tr>
            <th scope="col">{t("cockpit.field")}</th>
            <th scope="col">{t("cockpit.value")}</th>
            <th scope="col">{t("cockpit.source")}</th>
            <th scope="col">
              <span className="visually-hidden">{t("cockpit.accepted")}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {detail.elements.map((field, index) => (
            <FieldRow
              key={field.id}
              field={field}
              value={field.id in changes ? changes[field.id] : field.value}
              index={index}
              current={state.cursor === index}
              accepted={state.accepted.has(field.id)}
              blocked={blocked.has(field.id)}
              editing={state.editing === field.id}
              changed={field.id in changes}
              onFocus={() => run({ kind: "focus", index })}
              onAccept={() => {
                run({ kind: "focus", index });
                run({ kind: "accept" });
              }}
              onEdit={() => {
                run({ kind: "focus", index });
                run({ kind: "edit" });
              }}
              onSave={(value, reason) => save(field, value, reason)}
              onCancel={() => run({ kind: "stopEditing" })}
            />
          ))}
        </tbody>
      </table>
      <CockpitSlides caseId={detail.case.id} />
      </div>
      {state.signing && (
        <SignDialog
          title={t("sign.title", { accession: detail.case.accession })}
          working={false}
          error={null}
          onSubmit={doSign}
          onCancel={() => run({ kind: "closeDialog" })}
        />
      )}
      {amending && (
        <AmendDialog
          detail={detail}
          changes={changes}
          lang={lang}
          onDone={(amended) => {
            setAmending(false);
            setChanges({});
            void navigate(`/review/${amended.report_id}`);
          }}
          onCancel={() => setAmending(false)}
        />
      )}
    </section>
  );
}

function CockpitPage({ id }: { id: number }) {
  const { t } = useI18n();
  const detail = useReviewReport(id);
  if (detail.isPending) {
    return (
      <p className="state state--loading" role="status">
        {t("cockpit.loading")}
      </p>
    );
  }
  if (detail.error) {
    if (detail.error instanceof ApiError && detail.error.status === 404) return <NotFound />;
    return (
      <div role="alert" className="state state--error">
        <strong>{t("cockpit.errorTitle")}</strong> <span>{detail.error.message}</span>
      </div>
    );
  }
  return <Cockpit key={detail.data.report_id} detail={detail.data} />;
}

export function CockpitRoute() {
  const { reportId } = useParams();
  const id = Number(reportId);
  if (!Number.isInteger(id) || id <= 0) return <NotFound />;
  return <CockpitPage key={id} id={id} />;
}
