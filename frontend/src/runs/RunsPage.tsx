import { useMe } from "../app/useMe";
import { useI18n } from "../i18n";
import { shouldPoll } from "../lib/status";
import { LiveTag, NotReady } from "./LoadStateView";
import { RunsTable } from "./RunsTable";
import { useRuns } from "./useRuns";

/** The runs list at /app/runs. */
export function RunsPage() {
  const { t } = useI18n();
  const departmentName = useMe()?.department?.name;
  const { state, reload } = useRuns();
  const caption = departmentName
    ? t("runs.caption", { department: departmentName })
    : t("runs.captionNoDept");

  let body;
  if (state.kind !== "ready") {
    body = <NotReady state={state} page="runs" onRetry={reload} />;
  } else if (state.runs.length === 0) {
    body = (
      <p className="state state--empty" data-testid="runs-empty">
        {t("runs.empty")}
      </p>
    );
  } else {
    body = (
      <>
        <div className="table-scroll">
          <RunsTable runs={state.runs} nowMs={state.fetchedAt} caption={caption} />
        </div>
        {state.count > state.runs.length ? (
          <p className="muted">
            {t("runs.shown", { shown: state.runs.length, count: state.count })}
          </p>
        ) : null}
      </>
    );
  }

  const polling = state.kind === "ready" && shouldPoll(state.runs);

  return (
    <section aria-labelledby="runs-heading" className="runs-page">
      <div className="runs-toolbar">
        <h1 id="runs-heading">{t("runs.heading")}</h1>
        <p className="muted caption-text">{caption}</p>
        <div className="toolbar-actions">
          {polling ? <LiveTag label={t("runs.autoRefresh")} testId="runs-polling" /> : null}
          {state.kind === "ready" ? (
            <button type="button" onClick={reload}>
              {t("runs.refresh")}
            </button>
          ) : null}
        </div>
      </div>
      <div aria-live="polite" className="live-region" data-testid="runs-refresh-error">
        {state.kind === "ready" && state.refreshError ? (
          <p className="error-text">{t("runs.refreshError", { message: state.refreshError })}</p>
        ) : null}
      </div>
      {body}
    </section>
  );
}
