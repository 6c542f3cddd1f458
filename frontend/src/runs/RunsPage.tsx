import { api as defaultClient } from "../api/client";
import type { ApiClient } from "../api/client";
import { useI18n } from "../i18n";
import { shouldPoll } from "../lib/status";
import { LiveTag, NotReady } from "./LoadStateView";
import { useHashRoute } from "./route";
import { RunDetailPage } from "./RunDetailPage";
import { RunsTable } from "./RunsTable";
import { useRuns } from "./useRuns";

export interface RunsPageProps {
  client?: ApiClient;
  departmentName?: string | undefined;
  pollMs?: number;
}

/** The runs list at "#/", a run's detail at "#/runs/{id}". */
export function RunsPage(props: RunsPageProps) {
  const route = useHashRoute();
  if (route.kind === "run") {
    // Keyed by id: another run starts from a clean state.
    return <RunDetailPage key={route.id} id={route.id} client={props.client} />;
  }
  return <RunsList {...props} />;
}

function RunsList({ client = defaultClient, departmentName, pollMs }: RunsPageProps) {
  const { t } = useI18n();
  const { state, reload } = useRuns(client, { pollMs });
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
