import { describe, expect, it } from "vitest";
import { formatDateTime, formatDuration, runDurationMs } from "./format";

describe("formatDuration", () => {
  it.each([
    [null, "—"],
    [undefined, "—"],
    [-5, "—"],
    [Number.NaN, "—"],
    [0, "0 ms"],
    [41, "41 ms"],
    [999, "999 ms"],
    [1000, "1.0 s"],
    [1550, "1.5 s"],
    [9999, "9.9 s"],
    [12_400, "12 s"],
    [60_000, "1 min"],
    [125_000, "2 min 5 s"],
    [3_600_000, "1 h"],
    [3_780_000, "1 h 3 min"],
  ])("%s → %s", (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });
});

describe("runDurationMs", () => {
  const now = Date.parse("2026-11-27T06:01:00Z");

  it("is finished − started for a finished run", () => {
    expect(
      runDurationMs(
        { started_at: "2026-11-27T06:00:01Z", finished_at: "2026-11-27T06:00:03Z" },
        now,
      ),
    ).toBe(2000);
  });

  it("counts up to now for a run still going", () => {
    expect(runDurationMs({ started_at: "2026-11-27T06:00:00Z", finished_at: null }, now)).toBe(
      60_000,
    );
  });

  it("is null before the run starts or for bad timestamps", () => {
    expect(runDurationMs({ started_at: null, finished_at: null }, now)).toBeNull();
    expect(runDurationMs({ started_at: "not a date", finished_at: null }, now)).toBeNull();
  });

  it("never goes negative when clocks disagree", () => {
    expect(runDurationMs({ started_at: "2026-11-27T07:00:00Z", finished_at: null }, now)).toBe(0);
  });
});

describe("formatDateTime", () => {
  it("formats in the given locale and time zone", () => {
    expect(formatDateTime("2026-11-27T06:00:00Z", "en-GB", "UTC")).toBe("27/11/2026, 06:00:00");
    expect(formatDateTime("2026-11-27T06:00:00Z", "zh-CN", "Asia/Shanghai")).toBe(
      "2026/11/27 14:00:00",
    );
  });

  it("shows a dash for missing or bad input", () => {
    expect(formatDateTime(null, "en-GB")).toBe("—");
    expect(formatDateTime("garbage", "en-GB")).toBe("—");
  });
});
