import { describe, expect, it } from "vitest";
import type { NodeAttempt } from "../../api/models";
import type { GraphSpec } from "../../lib/graph";
import {
  mostAtOnce,
  packLanes,
  parsePins,
  pinsFromRun,
  serialisePins,
  staleNodes,
  timelineOf,
} from "./bench";
import { saveStateOf } from "./useDraft";

const T0 = Date.parse("2026-12-06T10:00:00Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function attempt(nodeId: string, from: number, to: number | null, extra: Partial<NodeAttempt> = {}): NodeAttempt {
  return {
    node_id: nodeId,
    node_type: "transform",
    title: nodeId,
    status: to === null ? "running" : "succeeded",
    attempt: 1,
    duration_ms: to === null ? null : (to - from) * 1000,
    error: "",
    inputs: {},
    outputs: {},
    started_at: at(from),
    finished_at: to === null ? null : at(to),
    pinned: false,
    ...extra,
  };
}

describe("lane packing", () => {
  it("puts overlapping intervals in different lanes and reuses a lane once it is free", () => {
    const packed = packLanes([
      { start: 0, end: 10 },
      { start: 2, end: 5 },
      { start: 5, end: 8 },
      { start: 9, end: 12 },
      { start: 10, end: 11 },
    ]);
    expect(packed.map((p) => p.lane)).toEqual([0, 1, 1, 1, 0]);
    expect(mostAtOnce(packed.map((p) => p.item))).toBe(2);
  });

  it("counts three at once, and none for nothing", () => {
    expect(mostAtOnce([{ start: 0, end: 3 }, { start: 1, end: 4 }, { start: 2, end: 5 }])).toBe(3);
    expect(mostAtOnce([])).toBe(0);
  });
});

describe("the run's timeline", () => {
  it("has a row per node in start order, retries as bars, map items packed below", () => {
    const run = {
      node_runs: [
        attempt("report", 6, 8),
        attempt("case", 0, 1),
        attempt("ihc", 1, 2, { status: "failed", attempt: 1, node_type: "map" }),
        attempt("ihc", 3, 5, {
          attempt: 2,
          node_type: "map",
          outputs: {
            results: [],
            items: [
              { index: 0, started_at: at(3), finished_at: at(4.5) },
              { index: 1, started_at: at(3), finished_at: at(4) },
              { index: 2, started_at: at(4), finished_at: at(5) },
            ],
          },
        }),
        attempt("fields", 1, 4, { pinned: true }),
        attempt("skipped", 0, 0, { status: "skipped", started_at: null }),
      ],
    };
    const timeline = timelineOf(run, T0 + 60_000);
    expect(timeline.rows.map((r) => r.nodeId)).toEqual(["case", "fields", "ihc", "report"]);
    expect(timeline.start).toBe(T0);
    expect(timeline.end).toBe(T0 + 8000);
    const ihc = timeline.rows.find((r) => r.nodeId === "ihc")!;
    expect(ihc.bars.filter((b) => b.kind === "attempt").map((b) => [b.label, b.status])).toEqual([
      ["#1", "failed"],
      ["#2", "succeeded"],
    ]);
    expect(ihc.bars.filter((b) => b.kind === "item").map((b) => [b.label, b.lane])).toEqual([
      ["[0]", 2],
      ["[1]", 1],
      ["[2]", 1],
    ]);
    expect(ihc.lanes).toBe(3);
    expect(ihc.busyMs).toBe(3000);
    expect(timeline.rows.find((r) => r.nodeId === "fields")!.bars[0]!.pinned).toBe(true);
    // case | ihc#1 then report: one at a time (a pinned node did not run).
    expect(timeline.parallel).toBe(1);
  });

  it("draws a running attempt up to now and nests a sub-workflow's nodes", () => {
    const timeline = timelineOf(
      { node_runs: [attempt("a", 0, 2), attempt("sub", 1, null), attempt("sub/b", 1.5, null)] },
      T0 + 4000,
    );
    expect(timeline.end).toBe(T0 + 4000);
    expect(timeline.rows.map((r) => [r.nodeId, r.depth])).toEqual([
      ["a", 0],
      ["sub", 0],
      ["sub/b", 1],
    ]);
    expect(timeline.parallel).toBe(3);
  });
});

