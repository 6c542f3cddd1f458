import { describe, expect, it } from "vitest";
import { opsFor, parseExpression, toExpression } from "./condition";
import type { Condition } from "./condition";

// Conditions as the library's templates write them: each reads back into the builder and is
// written out again exactly.
const LIBRARY = [
  "'alk' in biomarkers_tested",
  "'aspirate_smear' in specimen_types and aspirate_quality != 'dry_tap'",
  "'er' in biomarkers_tested and er_percent > 0",
  "'trephine_biopsy' in specimen_types or 'clot_section' in specimen_types",
  "adrenal_in_specimen",
  "b_cell_subtype == 'follicular'",
  "bcr_abl1_status in ['p210', 'p190', 'p230', 'other_transcript']",
  "clinical_setting != 'primary_diagnosis'",
  "flow_performed and clinical_indication in ['post_therapy', 'post_transplant']",
  "not neoadjuvant_therapy",
  "tumour_size_mm >= 20.5",
  "'x' not in nodal_procedure",
  "grade not in ['g1', 'g2']",
];

describe("condition builder ↔ expression", () => {
  it.each(LIBRARY)("reads %s back and writes it unchanged", (expression) => {
    const condition = parseExpression(expression);
    expect(condition).not.toBeNull();
    expect(toExpression(condition as Condition)).toBe(expression);
  });

  it("writes a built condition that reads back to the same clauses", () => {
    const built: Condition = {
      join: "or",
      clauses: [
        { element: "margin_status", op: "eq", value: "positive" },
        { element: "margin_distance_mm", op: "lt", value: 2 },
        { element: "biomarkers_tested", op: "contains", value: "her2" },
        { element: "dcis_present", op: "is_true", value: null },
        { element: "histologic_type", op: "in", value: ["invasive_nst", "lobular"] },
      ],
    };
    const expression = toExpression(built);
    expect(expression).toBe(
      "margin_status == 'positive' or margin_distance_mm < 2 or 'her2' in biomarkers_tested" +
        " or dcis_present or histologic_type in ['invasive_nst', 'lobular']",
    );
    expect(parseExpression(expression)).toEqual(built);
  });

  it("escapes quotes in values so the expression stays one string", () => {
    const built: Condition = {
      join: "and",
      clauses: [{ element: "comment", op: "eq", value: "it's \\ odd" }],
    };
    const expression = toExpression(built);
    expect(expression).toBe("comment == 'it\\'s \\\\ odd'");
    expect(parseExpression(expression)).toEqual(built);
  });

  it("reads double quotes and True/False but writes the canonical form", () => {
    const condition = parseExpression('histologic_type == "other" and flag == True');
    expect(condition).toEqual({
      join: "and",
      clauses: [
        { element: "histologic_type", op: "eq", value: "other" },
        { element: "flag", op: "eq", value: true },
      ],
    });
    expect(toExpression(condition as Condition)).toBe(
      "histologic_type == 'other' and flag == true",
    );
  });

  it.each([
    "a == 'x' and b == 'y' or c == 'z'",
    "(a == 'x')",
    "a | length > 2",
    "a + 1 > 2",
    "a ==",
    "'x' in",
    "a in ['x', 1]",
  ])("leaves %s to the expert field", (expression) => {
    expect(parseExpression(expression)).toBeNull();
  });

  it("reads an empty expression as no clauses (always visible)", () => {
    expect(parseExpression("  ")).toEqual({ join: "and", clauses: [] });
    expect(toExpression({ join: "and", clauses: [] })).toBe("");
  });

  it("offers the operators that fit each element type", () => {
    expect(opsFor("multi_select")).toEqual(["contains", "not_contains"]);
    expect(opsFor("boolean")).toEqual(["is_true", "is_false"]);
    expect(opsFor("number")).toContain("ge");
  });
});
