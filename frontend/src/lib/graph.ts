// The workflow graph spec (workflows/spec.py) and the editor's canvas, both ways, and the rules
// the canvas checks before drawing an edge — the same rules the backend's validation applies
// (workflows/ports.py, workflows/validation.py). Pure functions: no React, no React Flow.
import type { components } from "../api/schema";

export type PortType = components["schemas"]["PortTypeEnum"];
export type PortSpec = components["schemas"]["PortShape"];
export type NodeTypeInfo = components["schemas"]["NodeTypeShape"];

export interface SpecNode {
  id: string;
  type: string;
  type_version?: number;
  title?: string;
  config?: Record<string, unknown>;
  retry?: { max_attempts?: number; backoff_s?: number };
  timeout_s?: number;
  on_error?: string;
  default_outputs?: Record<string, unknown>;
  position?: { x: number; y: number };
  [key: string]: unknown;
}

export interface SpecEdge {
  id: string;
  source: string;
  source_port: string;
  target: string;
  target_port?: string;
}

/** The top-level fields of a spec besides its nodes and edges (name, trigger, …). */
export interface GraphBase {
  schema_version: number;
  name?: string;
  [key: string]: unknown;
}

export interface GraphSpec extends GraphBase {
  nodes: SpecNode[];
  edges: SpecEdge[];
}

/** What a canvas node carries: everything of its spec node but the id and position. */
export interface PathflowNodeData {
  type: string;
  typeVersion: number;
  title: string;
  config: Record<string, unknown>;
  /** retry, timeout_s, on_error, default_outputs and any field the editor does not know. */
  extra: Record<string, unknown>;
  /** Ports the backend computed from the config (types with `ports_from_config`). */
  ports?: { inputs: PortSpec[]; outputs: PortSpec[] };
  [key: string]: unknown;
}

export interface CanvasNode {
  id: string;
  type: "pathflow";
  position: { x: number; y: number };
  data: PathflowNodeData;
  selected?: boolean;
}

export interface CanvasEdge {
  id: string;
  source: string;
  sourceHandle: string;
  target: string;
  targetHandle: string;
  selected?: boolean;
}

/** What the functions below read of a canvas node or edge (React Flow's types fit). */
export type NodeLike = Pick<CanvasNode, "id" | "position" | "data">;
export interface EdgeLike {
  id: string;
  source: string;
  sourceHandle?: string | null;
  target: string;
  targetHandle?: string | null;
}

export interface Ports {
  inputs: readonly PortSpec[];
  outputs: readonly PortSpec[];
}

const NODE_KEYS = new Set(["id", "type", "type_version", "title", "config", "position"]);

export function typeKey(name: string, version: number): string {
  return `${name}@${version}`;
}

/** The ports of a canvas node: those computed from its config, else its type's. */
export function portsOfNode(
  node: Pick<CanvasNode, "data">,
  types: ReadonlyMap<string, NodeTypeInfo>,
): Ports {
  if (node.data.ports) return node.data.ports;
  const info = types.get(typeKey(node.data.type, node.data.typeVersion));
  return info ? { inputs: info.inputs, outputs: info.outputs } : { inputs: [], outputs: [] };
}

/** A spec node as a canvas node (nodes without a position are laid out in a row). */
export function specNodeToCanvas(node: SpecNode, index: number): CanvasNode {
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (!NODE_KEYS.has(key)) extra[key] = value;
  }
  return {
    id: node.id,
    type: "pathflow",
    position: node.position ?? { x: index * 240, y: 0 },
    data: {
      type: node.type,
      typeVersion: node.type_version ?? 1,
      title: node.title ?? "",
      config: node.config ?? {},
      extra,
    },
  };
}

/** The spec's graph on the canvas. An edge without a target port goes to the target's only
 * input (as the engine reads it). */
export function specToCanvas(
  spec: GraphSpec,
  types: ReadonlyMap<string, NodeTypeInfo>,
): { nodes: CanvasNode[]; edges: CanvasEdge[] } {
  const nodes = spec.nodes.map(specNodeToCanvas);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const edges = spec.edges.map((edge) => {
    const target = byId.get(edge.target);
    const inputs = target ? portsOfNode(target, types).inputs : [];
    return {
      id: edge.id,
      source: edge.source,
      sourceHandle: edge.source_port,
      target: edge.target,
      targetHandle: edge.target_port ?? inputs[0]?.name ?? "in",
    };
  });
  return { nodes, edges };
}

