import { describe, expect, it } from "vitest";
import { isActiveRunStatus, shouldPoll, statusBadgeClass } from "./status";

describe("statusBadgeClass", () => {
  it.each([
    ["queued", "badge badge--queued"],
    ["running", "badge badge--running"],
    ["waiting_review", "badge badge--waiting-review"],
    ["succeeded", "badge badge--succeeded"],
    ["failed", "badge badge--failed"],
    ["cancelled", "badge badge--cancelled"],
    ["pending", "badge badge--pending"],
    ["skipped", "badge badge--skipped"],
    ["exploded", "badge badge--unknown"],
    ["", "badge badge--unknown"],
  ])("%s → %s", (status, expected) => {
    expect(statusBadgeClass(status)).toBe(expected);
  });
});

describe("polling", () => {
  it("treats only queued and running as active", () => {
    expect(isActiveRunStatus("queued")).toBe(true);
    expect(isActiveRunStatus("running")).toBe(true);
    for (const s of ["waiting_review", "succeeded", "failed", "cancelled"]) {
      expect(isActiveRunStatus(s)).toBe(false);
    }
  });

  it("continues while any run is queued or running", () => {
    expect(shouldPoll([])).toBe(false);
    expect(shouldPoll([{ status: "succeeded" }, { status: "failed" }])).toBe(false);
    expect(shouldPoll([{ status: "succeeded" }, { status: "queued" }])).toBe(true);
    expect(shouldPoll([{ status: "running" }])).toBe(true);
    expect(shouldPoll([{ status: "waiting_review" }])).toBe(false);
  });
});
