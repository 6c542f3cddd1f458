// A layered ("Sugiyama") layout for workflow graphs, left to right as data flows: break cycles,
// put every node one layer right of its inputs, order each layer to cut edge crossings, then
// place nodes close to their neighbours without overlaps. Pure and synchronous: 200 nodes and
// 250 edges take a few milliseconds (elkjs took 0.5–2 s on the same graph, most of it spent
// warming up its compiled Java in a fresh page; see docs/performance.md).

export interface LayoutNode {
  id: string;
  width: number;
  height: number;
}

export interface LayoutEdge {
  source: string;
  target: string;
}

export interface LayoutOptions {
  /** Gap between neighbours in a layer (and between packed components). */
  nodeGap: number;
  /** Gap between the widest node of a layer and the next layer. */
  layerGap: number;
  /** Gap kept around the bend points of long edges (they pass between nodes). */
  edgeGap: number;
  /** Ordering sweeps (down and up count one each). */
  sweeps: number;
  /** Rounds of pulling nodes towards their neighbours. */
  placementRounds: number;
  /** Components are packed in rows about this many times wider than tall. */
  aspectRatio: number;
}

export const DEFAULT_LAYOUT_OPTIONS: LayoutOptions = {
  nodeGap: 40,
  layerGap: 90,
  edgeGap: 20,
  sweeps: 24,
  placementRounds: 8,
  aspectRatio: 1.6,
};

export type Positions = Map<string, { x: number; y: number }>;

/** One vertex of the layered graph: a node, or a bend point of an edge spanning layers. */
interface Vertex {
  index: number;
  id: string | null;
  width: number;
  height: number;
  layer: number;
  order: number;
  /** Sort key while ordering a layer. */
  key: number;
  preds: number[];
  succs: number[];
  y: number;
}

/** Connected components (ignoring direction), each in the nodes' given order. */
export function components(count: number, edges: readonly (readonly [number, number])[]): number[][] {
  const parent = Array.from({ length: count }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  for (const [a, b] of edges) parent[find(a)] = find(b);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < count; i += 1) {
    const root = find(i);
    const group = groups.get(root);
    if (group) group.push(i);
    else groups.set(root, [i]);
  }
  return [...groups.values()];
}

/** The edges with every edge that closes a cycle turned round (depth-first, in node order). */
export function acyclic(count: number, edges: readonly (readonly [number, number])[]): [number, number][] {
  const out: number[][] = Array.from({ length: count }, () => []);
  edges.forEach(([a], k) => out[a]!.push(k));
  const state = new Uint8Array(count); // 0 new, 1 on the stack, 2 done
  const reversed = new Set<number>();
  const hasPred = new Uint8Array(count);
  for (const [, b] of edges) hasPred[b] = 1;
  const starts = [...Array(count).keys()].sort((a, b) => hasPred[a]! - hasPred[b]!);
  for (const start of starts) {
    if (state[start]) continue;
    const stack: [number, number][] = [[start, 0]];
    state[start] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [v, next] = top;
      if (next < out[v]!.length) {
        top[1] += 1;
        const k = out[v]![next]!;
        const w = edges[k]![1];
        if (state[w] === 1) reversed.add(k);
        else if (state[w] === 0) {
          state[w] = 1;
          stack.push([w, 0]);
        }
      } else {
        state[v] = 2;
        stack.pop();
      }
    }
  }
  return edges.map(([a, b], k) => (reversed.has(k) ? [b, a] : [a, b]));
}

/** Layers of a DAG: longest path from the sources, then sources moved next to their targets. */
export function layers(count: number, edges: readonly (readonly [number, number])[]): number[] {
  const preds: number[][] = Array.from({ length: count }, () => []);
  const succs: number[][] = Array.from({ length: count }, () => []);
  const indegree = new Array<number>(count).fill(0);
  for (const [a, b] of edges) {
    succs[a]!.push(b);
    preds[b]!.push(a);
    indegree[b]! += 1;
  }
  const layer = new Array<number>(count).fill(0);
  const topo: number[] = [];
  const queue = [...Array(count).keys()].filter((v) => indegree[v] === 0);
  for (let head = 0; head < queue.length; head += 1) {
    const v = queue[head]!;
    topo.push(v);
    for (const w of succs[v]!) {
      layer[w] = Math.max(layer[w]!, layer[v]! + 1);
      indegree[w]! -= 1;
      if (indegree[w] === 0) queue.push(w);
    }
  }
  // A source feeding only later layers sits just before the first of them (shorter edges).
  for (let i = topo.length - 1; i >= 0; i -= 1) {
    const v = topo[i]!;
    if (preds[v]!.length === 0 && succs[v]!.length > 0) {
      layer[v] = Math.min(...succs[v]!.map((w) => layer[w]!)) - 1;
    }
  }
  const lowest = Math.min(0, ...layer);
  return layer.map((l) => l - lowest);
}

