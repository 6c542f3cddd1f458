import type { GraphNode, NodeAttempt, RunDetail } from "../api/models";
import { useI18n } from "../i18n";
import { formatDuration } from "../lib/format";
import { attemptsOf, childAttemptsOf } from "./progress";
import { StatusBadge } from "./StatusBadge";

function JsonBlock({ label, value, testId }: { label: string; value: unknown; testId: string }) {
  return (
    <details data-testid={testId}>
      <summary>{label}</summary>
      <pre className="json">{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}

function Attempt({
  attempt,
  showIo,
  child,
}: {
  attempt: NodeAttempt;
  showIo: boolean;
  /** For a node of a sub-workflow: its id inside the child graph. */
  child?: string;
}) {
  const { t } = useI18n();
  return (
    <div
      className="attempt"
      data-testid={child ? "child-attempt" : "node-attempt"}
      data-status={attempt.status}
    >
      {child ? <code className="node-id">{child}</code> : null}{" "}
      <span>{t("detail.attempt", { n: attempt.attempt })}</span>{" "}
      <StatusBadge status={attempt.status} />{" "}
      <span className="muted">{formatDuration(attempt.duration_ms)}</span>
      {attempt.error ? (
        <p className="error-text" data-testid="attempt-error">
          {attempt.error}
        </p>
      ) : null}
      {showIo ? (
        <>
          <JsonBlock label={t("detail.inputs")} value={attempt.inputs} testId="node-inputs" />
          <JsonBlock label={t("detail.outputs")} value={attempt.outputs} testId="node-outputs" />
        </>
      ) : null}
    </div>
  );
}

export interface RunStepsProps {
  run: RunDetail;
  /** Offered on each step when set (the user may act and the run has ended). */
  onRerun?: ((node: GraphNode) => void) | undefined;
  busy?: boolean;
}

/** The graph's nodes in execution order with their status and every attempt. */
export function RunSteps({ run, onRerun, busy = false }: RunStepsProps) {
  const { t } = useI18n();
  const showIo = run.permissions.see_io;
  return (
    <section aria-labelledby="steps-heading">
      <h2 id="steps-heading">{t("detail.steps")}</h2>
      {!showIo ? (
        <p className="muted" data-testid="io-withheld">
          {t("detail.withheld")}
        </p>
      ) : null}
      <ol className="steps">
        {run.nodes.map((node) => {
          const attempts = attemptsOf(run, node.node_id);
          const latest = attempts[attempts.length - 1];
          const status = latest?.status ?? "pending";
          return (
            <li
              key={node.node_id}
              className={status === "failed" ? "step step--failed" : "step"}
              data-testid="detail-node"
              data-node-id={node.node_id}
              data-status={status}
            >
              <div className="step-head">
                <span className="node-title">{node.title}</span>
                <code className="node-id">{node.node_id}</code>
                <code className="muted">{node.node_type}</code>
                <StatusBadge status={status} />
                {attempts.length > 1 ? (
                  <span className="muted">{t("detail.attempts", { n: attempts.length })}</span>
                ) : null}
                {latest ? (
                  <span className="muted">{formatDuration(latest.duration_ms)}</span>
                ) : (
                  <span className="muted">{t("detail.notRun")}</span>
                )}
                {node.reused && run.rerun_of ? (
                  <span className="tag">{t("detail.reused", { id: run.rerun_of })}</span>
                ) : null}
                {onRerun ? (
                  <span className="step-actions">
                    <button
                      type="button"
                      disabled={busy}
                      data-testid="rerun-from"
                      aria-label={t("detail.rerunLabel", { node: node.title })}
                      onClick={() => onRerun(node)}
                    >
                      {t("detail.rerunFrom")}
                    </button>
                  </span>
                ) : null}
              </div>
              {attempts.map((attempt) => (
                <Attempt key={attempt.attempt} attempt={attempt} showIo={showIo} />
              ))}
              {childAttemptsOf(run, node.node_id).map((attempt) => (
                <Attempt
                  key={`${attempt.node_id}#${attempt.attempt}`}
                  attempt={attempt}
                  showIo={showIo}
                  child={attempt.node_id.slice(node.node_id.length + 1)}
                />
              ))}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