export function canvasNodeToSpec(node: Pick<CanvasNode, "id" | "position" | "data">): SpecNode {
  return {
    id: node.id,
    type: node.data.type,
    type_version: node.data.typeVersion,
    ...(node.data.title ? { title: node.data.title } : {}),
    config: node.data.config,
    ...node.data.extra,
    position: { x: Math.round(node.position.x), y: Math.round(node.position.y) },
  };
}

/** The canvas as a spec, keeping the top-level fields of ``base`` (name, trigger, …). */
export function canvasToSpec(
  nodes: readonly NodeLike[],
  edges: readonly EdgeLike[],
  base: GraphBase,
): GraphSpec {
  return {
    ...base,
    schema_version: base.schema_version,
    nodes: nodes.map(canvasNodeToSpec),
    edges: edges.map((e) => ({
      id: e.id,
      source: e.source,
      source_port: e.sourceHandle ?? "",
      target: e.target,
      target_port: e.targetHandle ?? "",
    })),
  };
}

// --- connection rules ----------------------------------------------------------------------

const JSON_VALUES: ReadonlySet<PortType> = new Set<PortType>([
  "number",
  "string",
  "boolean",
  "findings",
  "case",
]);

/** Whether a value from a ``source`` port may flow into a ``target`` port (workflows/ports.py). */
export function isAssignable(source: PortType, target: PortType): boolean {
  if (target === "any" || source === target) return true;
  if (source === "any") return true; // checked at run time, as the backend does
  return target === "json" && JSON_VALUES.has(source);
}

export interface Connection {
  source: string;
  sourceHandle: string | null;
  target: string;
  targetHandle: string | null;
}

export type Refusal =
  | { code: "self" }
  | { code: "unknownPort"; node: string; port: string }
  | { code: "type"; sourcePort: string; sourceType: PortType; targetPort: string; targetType: PortType }
  | { code: "taken"; node: string; port: string; from: string }
  | { code: "duplicate" }
  | { code: "cycle"; path: string[] };

/** The path of node ids from ``from`` to ``to`` along ``edges``, or null. */
export function pathBetween(
  edges: readonly Pick<CanvasEdge, "source" | "target">[],
  from: string,
  to: string,
): string[] | null {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
  const previous = new Map<string, string>();
  const queue = [from];
  const seen = new Set([from]);
  while (queue.length > 0) {
    const node = queue.shift()!;
    if (node === to) {
      const path = [to];
      while (path[0] !== from) path.unshift(previous.get(path[0]!)!);
      return path;
    }
    for (const n of next.get(node) ?? []) {
      if (!seen.has(n)) {
        seen.add(n);
        previous.set(n, node);
        queue.push(n);
      }
    }
  }
  return null;
}

/** Why the canvas refuses ``connection``, or null when it may be drawn: port types must be
 * assignable, an input that takes one edge takes only one, and no edge may close a cycle. */
export function checkConnection(
  connection: Connection,
  nodes: readonly NodeLike[],
  edges: readonly EdgeLike[],
  types: ReadonlyMap<string, NodeTypeInfo>,
): Refusal | null {
  const { source, target } = connection;
  if (source === target) return { code: "self" };
  const sourceNode = nodes.find((n) => n.id === source);
  const targetNode = nodes.find((n) => n.id === target);
  const sourcePort = sourceNode
    ? portsOfNode(sourceNode, types).outputs.find((p) => p.name === connection.sourceHandle)
    : undefined;
  const targetPort = targetNode
    ? portsOfNode(targetNode, types).inputs.find((p) => p.name === connection.targetHandle)
    : undefined;
  if (!sourcePort) return { code: "unknownPort", node: source, port: connection.sourceHandle ?? "" };
  if (!targetPort) return { code: "unknownPort", node: target, port: connection.targetHandle ?? "" };
  if (!isAssignable(sourcePort.type, targetPort.type)) {
    return {
      code: "type",
      sourcePort: sourcePort.name,
      sourceType: sourcePort.type,
      targetPort: targetPort.name,
      targetType: targetPort.type,
    };
  }
  const into = edges.filter((e) => e.target === target && e.targetHandle === targetPort.name);
  if (
    into.some((e) => e.source === source && e.sourceHandle === sourcePort.name)
  ) {
    return { code: "duplicate" };
  }
  if (!targetPort.multiple && into.length > 0) {
    return { code: "taken", node: target, port: targetPort.name, from: into[0]!.source };
  }
  const back = pathBetween(edges, target, source);
  if (back) return { code: "cycle", path: [...back, target] };
  return null;
}

