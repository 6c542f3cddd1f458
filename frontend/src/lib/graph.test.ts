import { describe, expect, it } from "vitest";
import {
  canvasToSpec,
  checkConnection,
  expressionSuggestions,
  fragmentOf,
  freshId,
  isAssignable,
  parseFragment,
  placeFragment,
  specToCanvas,
  typeKey,
} from "./graph";
import type { GraphSpec, NodeTypeInfo, PortSpec, PortType } from "./graph";

function port(name: string, type: PortType, multiple = false): PortSpec {
  return { name, type, required: true, multiple, title: name };
}

function nodeType(name: string, inputs: PortSpec[], outputs: PortSpec[]): NodeTypeInfo {
  return {
    name,
    version: 1,
    title: name,
    description: "",
    config_schema: {},
    inputs,
    outputs,
    is_trigger: inputs.length === 0,
    ports_from_config: false,
  };
}

export const TYPES = new Map(
  [
    nodeType("case_trigger", [], [port("case", "case")]),
    nodeType("model_call", [port("in", "any", true)], [port("result", "json")]),
    nodeType("transform", [port("in", "any", true)], [port("findings", "findings")]),
    nodeType("render_report", [port("findings", "findings")], [port("report", "report")]),
    nodeType("deliver", [port("report", "report")], [port("delivery", "json")]),
  ].map((t) => [typeKey(t.name, t.version), t]),
);

const SPEC: GraphSpec = {
  schema_version: 1,
  name: "Breast FNA",
  trigger: { case_types: ["breast-resection"] },
  nodes: [
    { id: "case", type: "case_trigger", type_version: 1, title: "Case arrives", config: {}, position: { x: 0, y: 0 } },
    {
      id: "fna",
      type: "model_call",
      type_version: 1,
      title: "FNA",
      config: { endpoint: "breast-fna" },
      retry: { max_attempts: 2, backoff_s: 0.5 },
      on_error: "stop",
      position: { x: 240, y: 0 },
    },
    { id: "fields", type: "transform", type_version: 1, config: { mapping: {} }, position: { x: 480, y: 0 } },
    { id: "report", type: "render_report", type_version: 1, config: { language: "zh" }, position: { x: 720, y: 0 } },
  ],
  edges: [
    { id: "e1", source: "case", source_port: "case", target: "fna", target_port: "in" },
    { id: "e2", source: "fna", source_port: "result", target: "fields", target_port: "in" },
    { id: "e3", source: "fields", source_port: "findings", target: "report", target_port: "findings" },
  ],
};

describe("graph ↔ canvas", () => {
  it("round-trips a spec through the canvas, keeping retries, on_error and top-level fields", () => {
    const { nodes, edges } = specToCanvas(SPEC, TYPES);
    expect(nodes.map((n) => n.id)).toEqual(["case", "fna", "fields", "report"]);
    expect(edges[2]).toMatchObject({ sourceHandle: "findings", targetHandle: "findings" });
    const { nodes: _n, edges: _e, ...base } = SPEC;
    expect(canvasToSpec(nodes, edges, base)).toEqual(SPEC);
  });

  it("sends an edge without a target port to the target's only input, and rounds positions", () => {
    const spec: GraphSpec = {
      ...SPEC,
      edges: [{ id: "e1", source: "case", source_port: "case", target: "fna" }],
    };
    const { nodes, edges } = specToCanvas(spec, TYPES);
    expect(edges[0]?.targetHandle).toBe("in");
    nodes[1]!.position = { x: 10.6, y: -3.2 };
    expect(canvasToSpec(nodes, edges, { schema_version: 1 }).nodes[1]?.position).toEqual({ x: 11, y: -3 });
  });

  it("lays out nodes without a position in a row", () => {
    const { nodes } = specToCanvas({ schema_version: 1, nodes: [{ id: "a", type: "x" }, { id: "b", type: "x" }], edges: [] }, TYPES);
    expect(nodes.map((n) => n.position)).toEqual([{ x: 0, y: 0 }, { x: 240, y: 0 }]);
  });
});

