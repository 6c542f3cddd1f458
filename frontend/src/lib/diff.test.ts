import { describe, expect, it } from "vitest";
import { diffView } from "./diff";
import type { VersionDiff } from "./diff";
import type { GraphSpec } from "./graph";
import { placeProblems } from "./problems";

const older: GraphSpec = {
  schema_version: 1,
  nodes: [
    { id: "case", type: "case_trigger" },
    { id: "fna", type: "model_call", config: { endpoint: "a" } },
    { id: "old", type: "transform" },
  ],
  edges: [
    { id: "e1", source: "case", source_port: "case", target: "fna", target_port: "in" },
    { id: "e2", source: "fna", source_port: "result", target: "old", target_port: "in" },
  ],
};

const newer: GraphSpec = {
  schema_version: 1,
  nodes: [
    { id: "case", type: "case_trigger", position: { x: 5, y: 5 } },
    { id: "fna", type: "model_call", config: { endpoint: "b" } },
    { id: "new", type: "transform" },
  ],
  edges: [
    { id: "e1", source: "case", source_port: "case", target: "fna", target_port: "in" },
    { id: "e3", source: "fna", source_port: "result", target: "new", target_port: "in" },
  ],
};

const DIFF: VersionDiff = {
  from: 1,
  to: 2,
  nodes: {
    added: ["new"],
    removed: ["old"],
    changed: [{ id: "fna", fields: ["config"], config_keys: ["endpoint"] }],
    moved: ["case"],
  },
  edges: {
    added: [{ id: "e3", source: "fna", source_port: "result", target: "new", target_port: "in" }],
    removed: [{ id: "e2", source: "fna", source_port: "result", target: "old", target_port: "in" }],
  },
  graph: [],
  template_version: null,
};

describe("diff colouring", () => {
  it("marks nodes and edges added, removed, changed or moved, with the config keys", () => {
    const view = diffView(DIFF, older, newer);
    expect(view.nodes.map((n) => [n.id, n.mark])).toEqual([
      ["case", "moved"],
      ["fna", "changed"],
      ["new", "added"],
      ["old", "removed"],
    ]);
    expect(view.nodes[1]?.configKeys).toEqual(["endpoint"]);
    expect(view.edges.map((e) => [e.id, e.mark])).toEqual([
      ["e1", "same"],
      ["e3", "added"],
      ["e2~old", "removed"],
    ]);
  });
});

describe("problems on the canvas", () => {
  it("puts each problem on the node, edge or port it names, and lists unfilled report elements", () => {
    const problem = (over: Partial<Parameters<typeof placeProblems>[0][number]>) => ({
      code: "x",
      message: "m",
      node_id: null,
      edge_id: null,
      port: null,
      element_id: null,
      ...over,
    });
    const placed = placeProblems([
      problem({ node_id: "fna", port: "in", code: "missing_input" }),
      problem({ edge_id: "e2" }),
      problem({ node_id: "report", element_id: "ki67_index", code: "required_element_unfilled" }),
      problem({ code: "no_trigger" }),
    ]);
    expect(placed.byNode.get("fna")?.[0]?.code).toBe("missing_input");
    expect(placed.byPort.get("fna:in")).toHaveLength(1);
    expect(placed.byEdge.get("e2")).toHaveLength(1);
    expect(placed.unfilled.map((p) => p.element_id)).toEqual(["ki67_index"]);
    expect(placed.graph.map((p) => p.code)).toEqual(["no_trigger"]);
  });
});