/** Crossings between two neighbouring layers (edges as [upper order, lower order]). */
export function crossings(pairs: [number, number][], lowerSize: number): number {
  pairs.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  // Count inversions of the lower ends with a Fenwick tree.
  const tree = new Array<number>(lowerSize + 1).fill(0);
  let seen = 0;
  let count = 0;
  for (const [, lower] of pairs) {
    let atMost = 0;
    for (let i = lower + 1; i > 0; i -= i & -i) atMost += tree[i]!;
    count += seen - atMost;
    for (let i = lower + 1; i <= lowerSize; i += i & -i) tree[i]! += 1;
    seen += 1;
  }
  return count;
}

function totalCrossings(rows: Vertex[][], all: readonly Vertex[]): number {
  let count = 0;
  for (let l = 0; l + 1 < rows.length; l += 1) {
    const pairs: [number, number][] = [];
    for (const v of rows[l]!) for (const w of v.succs) pairs.push([v.order, all[w]!.order]);
    count += crossings(pairs, rows[l + 1]!.length);
  }
  return count;
}

/** Reorder ``row`` by the mean order of each vertex's neighbours (those without keep theirs). */
function sortByBarycenter(row: Vertex[], upstream: boolean, all: readonly Vertex[]): void {
  for (const v of row) {
    const near = upstream ? v.preds : v.succs;
    let sum = 0;
    for (const w of near) sum += all[w]!.order;
    v.key = near.length ? sum / near.length : v.order;
  }
  row.sort((a, b) => a.key - b.key || a.order - b.order);
  for (let i = 0; i < row.length; i += 1) row[i]!.order = i;
}

/**
 * Positions along a layer closest (least squares, weighted) to ``wanted`` that keep the order
 * and the gaps: pool-adjacent-violators on the positions less their cumulative minimum offsets.
 */
export function placeInOrder(wanted: number[], weights: number[], gaps: number[]): number[] {
  const offset = [0];
  for (let i = 1; i < wanted.length; i += 1) offset.push(offset[i - 1]! + gaps[i - 1]!);
  const blocks: { total: number; weight: number; size: number }[] = [];
  wanted.forEach((y, i) => {
    let block = { total: (y - offset[i]!) * weights[i]!, weight: weights[i]!, size: 1 };
    while (blocks.length) {
      const last = blocks[blocks.length - 1]!;
      if (last.total / last.weight < block.total / block.weight) break;
      blocks.pop();
      block = { total: last.total + block.total, weight: last.weight + block.weight, size: last.size + block.size };
    }
    blocks.push(block);
  });
  const placed: number[] = [];
  for (const block of blocks) {
    const level = block.total / block.weight;
    for (let k = 0; k < block.size; k += 1) placed.push(level + offset[placed.length]!);
  }
  return placed;
}

function gapBetween(a: Vertex, b: Vertex, options: LayoutOptions): number {
  const gap = a.id !== null && b.id !== null ? options.nodeGap : options.edgeGap;
  return (a.height + b.height) / 2 + gap;
}

function placeRow(
  row: Vertex[],
  neighbours: (v: Vertex) => number[],
  all: readonly Vertex[],
  options: LayoutOptions,
): void {
  if (row.length === 0) return;
  const wanted = row.map((v) => {
    const near = neighbours(v);
    if (near.length === 0) return v.y;
    const ys = near.map((w) => all[w]!.y).sort((a, b) => a - b);
    const mid = ys.length >> 1;
    return ys.length % 2 ? ys[mid]! : (ys[mid - 1]! + ys[mid]!) / 2;
  });
  // Bend points weigh more, so long edges run straight.
  const weights = row.map((v) => (v.id === null ? 2 : 1) * Math.max(1, neighbours(v).length));
  const gaps = row.slice(1).map((v, i) => gapBetween(row[i]!, v, options));
  placeInOrder(wanted, weights, gaps).forEach((y, i) => (row[i]!.y = y));
}

interface Block {
  width: number;
  height: number;
  positions: Positions;
}