// --- ids, fragments (copy/paste) -----------------------------------------------------------

const ID_PATTERN = /^[A-Za-z0-9_-]{1,40}$/;

export function isValidNodeId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** A new node id from ``base`` (a type name) not in ``taken``: "condition", "condition_2", … */
export function freshId(base: string, taken: ReadonlySet<string>): string {
  const stem = base.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 36) || "node";
  if (!taken.has(stem)) return stem;
  for (let n = 2; ; n += 1) {
    const id = `${stem}_${n}`;
    if (!taken.has(id)) return id;
  }
}

export const FRAGMENT_KIND = "pathflow/graph-fragment";

export interface GraphFragment {
  kind: typeof FRAGMENT_KIND;
  nodes: SpecNode[];
  edges: SpecEdge[];
}

/** The selected nodes and the edges between them, as clipboard JSON. */
export function fragmentOf(
  nodes: readonly NodeLike[],
  edges: readonly EdgeLike[],
  selected: ReadonlySet<string>,
): GraphFragment {
  const picked = nodes.filter((n) => selected.has(n.id));
  const inside = edges.filter((e) => selected.has(e.source) && selected.has(e.target));
  return {
    kind: FRAGMENT_KIND,
    nodes: picked.map(canvasNodeToSpec),
    edges: canvasToSpec([], inside, { schema_version: 1 }).edges,
  };
}

export function parseFragment(text: string): GraphFragment | null {
  try {
    const value = JSON.parse(text) as Partial<GraphFragment>;
    if (value.kind !== FRAGMENT_KIND || !Array.isArray(value.nodes) || !Array.isArray(value.edges)) {
      return null;
    }
    return value as GraphFragment;
  } catch {
    return null;
  }
}

/** ``fragment``'s nodes and edges renamed where their ids are taken, moved by ``offset``. */
export function placeFragment(
  fragment: GraphFragment,
  takenNodeIds: ReadonlySet<string>,
  takenEdgeIds: ReadonlySet<string>,
  offset: { x: number; y: number },
): { nodes: CanvasNode[]; edges: CanvasEdge[] } {
  const nodeIds = new Set(takenNodeIds);
  const renamed = new Map<string, string>();
  const nodes = fragment.nodes.map((node, index) => {
    const id = freshId(node.id, nodeIds);
    nodeIds.add(id);
    renamed.set(node.id, id);
    const canvas = specNodeToCanvas({ ...node, id }, index);
    return {
      ...canvas,
      position: { x: canvas.position.x + offset.x, y: canvas.position.y + offset.y },
      selected: true,
    };
  });
  const edgeIds = new Set(takenEdgeIds);
  const edges = fragment.edges.flatMap((edge) => {
    const source = renamed.get(edge.source);
    const target = renamed.get(edge.target);
    if (!source || !target) return [];
    const id = freshId(edge.id, edgeIds);
    edgeIds.add(id);
    return [
      {
        id,
        source,
        sourceHandle: edge.source_port,
        target,
        targetHandle: edge.target_port ?? "in",
      },
    ];
  });
  return { nodes, edges };
}

// --- expressions ---------------------------------------------------------------------------

const CASE_FIELDS = [
  "case.accession",
  "case.case_type",
  "case.clinical_info",
  "case.findings",
  "case.specimens",
  "case.specimens[0].data",
  "case.specimens[0].tiles",
  "case.specimens[0].tiles[0]",
  "case.patient.sex",
  "case.patient.birth_date",
];

/** What an expression field of node ``nodeId`` may read: ``case.*`` and ``nodes.<id>.<port>``
 * of every other node. */
export function expressionSuggestions(
  nodeId: string | null,
  nodes: readonly NodeLike[],
  types: ReadonlyMap<string, NodeTypeInfo>,
): string[] {
  const fromNodes = nodes
    .filter((n) => n.id !== nodeId)
    .flatMap((n) => portsOfNode(n, types).outputs.map((p) => `nodes.${n.id}.${p.name}`));
  return [...CASE_FIELDS, ...fromNodes.sort()];
}
