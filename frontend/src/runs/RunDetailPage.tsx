import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { dataOf, useApi } from "../api/client";
import type { GraphNode, RunDetail } from "../api/models";
import { NotFound } from "../app/NotFound";
import { useMe } from "../app/useMe";
import { useI18n } from "../i18n";
import { formatDateTime, formatDuration, runDurationMs } from "../lib/format";
import { isActiveRunStatus } from "../lib/status";
import { LiveTag, NotReady } from "./LoadStateView";
import { LIST_PATH, parseRunId, runPath } from "./route";
import { RunSteps } from "./RunSteps";
import { StatusBadge } from "./StatusBadge";
import { useRunDetail } from "./useRunDetail";

export interface RunDetailPageProps {
  id: number;
}

/** The page at /app/runs/:id (keyed by id: another run starts from a clean state). */
export function RunDetailRoute() {
  const id = parseRunId(useParams().id);
  if (id === null) return <NotFound />;
  return <RunDetailPage key={id} id={id} />;
}

function Facts({ run, nowMs }: { run: RunDetail; nowMs: number }) {
  const { t, locale } = useI18n();
  return (
    <dl className="run-facts">
      <dt>{t("detail.case")}</dt>
      <dd className="accession">{run.case.accession}</dd>
      <dt>{t("detail.workflow")}</dt>
      <dd data-testid="detail-workflow">
        {run.workflow.name}{" "}
        <span className="muted">
          {t("runs.workflowVersion", { version: run.workflow.version })}
          {run.workflow.version_status === "draft" ? ` (${t("detail.draftVersion")})` : ""}
        </span>
      </dd>
      <dt>{t("detail.template")}</dt>
      <dd>
        {run.template.name}{" "}
        <span className="muted">{t("runs.workflowVersion", { version: run.template.version })}</span>
      </dd>
      <dt>{t("detail.created")}</dt>
      <dd>
        <time dateTime={run.created_at}>{formatDateTime(run.created_at, locale)}</time>
        {run.requested_by ? <span className="muted"> · {run.requested_by}</span> : null}
      </dd>
      <dt>{t("detail.duration")}</dt>
      <dd>{formatDuration(runDurationMs(run, nowMs))}</dd>
      <dt>{t("detail.report")}</dt>
      <dd>
        {run.report ? (
          <a href={run.report.pdf_url} target="_blank" rel="noopener" data-testid="detail-pdf">
            {t("runs.pdf")}
          </a>
        ) : (
          <span className="muted">{t("runs.noReport")}</span>
        )}
      </dd>
    </dl>
  );
}

function CancelButton({ onConfirm, busy }: { onConfirm: () => void; busy: boolean }) {
  const { t } = useI18n();
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" className="danger-button" onClick={() => setAsking(true)}>
        {t("detail.cancel")}
      </button>
    );
  }
  return (
    <span role="group" aria-label={t("detail.confirmCancel")}>
      <span>{t("detail.confirmCancel")} </span>
      <button
        type="button"
        className="danger-button"
        disabled={busy}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {t("detail.confirmYes")}
      </button>{" "}
      <button type="button" onClick={() => setAsking(false)}>
        {t("detail.confirmNo")}
      </button>
    </span>
  );
}

export function RunDetailPage({ id }: RunDetailPageProps) {
  const { t } = useI18n();
  const api = useApi();
  const navigate = useNavigate();
  const isAdmin = useMe()?.role === "admin";
  const { state, replace, reload } = useRunDetail(id);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);

  const perform = async (work: () => Promise<void>) => {
    setBusy(true);
    setActionError(null);
    try {
      await work();
    } catch (err) {
      setActionError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  let body;
  if (state.kind !== "ready") {
    body = <NotReady state={state} page="detail" onRetry={reload} />;
  } else {
    const run = state.run;
    const active = isActiveRunStatus(run.status);
    const canCancel =
      run.permissions.act && (active || run.status === "waiting_review") && !run.cancel_requested_at;
    const ended = !active && run.status !== "waiting_review";
    const rerun = (node: GraphNode) =>
      void perform(async () => {
        const created = dataOf(
          await api.POST("/api/v1/runs/{id}/rerun/", {
            params: { path: { id: String(run.id) } },
            body: { from_node: node.node_id },
          }),
        );
        void navigate(runPath(created.id));
      });
    body = (
      <>
        <div className="runs-toolbar">
          <h1 id="detail-heading">{t("detail.heading", { id: run.id })}</h1>
          <StatusBadge status={run.status} />
          {run.is_test ? (
            <span className="tag" title={t("detail.testHint")} data-testid="test-run-tag">
              {t("detail.test")}
            </span>
          ) : null}
          <div className="toolbar-actions">
            {active ? <LiveTag label={t("detail.live")} testId="detail-live" /> : null}
          </div>
        </div>
        {run.rerun_of ? (
          <p className="muted">
            <Link to={runPath(run.rerun_of)}>
              {t("detail.rerunOf", { id: run.rerun_of, node: run.rerun_from_node })}
            </Link>
          </p>
        ) : null}
        <Facts run={run} nowMs={state.fetchedAt} />
        {run.error ? (
          <p className="error-text run-error" data-testid="detail-run-error">
            <strong>{t("runs.runError")}:</strong> {run.error}
          </p>
        ) : null}
        <div className="run-actions">
          {canCancel ? (
            <CancelButton
              busy={busy}
              onConfirm={() =>
                void perform(async () => {
                  replace(
                    dataOf(
                      await api.POST("/api/v1/runs/{id}/cancel/", {
                        params: { path: { id: String(run.id) } },
                      }),
                    ),
                  );
                })
              }
            />
          ) : null}
          {isAdmin && ended ? (
            <Link
              className="link-as-button"
              to={`/studio/workflows/${run.workflow.slug}?from_run=${run.id}`}
              title={t("detail.openInEditorHint")}
              data-testid="open-in-editor"
            >
              {t("detail.openInEditor")}
            </Link>
          ) : null}
          {run.cancel_requested_at && active ? (
            <span className="muted" data-testid="cancel-requested">
              {t("detail.cancelRequested", { user: run.cancelled_by ?? "" })}
            </span>
          ) : null}
        </div>
        <div aria-live="polite" className="live-region" data-testid="detail-action-error">
          {actionError ? (
            <p className="error-text">{t("detail.actionError", { message: actionError })}</p>
          ) : state.refreshError ? (
            <p className="error-text">{t("runs.refreshError", { message: state.refreshError })}</p>
          ) : null}
        </div>
        <RunSteps run={run} busy={busy} onRerun={run.permissions.act && ended ? rerun : undefined} />
      </>
    );
  }

  return (
    <section aria-labelledby="detail-heading" className="runs-page run-detail-page">
      <Link className="back" to={LIST_PATH}>
        {t("detail.back")}
      </Link>
      {body}
    </section>
  );
}
