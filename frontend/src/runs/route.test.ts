import { describe, expect, it } from "vitest";
import { RUN_DETAIL } from "../test/fixtures";
import { attemptsOf, cursorOf, progressChanges } from "./progress";
import { parseHash, runHref } from "./route";

describe("hash routes", () => {
  it.each([
    ["#/runs/7", { kind: "run", id: 7 }],
    ["#/runs/7/", { kind: "run", id: 7 }],
    ["#/runs/0", { kind: "list" }],
    ["#/runs/abc", { kind: "list" }],
    ["#/runs/7/../8", { kind: "list" }],
    ["", { kind: "list" }],
    ["#/", { kind: "list" }],
  ])("reads %s", (hash, route) => {
    expect(parseHash(hash)).toEqual(route);
  });

  it("links a run", () => {
    expect(parseHash(runHref(42))).toEqual({ kind: "run", id: 42 });
  });
});

describe("progress helpers", () => {
  it("takes the newest checkpoint time as the cursor", () => {
    expect(cursorOf(RUN_DETAIL)).toBe("2026-11-27T06:05:04.000Z");
    expect(cursorOf({ node_runs: [] })).toBeNull();
  });

  it("sees a change in run status or in any attempt, not in repeats", () => {
    const same = {
      id: 12,
      status: RUN_DETAIL.status,
      active: false,
      error: RUN_DETAIL.error,
      cursor: null,
      node_runs: RUN_DETAIL.node_runs.map((a) => ({ ...a })),
    };
    expect(progressChanges(RUN_DETAIL, same)).toBe(false);
    expect(progressChanges(RUN_DETAIL, { ...same, status: "cancelled" })).toBe(true);
    const retried = { ...RUN_DETAIL.node_runs[2]!, attempt: 3, status: "running" as const };
    expect(progressChanges(RUN_DETAIL, { ...same, node_runs: [retried] })).toBe(true);
  });

  it("orders a node's attempts", () => {
    const reversed = { node_runs: [...RUN_DETAIL.node_runs].reverse() };
    expect(attemptsOf(reversed, "fna").map((a) => a.attempt)).toEqual([1, 2]);
  });
});
