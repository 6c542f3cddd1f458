// /app/studio/workflows/<slug>/quality[/runs/<id>]: release safety of a workflow — golden cases,
// tolerances, shadow runs (start, watch, compare) and publishing through the golden-case gate.
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { ApiError } from "../api/client";
import { useMe } from "../app/useMe";
import { useI18n } from "../i18n";
import type { MessageKey } from "../i18n";
import { GoldenCasesPanel, ThresholdPanel, TolerancesPanel } from "./GoldenPanels";
import { DifferenceTable, ShadowRunResult, percent } from "./ShadowRunResult";
import { useGates, usePublishChecked, useShadowRun, useShadowRuns, useStartShadowRun } from "./useQuality";
import type { GateRefusal } from "./useQuality";
import "./quality.css";

function StartShadowForm({ slug, onStarted }: { slug: string; onStarted: (id: number) => void }) {
  const { t } = useI18n();
  const start = useStartShadowRun(slug);
  const [source, setSource] = useState<"golden" | "recent">("golden");
  const [version, setVersion] = useState("");
  const [caseType, setCaseType] = useState("");
  const [limit, setLimit] = useState("20");
  return (
    <form
      className="start-shadow"
      data-testid="start-shadow"
      onSubmit={(e) => {
        e.preventDefault();
        start.mutate(
          {
            source,
            ...(version ? { version: Number(version) } : {}),
            ...(source === "recent" ? { case_type: caseType, limit: Number(limit) } : {}),
          },
          { onSuccess: (run) => onStarted(run.id) },
        );
      }}
    >
      <fieldset>
        <label>
          <input type="radio" name="source" checked={source === "golden"} onChange={() => setSource("golden")} />
          {t("quality.shadow.source.golden")}
        </label>
        <label>
          <input type="radio" name="source" checked={source === "recent"} onChange={() => setSource("recent")} data-testid="source-recent" />
          {t("quality.shadow.source.recent")}
        </label>
      </fieldset>
      {source === "recent" ? (
        <>
          <label>
            {t("quality.shadow.caseType")}
            <input value={caseType} onChange={(e) => setCaseType(e.target.value)} placeholder="breast-fna" />
          </label>
          <label>
            {t("quality.shadow.limit")}
            <input type="number" min={1} max={500} value={limit} onChange={(e) => setLimit(e.target.value)} data-testid="shadow-limit" />
          </label>
        </>
      ) : null}
      <label>
        {t("quality.shadow.version")}
        <input type="number" min={1} value={version} onChange={(e) => setVersion(e.target.value)} />
      </label>
      <button type="submit" disabled={start.isPending} data-testid="shadow-start">
        {t("quality.shadow.start")}
      </button>
      {start.error ? <p className="error-text" role="alert">{start.error.message}</p> : null}
    </form>
  );
}

