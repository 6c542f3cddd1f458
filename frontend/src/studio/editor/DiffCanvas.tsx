// Two versions on one read-only canvas: nodes and edges coloured added, removed, changed or
// moved, and the config keys each changed node differs in.
import { Background, ReactFlow, ReactFlowProvider } from "@xyflow/react";
import type { Edge, Node } from "@xyflow/react";
import { useMemo } from "react";
import { useI18n } from "../../i18n";
import { diffView } from "../../lib/diff";
import type { VersionDiff } from "../../lib/diff";
import type { GraphSpec } from "../../lib/graph";

export function DiffCanvas({ diff, older, newer }: { diff: VersionDiff; older: GraphSpec; newer: GraphSpec }) {
  const { t } = useI18n();
  const view = useMemo(() => diffView(diff, older, newer), [diff, older, newer]);
  const nodes: Node[] = view.nodes.map((n, i) => ({
    id: n.id,
    position: n.position ?? { x: i * 220, y: 0 },
    data: { label: `${n.title || n.id} (${n.id})` },
    className: `diff-node diff--${n.mark}`,
    draggable: false,
    connectable: false,
    ariaLabel: `${n.id}: ${n.mark}`,
  }));
  const edges: Edge[] = view.edges.map((e) => ({
    id: e.id,
    source: e.source,
    target: e.target,
    className: `diff-edge diff--${e.mark}`,
  }));
  const changed = view.nodes.filter((n) => n.mark === "changed");
  return (
    <div className="diff-view" data-testid="diff-view">
      <div className="diff-canvas">
        <ReactFlowProvider>
          <ReactFlow nodes={nodes} edges={edges} fitView nodesDraggable={false} nodesConnectable={false} proOptions={{ hideAttribution: true }}>
            <Background />
          </ReactFlow>
        </ReactFlowProvider>
      </div>
      <ul className="diff-legend">
        {(["added", "removed", "changed", "moved"] as const).map((mark) => (
          <li key={mark} className={`diff--${mark}`}>
            {t(`studio.diff.${mark}`)}: {view.nodes.filter((n) => n.mark === mark).map((n) => n.id).join(", ") || "—"}
          </li>
        ))}
      </ul>
      {changed.length ? (
        <ul data-testid="diff-changes">
          {changed.map((n) => (
            <li key={n.id}>
              <code>{n.id}</code>: {n.fields.filter((f) => f !== "config").join(", ")}
              {n.configKeys.length ? ` config: ${n.configKeys.join(", ")}` : ""}
            </li>
          ))}
        </ul>
      ) : null}
      {diff.template_version ? (
        <p>{t("studio.diff.template", { from: diff.template_version.from, to: diff.template_version.to })}</p>
      ) : null}
    </div>
  );
}