function layoutComponent(
  nodes: readonly LayoutNode[],
  edges: readonly (readonly [number, number])[],
  options: LayoutOptions,
): Block {
  const dag = acyclic(nodes.length, edges);
  const layerOf = layers(nodes.length, dag);
  const vertices: Vertex[] = nodes.map((n, i) => ({
    index: i,
    id: n.id,
    width: n.width,
    height: n.height,
    layer: layerOf[i]!,
    order: 0,
    key: 0,
    preds: [],
    succs: [],
    y: 0,
  }));
  for (const [a, b] of dag) {
    let from = a;
    for (let l = layerOf[a]! + 1; l < layerOf[b]!; l += 1) {
      const bend: Vertex = {
        index: vertices.length,
        id: null,
        width: 0,
        height: 0,
        layer: l,
        order: 0,
        key: 0,
        preds: [from],
        succs: [],
        y: 0,
      };
      vertices.push(bend);
      vertices[from]!.succs.push(bend.index);
      from = bend.index;
    }
    vertices[from]!.succs.push(b);
    vertices[b]!.preds.push(from);
  }
  const depth = Math.max(...vertices.map((v) => v.layer)) + 1;
  const rows: Vertex[][] = Array.from({ length: depth }, () => []);
  // First order: breadth first from the first layer, so neighbours start close together.
  const seen = new Uint8Array(vertices.length);
  const queue = vertices.filter((v) => v.layer === 0).map((v) => v.index);
  queue.forEach((i) => (seen[i] = 1));
  for (let head = 0; head < queue.length; head += 1) {
    const v = vertices[queue[head]!]!;
    v.order = rows[v.layer]!.length;
    rows[v.layer]!.push(v);
    for (const w of [...v.succs, ...v.preds]) {
      if (!seen[w]) {
        seen[w] = 1;
        queue.push(w);
      }
    }
  }

  let best = rows.map((row) => row.map((v) => v.index));
  let fewest = totalCrossings(rows, vertices);
  let stale = 0;
  for (let sweep = 0; sweep < options.sweeps && fewest > 0 && stale < 4; sweep += 1) {
    if (sweep % 2 === 0) for (let l = 1; l < depth; l += 1) sortByBarycenter(rows[l]!, true, vertices);
    else for (let l = depth - 2; l >= 0; l -= 1) sortByBarycenter(rows[l]!, false, vertices);
    const count = totalCrossings(rows, vertices);
    stale += 1;
    if (count < fewest) {
      stale = 0;
      fewest = count;
      best = rows.map((row) => row.map((v) => v.index));
    }
  }
  best.forEach((order, l) => {
    const row = order.map((i) => vertices[i]!);
    row.forEach((v, k) => (v.order = k));
    rows[l] = row;
  });

  for (const row of rows) {
    let y = 0;
    row.forEach((v, i) => {
      if (i > 0) y += gapBetween(row[i - 1]!, v, options);
      v.y = y;
    });
  }
  for (let round = 0; round < options.placementRounds; round += 1) {
    if (round % 2 === 0) for (let l = 1; l < depth; l += 1) placeRow(rows[l]!, (v) => v.preds, vertices, options);
    else for (let l = depth - 2; l >= 0; l -= 1) placeRow(rows[l]!, (v) => v.succs, vertices, options);
  }

  const columnX: number[] = [];
  let x = 0;
  for (const row of rows) {
    columnX.push(x);
    x += Math.max(0, ...row.map((v) => v.width)) + options.layerGap;
  }
  const real = vertices.filter((v) => v.id !== null);
  const top = Math.min(...real.map((v) => v.y - v.height / 2));
  const positions: Positions = new Map();
  let bottom = 0;
  for (const v of real) {
    const y = v.y - v.height / 2 - top;
    positions.set(v.id!, { x: columnX[v.layer]!, y });
    bottom = Math.max(bottom, y + v.height);
  }
  const right = Math.max(...real.map((v) => columnX[v.layer]! + v.width));
  return { width: right, height: bottom, positions };
}

/** Shelf-pack laid-out components in rows, the largest first. */
function pack(blocks: Block[], options: LayoutOptions): Positions {
  const area = blocks.reduce((s, b) => s + (b.width + options.nodeGap) * (b.height + options.nodeGap), 0);
  const rowWidth = Math.max(
    Math.sqrt(area * options.aspectRatio),
    ...blocks.map((b) => b.width),
  );
  const positions: Positions = new Map();
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const block of blocks) {
    if (x > 0 && x + block.width > rowWidth) {
      x = 0;
      y += rowHeight + options.nodeGap;
      rowHeight = 0;
    }
    for (const [id, p] of block.positions) positions.set(id, { x: p.x + x, y: p.y + y });
    x += block.width + options.nodeGap;
    rowHeight = Math.max(rowHeight, block.height);
  }
  return positions;
}

/** Top-left positions of every node; edges naming unknown nodes and self-loops are ignored. */
export function layeredLayout(
  nodes: readonly LayoutNode[],
  edges: readonly LayoutEdge[],
  options: LayoutOptions = DEFAULT_LAYOUT_OPTIONS,
): Positions {
  const indexOf = new Map(nodes.map((n, i) => [n.id, i]));
  const links: [number, number][] = [];
  for (const e of edges) {
    const a = indexOf.get(e.source);
    const b = indexOf.get(e.target);
    if (a !== undefined && b !== undefined && a !== b) links.push([a, b]);
  }
  const blocks = components(nodes.length, links).map((members) => {
    const local = new Map(members.map((m, i) => [m, i]));
    const inside = links
      .filter(([a]) => local.has(a))
      .map(([a, b]) => [local.get(a)!, local.get(b)!] as const);
    return layoutComponent(
      members.map((m) => nodes[m]!),
      inside,
      options,
    );
  });
  blocks.sort((a, b) => b.width * b.height - a.width * a.height);
  return pack(blocks, options);
}
