import { describe, expect, it } from "vitest";
import {
  acceptanceSeries,
  boxplotSeries,
  formatMinutes,
  formatRate,
  modelLabel,
  seriesByCaseType,
  totalPerDay,
} from "./series";

const DAYS = ["2026-11-02", "2026-11-03", "2026-11-04"];

describe("dashboard series", () => {
  it("give every case type a value for every day, 0 where it had no row", () => {
    const rows = [
      { day: "2026-11-02", case_type: "fna", signed: 1 },
      { day: "2026-11-04", case_type: "fna", signed: 2 },
      { day: "2026-11-03", case_type: "breast", signed: 3 },
    ];
    expect(seriesByCaseType(rows, DAYS, (r) => r.signed)).toEqual([
      { name: "breast", data: [0, 3, 0] },
      { name: "fna", data: [1, 0, 2] },
    ]);
    expect(seriesByCaseType(rows, DAYS, (r) => r.signed, null)[0]!.data).toEqual([null, 3, null]);
    expect(totalPerDay(rows, DAYS, (r) => r.signed)).toEqual([1, 3, 2]);
  });

  it("sum acceptance over elements per model version, a gap where it had no sign-out", () => {
    const row = (bucket: string, version: string, accepted: number, total: number) => ({
      bucket,
      endpoint: "ihc-dab",
      model_version: version,
      accepted,
      edited: total - accepted,
      cleared: 0,
      total,
    });
    const { buckets, series } = acceptanceSeries([
      row("2026-11-02", "1", 1, 1),
      row("2026-11-02", "1", 0, 2),
      row("2026-11-03", "2", 2, 3),
    ]);
    expect(buckets).toEqual(["2026-11-02", "2026-11-03"]);
    expect(series).toEqual([
      { name: "ihc-dab v1", data: [33.3, null] },
      { name: "ihc-dab v2", data: [null, 66.7] },
    ]);
    expect(modelLabel({ endpoint: "x", model_version: "" })).toBe("x");
  });

  it("draw each turnaround segment as a box in hours", () => {
    const boxes = boxplotSeries([
      { case_type: "fna", segment: "received_to_draft", n: 3, min: 30, p25: 30, median: 60, p75: 90, max: 120 },
      { case_type: "fna", segment: "draft_to_signed", n: 0, min: null, p25: null, median: null, p75: null, max: null },
    ]);
    expect(boxes).toEqual([
      { name: "fna", data: [[0.5, 0.5, 1, 1.5, 2], null, null, null, null] },
    ]);
  });

  it("say durations and rates in words", () => {
    expect(formatMinutes(null)).toBe("—");
    expect(formatMinutes(45.4)).toBe("45 min");
    expect(formatMinutes(185)).toBe("3 h 05 min");
    expect(formatMinutes(1440 + 250)).toBe("1 d 4 h");
    expect(formatRate(0.5)).toBe("50.0 %");
    expect(formatRate(1 / 3)).toBe("33.3 %");
  });
});
