// Auto-layout: the layered layout of ./layered (left to right, as data flows), from the sizes
// the canvas measured, or, before a node was drawn, the size its ports make it.
import { portsOfNode } from "../../lib/graph";
import type { EdgeLike, GraphSpec, NodeLike, NodeTypeInfo } from "../../lib/graph";
import { layeredLayout } from "./layered";
import type { Positions } from "./layered";

type Measured = NodeLike & { measured?: { width?: number; height?: number } };

/** A node's size before it is drawn (see .pf-node in studio.css: its ports set its height). */
export function estimatedSize(
  node: Measured,
  types: ReadonlyMap<string, NodeTypeInfo>,
): { width: number; height: number } {
  const ports = portsOfNode(node, types);
  const rows = Math.max(ports.inputs.length, ports.outputs.length, 1);
  return {
    width: node.measured?.width ?? 220,
    height: node.measured?.height ?? Math.max(56, 47 + rows * 18),
  };
}

export function autoLayout(
  nodes: readonly Measured[],
  edges: readonly EdgeLike[],
  types: ReadonlyMap<string, NodeTypeInfo> = new Map(),
): Positions {
  return layeredLayout(
    nodes.map((n) => ({ id: n.id, ...estimatedSize(n, types) })),
    edges,
  );
}

/**
 * The canvas nodes of a graph as it opens: a graph saved without any position (an imported
 * file, a generated one) opens laid out rather than as one long row.
 */
export function placedOnOpen<N extends Measured>(
  spec: Pick<GraphSpec, "nodes">,
  nodes: readonly N[],
  edges: readonly EdgeLike[],
  types: ReadonlyMap<string, NodeTypeInfo>,
): N[] {
  if (nodes.length < 2 || spec.nodes.some((n) => n.position)) return [...nodes];
  const positions = autoLayout(nodes, edges, types);
  return nodes.map((n) => ({ ...n, position: positions.get(n.id) ?? n.position }));
}

/** Fit the whole graph with the bottom band kept clear of the minimap (bottom right, 200×150),
 * so that no node is drawn under it where it cannot be clicked. */
export const FIT_VIEW = { maxZoom: 1, padding: { top: "24px", right: "24px", bottom: "180px", left: "24px" } as const };
