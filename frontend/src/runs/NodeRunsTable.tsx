import type { NodeRun } from "../api/models";
import { useI18n } from "../i18n";
import { formatDuration } from "../lib/format";
import { StatusBadge } from "./StatusBadge";

export function NodeRunsTable({ runId, nodeRuns }: { runId: number; nodeRuns: NodeRun[] }) {
  const { t } = useI18n();

  if (nodeRuns.length === 0) {
    return <p className="muted">{t("nodes.empty")}</p>;
  }

  return (
    <table className="node-runs">
      <caption className="visually-hidden">{t("nodes.caption", { id: runId })}</caption>
      <thead>
        <tr>
          <th scope="col">{t("nodes.node")}</th>
          <th scope="col">{t("nodes.type")}</th>
          <th scope="col">{t("nodes.status")}</th>
          <th scope="col" className="num">
            {t("nodes.attempt")}
          </th>
          <th scope="col" className="num">
            {t("nodes.duration")}
          </th>
          <th scope="col">{t("nodes.error")}</th>
        </tr>
      </thead>
      <tbody>
        {nodeRuns.map((node) => (
          <tr
            key={node.node_id}
            data-testid="node-run"
            data-status={node.status}
            className={node.status === "failed" ? "node-run node-run--failed" : "node-run"}
          >
            <th scope="row">
              <span className="node-title">{node.title || node.node_id}</span>
              {node.title && node.title !== node.node_id ? (
                <code className="node-id">{node.node_id}</code>
              ) : null}
            </th>
            <td>
              <code>{node.node_type}</code>
            </td>
            <td>
              <StatusBadge status={node.status} />
            </td>
            <td className="num">{node.attempt}</td>
            <td className="num">{formatDuration(node.duration_ms)}</td>
            <td>
              {node.error ? (
                <span className="error-text" data-testid="node-error">
                  {node.error}
                </span>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