describe("connection rules", () => {
  const { nodes, edges } = specToCanvas(SPEC, TYPES);
  const withDeliver = [
    ...nodes,
    { id: "send", type: "pathflow" as const, position: { x: 0, y: 0 }, data: { type: "deliver", typeVersion: 1, title: "", config: {}, extra: {} } },
  ];

  it("follows the port type lattice", () => {
    expect(isAssignable("number", "json")).toBe(true);
    expect(isAssignable("case", "json")).toBe(true);
    expect(isAssignable("image", "json")).toBe(false);
    expect(isAssignable("any", "report")).toBe(true);
    expect(isAssignable("json", "report")).toBe(false);
    expect(isAssignable("report", "any")).toBe(true);
  });

  it("refuses a port of the wrong type, naming both types", () => {
    const refusal = checkConnection(
      { source: "fna", sourceHandle: "result", target: "send", targetHandle: "report" },
      withDeliver,
      edges,
      TYPES,
    );
    expect(refusal).toEqual({ code: "type", sourcePort: "result", sourceType: "json", targetPort: "report", targetType: "report" });
    expect(
      checkConnection({ source: "report", sourceHandle: "report", target: "send", targetHandle: "report" }, withDeliver, edges, TYPES),
    ).toBeNull();
  });

  it("takes one edge into a single input, many into a multiple one", () => {
    expect(
      checkConnection({ source: "fna", sourceHandle: "result", target: "report", targetHandle: "findings" }, nodes, edges, TYPES),
    ).toMatchObject({ code: "type" });
    const second = checkConnection(
      { source: "fields", sourceHandle: "findings", target: "report", targetHandle: "findings" },
      nodes,
      edges,
      TYPES,
    );
    expect(second).toEqual({ code: "duplicate" });
    const extra = [...nodes, { ...nodes[2]!, id: "fields2" }];
    expect(
      checkConnection({ source: "fields2", sourceHandle: "findings", target: "report", targetHandle: "findings" }, extra, edges, TYPES),
    ).toEqual({ code: "taken", node: "report", port: "findings", from: "fields" });
    expect(
      checkConnection({ source: "case", sourceHandle: "case", target: "fields", targetHandle: "in" }, nodes, edges, TYPES),
    ).toBeNull();
  });

  it("refuses an edge that closes a cycle, naming the way round", () => {
    expect(
      checkConnection({ source: "fields", sourceHandle: "findings", target: "fna", targetHandle: "in" }, nodes, edges, TYPES),
    ).toEqual({ code: "cycle", path: ["fna", "fields", "fna"] });
    expect(
      checkConnection({ source: "fna", sourceHandle: "result", target: "fna", targetHandle: "in" }, nodes, edges, TYPES),
    ).toEqual({ code: "self" });
  });
});

describe("copy and paste", () => {
  it("copies the selected nodes with the edges between them and pastes them under new ids", () => {
    const { nodes, edges } = specToCanvas(SPEC, TYPES);
    const fragment = fragmentOf(nodes, edges, new Set(["fna", "fields"]));
    expect(fragment.nodes.map((n) => n.id)).toEqual(["fna", "fields"]);
    expect(fragment.edges.map((e) => e.id)).toEqual(["e2"]);

    const parsed = parseFragment(JSON.stringify(fragment));
    expect(parsed).toEqual(fragment);
    const placed = placeFragment(parsed!, new Set(nodes.map((n) => n.id)), new Set(edges.map((e) => e.id)), { x: 40, y: 40 });
    expect(placed.nodes.map((n) => n.id)).toEqual(["fna_2", "fields_2"]);
    expect(placed.nodes[0]?.position).toEqual({ x: 280, y: 40 });
    expect(placed.nodes[0]?.data.extra).toEqual({ retry: { max_attempts: 2, backoff_s: 0.5 }, on_error: "stop" });
    expect(placed.edges).toEqual([
      { id: "e2_2", source: "fna_2", sourceHandle: "result", target: "fields_2", targetHandle: "in" },
    ]);
    expect(parseFragment('{"nodes": []}')).toBeNull();
    expect(parseFragment("not json")).toBeNull();
  });

  it("makes ids from type names that the backend accepts", () => {
    expect(freshId("model_call", new Set())).toBe("model_call");
    expect(freshId("model_call", new Set(["model_call", "model_call_2"]))).toBe("model_call_3");
    expect(freshId("a b/c", new Set())).toBe("a_b_c");
  });
});

describe("expression suggestions", () => {
  it("offers case fields and every other node's output ports", () => {
    const { nodes } = specToCanvas(SPEC, TYPES);
    const offered = expressionSuggestions("fields", nodes, TYPES);
    expect(offered).toContain("case.findings");
    expect(offered).toContain("nodes.fna.result");
    expect(offered).toContain("nodes.report.report");
    expect(offered).not.toContain("nodes.fields.findings");
  });
});