describe("pins", () => {
  it("round-trip through their stored form, dropping anything that is not outputs", () => {
    const pins = { ihc: { results: [{ positive_fraction: 0.4 }] }, triage: { ki67_slide: true } };
    expect(parsePins(serialisePins(pins))).toEqual(pins);
    expect(parsePins('{"kind":"pathflow/pins","version":1,"pins":{"a":{"x":1},"b":[1],"c":null}}')).toEqual({
      a: { x: 1 },
    });
    expect(parsePins("not json")).toEqual({});
    expect(parsePins('{"ihc":{"x":1}}')).toEqual({});
    expect(parsePins(null)).toEqual({});
  });

  it("come from a run's succeeded top-level nodes, their last attempt", () => {
    const pins = pinsFromRun({
      node_runs: [
        attempt("case", 0, 1, { outputs: { case: { id: 1 } } }),
        attempt("ihc", 1, 2, { status: "failed", outputs: {} }),
        attempt("fields", 1, 2, { outputs: { findings: { v: 1 } } }),
        attempt("fields", 2, 3, { attempt: 2, outputs: { findings: { v: 2 } } }),
        attempt("sub/child", 1, 2, { outputs: { x: 1 } }),
        attempt("hidden", 1, 2, { outputs: null }),
      ],
    });
    expect(pins).toEqual({ case: { case: { id: 1 } }, fields: { findings: { v: 2 } } });
  });
});

describe("stale nodes", () => {
  const graph: GraphSpec = {
    schema_version: 1,
    nodes: [
      { id: "case", type: "case_trigger", config: {} },
      { id: "ihc", type: "map", config: { items: "case.tiles" }, position: { x: 0, y: 0 } },
      { id: "ki67", type: "transform", config: { mapping: {} } },
      { id: "fields", type: "transform", config: {} },
      { id: "report", type: "render_report", config: {} },
    ],
    edges: [
      { id: "e1", source: "case", source_port: "case", target: "ihc", target_port: "in" },
      { id: "e2", source: "ihc", source_port: "results", target: "ki67", target_port: "in" },
      { id: "e3", source: "case", source_port: "case", target: "fields", target_port: "in" },
      { id: "e4", source: "ki67", source_port: "findings", target: "report", target_port: "findings" },
      { id: "e5", source: "fields", source_port: "findings", target: "report", target_port: "findings" },
    ],
  };
  const edit = (id: string, change: Record<string, unknown>): GraphSpec => ({
    ...graph,
    nodes: graph.nodes.map((n) => (n.id === id ? { ...n, ...change } : n)),
  });

  it("is nothing when only positions and titles changed", () => {
    expect(staleNodes(graph, edit("ihc", { position: { x: 90, y: 9 }, title: "Tiles" }))).toEqual(new Set());
  });

  it("is the edited node and everything downstream of it", () => {
    expect(staleNodes(graph, edit("ihc", { config: { items: "case.specimens" } }))).toEqual(
      new Set(["ihc", "ki67", "report"]),
    );
    expect(staleNodes(graph, edit("fields", { retry: { max_attempts: 2 } }))).toEqual(new Set(["fields", "report"]));
  });

  it("follows edited edges and added nodes", () => {
    const rewired: GraphSpec = {
      ...graph,
      nodes: [...graph.nodes, { id: "extra", type: "transform", config: {} }],
      edges: graph.edges.map((e) => (e.id === "e3" ? { ...e, source: "ihc", source_port: "results" } : e)),
    };
    expect(staleNodes(graph, rewired)).toEqual(new Set(["fields", "report", "extra"]));
  });
});

describe("the save indicator", () => {
  it("says conflict over anything else, then saving, saved, failed or unsaved", () => {
    const state = (s: Partial<Parameters<typeof saveStateOf>[0]>) =>
      saveStateOf({ pending: false, dirty: false, conflict: false, failed: false, ...s });
    expect(state({ conflict: true, pending: true, dirty: true })).toBe("conflict");
    expect(state({ pending: true, dirty: true })).toBe("saving");
    expect(state({})).toBe("saved");
    expect(state({ failed: true })).toBe("saved");
    expect(state({ dirty: true })).toBe("unsaved");
    expect(state({ dirty: true, failed: true })).toBe("failed");
  });
});
