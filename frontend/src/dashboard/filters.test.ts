import { describe, expect, it } from "vitest";
import {
  addDays,
  apiQuery,
  csvUrl,
  daysBetween,
  defaultFilters,
  filtersFromParams,
  paramsFromFilters,
} from "./filters";

const TODAY = new Date(2026, 11, 6, 15, 0); // 6 December 2026, local time

describe("dashboard filters", () => {
  it("default to the last 30 days, every case type, per day", () => {
    expect(defaultFilters(TODAY)).toEqual({
      from: "2026-11-07",
      to: "2026-12-06",
      caseType: "",
      bucket: "day",
    });
  });

  it("read the URL and write it back unchanged", () => {
    const params = new URLSearchParams("from=2026-11-02&to=2026-11-05&type=breast-fna&bucket=week");
    const filters = filtersFromParams(params, TODAY);
    expect(filters).toEqual({
      from: "2026-11-02",
      to: "2026-11-05",
      caseType: "breast-fna",
      bucket: "week",
    });
    expect(paramsFromFilters(filters).toString()).toBe(params.toString());
  });

  it("drop malformed values and never start after the end", () => {
    const bad = filtersFromParams(new URLSearchParams("from=yesterday&to=2026-02-31x&type=a b"), TODAY);
    expect(bad).toEqual(defaultFilters(TODAY));
    const reversed = filtersFromParams(new URLSearchParams("from=2026-11-09&to=2026-11-05"), TODAY);
    expect(reversed.from).toBe("2026-11-05");
  });

  it("count days across a month end and a DST change", () => {
    expect(addDays("2026-10-31", 1)).toBe("2026-11-01");
    expect(daysBetween("2026-10-24", "2026-10-27")).toEqual([
      "2026-10-24",
      "2026-10-25",
      "2026-10-26",
      "2026-10-27",
    ]);
    expect(daysBetween("2026-11-05", "2026-11-02")).toEqual([]);
  });

  it("give the API its parameter names and the CSV address of a table", () => {
    const filters = { from: "2026-11-02", to: "2026-11-05", caseType: "breast-fna", bucket: "week" as const };
    expect(apiQuery(filters)).toEqual({ from: "2026-11-02", to: "2026-11-05", case_type: "breast-fna" });
    expect(csvUrl("agreement", "by_model", filters)).toBe(
      "/api/v1/analytics/agreement?from=2026-11-02&to=2026-11-05&case_type=breast-fna&bucket=week&format=csv&table=by_model",
    );
    expect(csvUrl("queue", "by_day", { ...filters, caseType: "" })).toBe(
      "/api/v1/analytics/queue?from=2026-11-02&to=2026-11-05&format=csv&table=by_day",
    );
  });
});
