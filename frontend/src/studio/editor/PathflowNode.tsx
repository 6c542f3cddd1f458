// One node on the canvas: its title, type and id, a handle per typed port, and what the
// decorations say about it (problems, a test run's status). At module scope and memoised.
import { Handle, Position } from "@xyflow/react";
import type { NodeProps } from "@xyflow/react";
import { memo } from "react";
import { statusLabel, useI18n } from "../../i18n";
import { portsOfNode } from "../../lib/graph";
import type { PortSpec } from "../../lib/graph";
import { useDecorations } from "./decorations";
import type { FlowNode } from "./store";

const NO_PROBLEMS: never[] = [];

function PortHandle({ nodeId, port, kind, index, count }: {
  nodeId: string;
  port: PortSpec;
  kind: "source" | "target";
  index: number;
  count: number;
}) {
  const problems = useDecorations((d) => d.problems.byPort.get(`${nodeId}:${port.name}`));
  const top = `${((index + 1) / (count + 1)) * 100}%`;
  return (
    <>
      <Handle
        type={kind}
        id={port.name}
        position={kind === "source" ? Position.Right : Position.Left}
        style={{ top }}
        className={problems ? "port port--problem" : "port"}
        data-port={port.name}
        data-port-type={port.type}
        title={`${port.title} (${port.type})${problems ? ` — ${problems.map((p) => p.message).join("; ")}` : ""}`}
      />
      <span className={`port-label port-label--${kind}`} style={{ top }} aria-hidden="true">
        {port.title}
      </span>
    </>
  );
}

function NodeTags({ pinned, stale }: { pinned: boolean; stale: boolean }) {
  const { t } = useI18n();
  if (!pinned && !stale) return null;
  return (
    <span className="pf-node-tags">
      {pinned ? <span className="tag tag--pinned" data-testid="node-pinned" title={t("studio.bench.pinnedHint")}>{t("studio.bench.pinnedTag")}</span> : null}
      {stale ? <span className="tag tag--stale" data-testid="node-stale" title={t("studio.bench.staleHint")}>{t("studio.bench.staleTag")}</span> : null}
    </span>
  );
}

/** A node lists its first few problems; the Problems tab and the inspector list them all (a
 * render node can have dozens — one per report element not filled — and would cover the canvas). */
const PROBLEMS_ON_NODE = 3;

function PathflowNodeView({ id, data, selected }: NodeProps<FlowNode>) {
  const { lang, t } = useI18n();
  const types = useDecorations((d) => d.types);
  const problems = useDecorations((d) => d.problems.byNode.get(id) ?? NO_PROBLEMS);
  const status = useDecorations((d) => d.statuses[id]);
  const pinned = useDecorations((d) => id in d.pins);
  const stale = useDecorations((d) => d.stale.has(id));
  const ports = portsOfNode({ data }, types);
  const info = types.get(`${data.type}@${data.typeVersion}`);
  const rows = Math.max(ports.inputs.length, ports.outputs.length, 1);
  const classes = ["pf-node"];
  if (selected) classes.push("pf-node--selected");
  if (problems.length) classes.push("pf-node--problem");
  if (status) classes.push(`pf-node--${status}`);
  if (pinned) classes.push("pf-node--pinned");
  if (stale) classes.push("pf-node--stale");
  return (
    <div
      className={classes.join(" ")}
      style={{ minHeight: 44 + rows * 18 }}
      data-testid="canvas-node"
      data-node-id={id}
      data-status={status ?? ""}
      data-problems={problems.length}
      data-pinned={pinned}
      data-stale={stale}
    >
      <div className="pf-node-title">{data.title || info?.title || data.type}</div>
      <div className="pf-node-meta">
        <code>{id}</code> · {info?.title ?? data.type}
      </div>
      {status ? (
        <span className={`badge badge--${status.replace(/_/g, "-")}`} data-testid="node-status">
          {statusLabel(lang, status)}
        </span>
      ) : null}
      <NodeTags pinned={pinned} stale={stale} />
      {problems.length ? (
        <ul className="pf-node-problems" data-testid="node-problems">
          {problems.slice(0, PROBLEMS_ON_NODE).map((p, i) => (
            <li key={i}>{p.message}</li>
          ))}
          {problems.length > PROBLEMS_ON_NODE ? (
            <li className="pf-node-problems-more" data-testid="node-problems-more">
              {t("studio.node.moreProblems", { n: problems.length - PROBLEMS_ON_NODE })}
            </li>
          ) : null}
        </ul>
      ) : null}
      {ports.inputs.map((port, index) => (
        <PortHandle key={`in-${port.name}`} nodeId={id} port={port} kind="target" index={index} count={ports.inputs.length} />
      ))}
      {ports.outputs.map((port, index) => (
        <PortHandle key={`out-${port.name}`} nodeId={id} port={port} kind="source" index={index} count={ports.outputs.length} />
      ))}
    </div>
  );
}

export const PathflowNode = memo(PathflowNodeView);

/** Module scope: React Flow re-creates every node when this object changes identity. */
export const NODE_TYPES = { pathflow: PathflowNode };
