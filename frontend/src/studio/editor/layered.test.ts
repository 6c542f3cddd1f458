import { describe, expect, it } from "vitest";
import type { GraphSpec, NodeTypeInfo } from "../../lib/graph";
import {
  acyclic,
  components,
  crossings,
  layeredLayout,
  layers,
  placeInOrder,
} from "./layered";
import type { LayoutEdge, LayoutNode, Positions } from "./layered";
import { autoLayout, estimatedSize, placedOnOpen } from "./layout";

/** A reproducible random graph shaped like bench/editor_load.py's: a tree plus extra edges. */
function randomGraph(count: number, edgeCount: number, seed = 7) {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const below = (n: number) => Math.floor(random() * n);
  const pairs = new Set<string>();
  for (let i = 1; i < count; i += 1) pairs.add(`${below(i)},${i}`);
  while (pairs.size < edgeCount) {
    const target = 2 + below(count - 2);
    pairs.add(`${1 + below(target - 1)},${target}`);
  }
  const nodes: LayoutNode[] = Array.from({ length: count }, (_, i) => ({
    id: `n${i}`,
    width: 180 + (i % 4) * 20,
    height: 65 + (i % 3) * 18,
  }));
  const edges: LayoutEdge[] = [...pairs].map((p) => {
    const [s, t] = p.split(",");
    return { source: `n${s}`, target: `n${t}` };
  });
  return { nodes, edges };
}

function overlaps(nodes: readonly LayoutNode[], positions: Positions): string[] {
  const boxes = nodes.map((n) => ({ ...n, ...positions.get(n.id)! }));
  const found: string[] = [];
  boxes.forEach((a, i) =>
    boxes.slice(i + 1).forEach((b) => {
      if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height) {
        found.push(`${a.id}/${b.id}`);
      }
    }),
  );
  return found;
}

describe("layered layout", () => {
  it("places a chain left to right on one line", () => {
    const nodes = ["a", "b", "c"].map((id) => ({ id, width: 200, height: 80 }));
    const positions = layeredLayout(nodes, [
      { source: "a", target: "b" },
      { source: "b", target: "c" },
    ]);
    expect(positions.get("a")).toEqual({ x: 0, y: 0 });
    expect(positions.get("b")).toEqual({ x: 290, y: 0 });
    expect(positions.get("c")).toEqual({ x: 580, y: 0 });
  });

  it("lays out 200 nodes and 250 edges without overlaps, every edge pointing right", () => {
    const { nodes, edges } = randomGraph(200, 250);
    const positions = layeredLayout(nodes, edges);
    expect(positions.size).toBe(200);
    expect(overlaps(nodes, positions)).toEqual([]);
    const backwards = edges.filter((e) => positions.get(e.source)!.x >= positions.get(e.target)!.x);
    expect(backwards).toEqual([]);
    // Deterministic: the same graph lays out the same way.
    expect(layeredLayout(nodes, edges)).toEqual(positions);
  });

  it("keeps a graph with a cycle, self-loops and unknown ends laid out", () => {
    const nodes = ["a", "b", "c"].map((id) => ({ id, width: 100, height: 50 }));
    const positions = layeredLayout(nodes, [
      { source: "a", target: "b" },
      { source: "b", target: "c" },
      { source: "c", target: "a" },
      { source: "b", target: "b" },
      { source: "b", target: "gone" },
    ]);
    expect([...positions.keys()].sort()).toEqual(["a", "b", "c"]);
    expect(overlaps(nodes, positions)).toEqual([]);
    expect(positions.get("a")!.x).toBeLessThan(positions.get("b")!.x);
  });

  it("packs unconnected nodes in rows instead of one long column", () => {
    const nodes = Array.from({ length: 9 }, (_, i) => ({ id: `n${i}`, width: 200, height: 80 }));
    const positions = layeredLayout(nodes, []);
    expect(overlaps(nodes, positions)).toEqual([]);
    const rows = new Set([...positions.values()].map((p) => p.y));
    const columns = new Set([...positions.values()].map((p) => p.x));
    expect(rows.size).toBeGreaterThan(1);
    expect(columns.size).toBeGreaterThan(1);
  });

  it("answers an empty graph", () => {
    expect(layeredLayout([], []).size).toBe(0);
  });
});

