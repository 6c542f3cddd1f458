// A version diff (GET /api/v1/workflows/{slug}/diff) as colours on one canvas: the newer
// graph's nodes and edges plus the older one's removed ones, each marked.
import type { components } from "../api/schema";
import type { GraphSpec, SpecEdge, SpecNode } from "./graph";

export type VersionDiff = components["schemas"]["VersionDiffShape"];
export type DiffMark = "added" | "removed" | "changed" | "moved" | "same";

export interface DiffView {
  nodes: (SpecNode & { mark: DiffMark; configKeys: string[]; fields: string[] })[];
  edges: (SpecEdge & { mark: DiffMark })[];
}

const edgeKey = (e: Pick<SpecEdge, "id">) => e.id;

export function diffView(diff: VersionDiff, older: GraphSpec, newer: GraphSpec): DiffView {
  const added = new Set(diff.nodes.added);
  const moved = new Set(diff.nodes.moved);
  const changed = new Map(diff.nodes.changed.map((c) => [c.id, c]));
  const nodes: DiffView["nodes"] = newer.nodes.map((node) => {
    const change = changed.get(node.id);
    const mark: DiffMark = added.has(node.id)
      ? "added"
      : change
        ? "changed"
        : moved.has(node.id)
          ? "moved"
          : "same";
    return { ...node, mark, configKeys: change?.config_keys ?? [], fields: change?.fields ?? [] };
  });
  const removed = new Set(diff.nodes.removed);
  for (const node of older.nodes) {
    if (removed.has(node.id)) nodes.push({ ...node, mark: "removed", configKeys: [], fields: [] });
  }
  const addedEdges = new Set(diff.edges.added.map(edgeKey));
  const removedEdges = new Set(diff.edges.removed.map(edgeKey));
  const edges: DiffView["edges"] = newer.edges.map((edge) => ({
    ...edge,
    mark: addedEdges.has(edge.id) ? "added" : "same",
  }));
  for (const edge of older.edges) {
    // An edge whose ends changed keeps its id: the old one is drawn too, as removed.
    if (removedEdges.has(edge.id)) edges.push({ ...edge, id: `${edge.id}~old`, mark: "removed" });
  }
  return { nodes, edges };
}