function ShadowRunsPanel({ slug, selected, canStart }: { slug: string; selected: number | null; canStart: boolean }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const runs = useShadowRuns(slug);
  const detail = useShadowRun(selected);
  const open = (id: number) => void navigate(`/studio/workflows/${slug}/quality/runs/${id}`);
  const list = runs.data ?? [];
  return (
    <section className="panel" aria-labelledby="shadow-heading">
      <h2 id="shadow-heading">{t("quality.shadow.heading")}</h2>
      {canStart ? <StartShadowForm slug={slug} onStarted={open} /> : null}
      {runs.data && list.length === 0 ? <p className="muted">{t("quality.shadow.empty")}</p> : null}
      {list.length ? (
        <table className="shadow-runs" data-testid="shadow-runs">
          <thead>
            <tr>
              <th>{t("quality.shadow.col.id")}</th>
              <th>{t("quality.shadow.col.version")}</th>
              <th>{t("quality.shadow.col.source")}</th>
              <th>{t("quality.shadow.col.status")}</th>
              <th>{t("quality.shadow.col.progress")}</th>
              <th>{t("quality.shadow.col.agreement")}</th>
            </tr>
          </thead>
          <tbody>
            {list.map((run) => (
              <tr key={run.id} className={run.id === selected ? "selected" : ""} data-testid="shadow-run" data-id={run.id}>
                <td>
                  <Link to={`/studio/workflows/${slug}/quality/runs/${run.id}`} aria-label={t("quality.shadow.open", { id: run.id })}>
                    #{run.id}
                  </Link>
                </td>
                <td>v{run.version}</td>
                <td>
                  {t(`quality.shadow.source.${run.source}` as MessageKey)}
                  {run.source === "recent" && run.case_type ? ` (${run.case_type})` : ""}
                  {run.purpose === "publish_gate" ? <span className="tag"> {t("quality.shadow.purpose.publish_gate")}</span> : null}
                </td>
                <td>{t(`quality.status.${run.status}` as MessageKey)}</td>
                <td>
                  {run.total - run.pending}/{run.total}
                </td>
                <td>{percent(run.agreement)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {detail.error ? <p className="error-text">{t("quality.loadError", { message: detail.error.message })}</p> : null}
      {detail.data ? <ShadowRunResult run={detail.data} /> : null}
    </section>
  );
}

function PublishPanel({ slug }: { slug: string }) {
  const { t } = useI18n();
  const publish = usePublishChecked(slug);
  const [note, setNote] = useState("");
  const [reason, setReason] = useState("");
  const refusal =
    publish.error instanceof ApiError && publish.error.status === 409 ? (publish.error.body as GateRefusal) : null;
  return (
    <section className="panel" aria-labelledby="publish-heading" data-testid="gated-publish">
      <h2 id="publish-heading">{t("quality.publish.heading")}</h2>
      <p className="hint">{t("quality.publish.help")}</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          publish.mutate({ note, override_reason: reason });
        }}
      >
        <label>
          {t("quality.publish.note")}
          <textarea rows={2} value={note} onChange={(e) => setNote(e.target.value)} />
        </label>
        <label>
          {t("quality.publish.override")}
          <textarea rows={2} value={reason} onChange={(e) => setReason(e.target.value)} data-testid="override-reason" />
        </label>
        <button type="submit" disabled={publish.isPending} data-testid="gated-publish-submit">
          {publish.isPending ? t("quality.publish.running") : t("quality.publish.submit")}
        </button>
      </form>
      {publish.data ? <p className="ok-text" data-testid="gated-published">{t("quality.publish.done", { version: publish.data.number })}</p> : null}
      {publish.error ? (
        <div role="alert" data-testid="publish-refused">
          <p className="error-text">{t("quality.publish.refused", { detail: publish.error.message })}</p>
          {refusal ? <DifferenceTable rows={refusal.disagreements} /> : null}
        </div>
      ) : null}
    </section>
  );
}

export function GateList({ slug }: { slug: string }) {
  const { t } = useI18n();
  const gates = useGates(slug);
  const list = gates.data ?? [];
  return (
    <section className="panel" aria-labelledby="gates-heading">
      <h2 id="gates-heading">{t("quality.gates.heading")}</h2>
      {gates.data && list.length === 0 ? <p className="muted">{t("quality.gates.empty")}</p> : null}
      <ul className="gates" data-testid="gates">
        {list.map((g) => (
          <li key={g.version} data-testid="gate" data-version={g.version}>
            {g.passed
              ? t("quality.gate.passed", { version: g.version, percent: percent(g.agreement) })
              : g.overridden
                ? t("quality.gate.overridden", { version: g.version, user: g.decided_by ?? "?", reason: g.override_reason })
                : t("quality.gate.refused", { version: g.version, percent: percent(g.agreement), threshold: percent(g.threshold) })}{" "}
            <Link to={`/studio/workflows/${slug}/quality/runs/${g.shadow_run}`}>#{g.shadow_run}</Link>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function QualityPage() {
  const { t } = useI18n();
  const { slug = "", id } = useParams();
  const me = useMe();
  const admin = me?.role === "admin";
  const canMark = admin || me?.role === "pathologist";
  return (
    <div className="quality-page" data-testid="quality-page">
      <Link to={`/studio/workflows/${slug}`} className="back">
        {t("quality.back")}
      </Link>
      <h1>{t("quality.heading", { name: slug })}</h1>
      <p className="caption">{t("quality.caption")}</p>
      <div className="quality-grid">
        <GoldenCasesPanel slug={slug} canMark={canMark} />
        <TolerancesPanel slug={slug} canChange={admin} />
        <ThresholdPanel canChange={admin} />
      </div>
      <ShadowRunsPanel slug={slug} selected={id ? Number(id) : null} canStart={admin} />
      {admin ? <PublishPanel slug={slug} /> : null}
      <GateList slug={slug} />
    </div>
  );
}
