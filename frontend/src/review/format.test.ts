import { describe, expect, it } from "vitest";
import { ageOf, displayValue, parseInput, percent, sourceOf } from "./format";

const WORDS = { yes: "Yes", no: "No", empty: "—" };
const SELECT = {
  type: "single_select",
  unit: "",
  answers: [{ code: "pT1c", labels: { en: "pT1c (> 10 mm)", zh: "pT1c（> 10 mm）" } }],
};

describe("values and sources as printed", () => {
  it("prints answer labels in the UI language, numbers with units, and empty values", () => {
    expect(displayValue(SELECT, "pT1c", "zh", WORDS)).toBe("pT1c（> 10 mm）");
    expect(displayValue(SELECT, ["pT1c"], "en", WORDS)).toBe("pT1c (> 10 mm)");
    expect(displayValue({ type: "number", unit: "mm", answers: [] }, 3.5, "en", WORDS)).toBe(
      "3.5 mm",
    );
    expect(displayValue({ type: "boolean", unit: "", answers: [] }, false, "en", WORDS)).toBe(
      "No",
    );
    expect(displayValue(SELECT, null, "en", WORDS)).toBe("—");
  });

  it("names a model's endpoint, version and run, a person, or the lab", () => {
    expect(
      sourceOf([
        { kind: "model", endpoint: "ihc-dab", model_name: "ihc-dab", model_version: "1", run: 7 },
      ]),
    ).toEqual({
      key: "cockpit.model",
      params: { endpoint: "ihc-dab", model: "ihc-dab", version: "1", run: "7" },
    });
    expect(sourceOf([{ kind: "person", name: "Dr Li" }]).params).toEqual({ name: "Dr Li" });
    expect(sourceOf([{ kind: "case" }]).key).toBe("cockpit.case");
    expect(sourceOf([]).key).toBe("cockpit.noSource");
  });

  it("prints triage as a percentage and ages in their largest unit", () => {
    expect(percent(0.875)).toBe("88%");
    expect(percent(null)).toBe("—");
    expect(ageOf(59)).toEqual({ key: "age.minutes", n: 0 });
    expect(ageOf(7200)).toEqual({ key: "age.hours", n: 2 });
    expect(ageOf(3 * 86400)).toEqual({ key: "age.days", n: 3 });
  });

  it("reads typed numbers as numbers and an empty box as no value", () => {
    expect(parseInput("number", "1.5")).toBe(1.5);
    expect(parseInput("number", "")).toBeNull();
    expect(parseInput("boolean", "true")).toBe(true);
    expect(parseInput("text", "see comment")).toBe("see comment");
  });
});
