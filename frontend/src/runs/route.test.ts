import { describe, expect, it } from "vitest";
import type { RunProgress } from "../api/models";
import { RUN_DETAIL } from "../test/fixtures";
import { attemptsOf, childAttemptsOf, cursorOf, progressChanges } from "./progress";
import { parseRunId, runPath } from "./route";

describe("run URLs", () => {
  it.each([
    ["7", 7],
    ["0", null],
    ["abc", null],
    ["7x", null],
    ["99999999999999999999", null],
    [undefined, null],
  ])("reads the run id %s", (param, id) => {
    expect(parseRunId(param)).toBe(id);
  });

  it("links a run", () => {
    expect(runPath(42)).toBe("/runs/42");
  });
});

describe("progress helpers", () => {
  it("takes the newest checkpoint time as the cursor", () => {
    expect(cursorOf(RUN_DETAIL)).toBe("2026-11-27T06:05:04.000Z");
    expect(cursorOf({ node_runs: [] })).toBeNull();
  });

  it("sees a change in run status or in any attempt, not in repeats", () => {
    const same: RunProgress = {
      id: 12,
      status: RUN_DETAIL.status,
      active: false,
      error: RUN_DETAIL.error,
      started_at: RUN_DETAIL.started_at,
      finished_at: RUN_DETAIL.finished_at,
      cancel_requested_at: null,
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

  it("finds the attempts of a sub-workflow's nodes under their parent node", () => {
    const base = RUN_DETAIL.node_runs[0]!;
    const run = {
      node_runs: [
        { ...base, node_id: "sub/b", started_at: "2026-11-27T06:05:03Z" },
        { ...base, node_id: "sub/a", started_at: "2026-11-27T06:05:02Z" },
        { ...base, node_id: "subtotal", started_at: "2026-11-27T06:05:01Z" },
      ],
    };
    expect(childAttemptsOf(run, "sub").map((a) => a.node_id)).toEqual(["sub/a", "sub/b"]);
    expect(attemptsOf(run, "sub")).toEqual([]);
  });
});