describe("layered layout steps", () => {
  it("finds connected components in node order", () => {
    expect(components(5, [[0, 2], [3, 4]])).toEqual([[0, 2], [1], [3, 4]]);
  });

  it("turns round the edges that close cycles only", () => {
    expect(acyclic(3, [[0, 1], [1, 2], [2, 0]])).toEqual([[0, 1], [1, 2], [0, 2]]);
    expect(acyclic(3, [[0, 1], [0, 2]])).toEqual([[0, 1], [0, 2]]);
  });

  it("puts each node a layer after its inputs and sources next to their targets", () => {
    // 0 → 1 → 2 → 3 and a source 4 feeding only 3: 4 sits in the layer before 3.
    expect(layers(5, [[0, 1], [1, 2], [2, 3], [4, 3]])).toEqual([0, 1, 2, 3, 2]);
  });

  it("counts crossings between two layers", () => {
    expect(crossings([[0, 0], [1, 1]], 2)).toBe(0);
    expect(crossings([[0, 1], [1, 0]], 2)).toBe(1);
    expect(crossings([[0, 2], [1, 1], [2, 0]], 3)).toBe(3);
  });

  it("places a layer as near as it may to where its nodes want to be", () => {
    expect(placeInOrder([0, 100], [1, 1], [50])).toEqual([0, 100]);
    // Both want 0: they share the gap, centred on it.
    expect(placeInOrder([0, 0], [1, 1], [50])).toEqual([-25, 25]);
    // A heavier node moves less.
    expect(placeInOrder([0, 0], [3, 1], [40])).toEqual([-10, 30]);
  });
});

const TYPES: ReadonlyMap<string, NodeTypeInfo> = new Map([
  [
    "join@1",
    {
      name: "join",
      version: 1,
      inputs: [
        { name: "a", type: "findings" },
        { name: "b", type: "findings" },
        { name: "c", type: "findings" },
      ],
      outputs: [{ name: "findings", type: "findings" }],
    } as unknown as NodeTypeInfo,
  ],
]);

function canvasNode(id: string, type = "join", position = { x: 0, y: 0 }) {
  return { id, position, data: { type, typeVersion: 1, title: id, config: {}, extra: {} } };
}

describe("auto-layout in the editor", () => {
  it("sizes a node by what the canvas measured, else by its ports", () => {
    expect(estimatedSize({ ...canvasNode("j"), measured: { width: 240, height: 120 } }, TYPES)).toEqual({
      width: 240,
      height: 120,
    });
    expect(estimatedSize(canvasNode("j"), TYPES)).toEqual({ width: 220, height: 47 + 3 * 18 });
    expect(estimatedSize(canvasNode("x", "unknown"), TYPES)).toEqual({ width: 220, height: 65 });
  });

  it("lays out a graph saved without positions as it opens, and leaves a placed one alone", () => {
    const nodes = [canvasNode("a"), canvasNode("b", "join", { x: 0, y: 0 })];
    const edges = [{ id: "e1", source: "a", target: "b" }];
    const unplaced: Pick<GraphSpec, "nodes"> = { nodes: [{ id: "a", type: "join" }, { id: "b", type: "join" }] };
    const opened = placedOnOpen(unplaced, nodes, edges, TYPES);
    expect(opened.map((n) => n.position)).toEqual([...autoLayout(nodes, edges, TYPES).values()]);
    expect(opened[1]!.position.x).toBeGreaterThan(opened[0]!.position.x);

    const placed: Pick<GraphSpec, "nodes"> = {
      nodes: [{ id: "a", type: "join", position: { x: 5, y: 5 } }, { id: "b", type: "join" }],
    };
    expect(placedOnOpen(placed, nodes, edges, TYPES)).toEqual(nodes);
  });
});
