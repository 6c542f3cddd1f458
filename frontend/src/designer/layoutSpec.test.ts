import { describe, expect, it } from "vitest";
import {
  defaultLayoutSpec,
  insertRow,
  layoutProblems,
  missingSingleBlocks,
  moveBlock,
  placedBlocks,
  removeRow,
  setColumns,
  syncWithSections,
} from "./layoutSpec";
import type { LayoutSpec } from "./layoutSpec";

const SECTIONS = ["specimen", "tumour", "margins"];

function order(spec: LayoutSpec): string[] {
  return placedBlocks(spec).map(({ block, place }) => {
    const name = block.type === "section" ? `§${block.section ?? ""}` : block.type;
    return `${name}@${place.row}.${place.column}`;
  });
}

describe("layout spec", () => {
  it("starts from every section in dataset order between the letterhead and signatures", () => {
    const spec = defaultLayoutSpec(SECTIONS);
    expect(order(spec)).toEqual([
      "letterhead@0.0",
      "patient@1.0",
      "specimens@2.0",
      "§specimen@3.0",
      "§tumour@4.0",
      "§margins@5.0",
      "ai_values@6.0",
      "figures@7.0",
      "provenance@8.0",
      "signatures@9.0",
    ]);
    expect(layoutProblems(spec, SECTIONS)).toEqual([]);
  });

  it("puts the specimens beside the patient in a second column", () => {
    let spec = setColumns(defaultLayoutSpec(SECTIONS), 1, 2);
    spec = moveBlock(spec, { row: 2, column: 0, index: 0 }, { row: 1, column: 1, index: 0 });
    expect(order(spec).slice(0, 3)).toEqual(["letterhead@0.0", "patient@1.0", "specimens@1.1"]);
    // The emptied row stays until removed; removing it loses no block.
    spec = removeRow(spec, 2);
    expect(layoutProblems(spec, SECTIONS)).toEqual([]);
  });

  it("reorders within a column, counting the index before the move", () => {
    let spec = defaultLayoutSpec(SECTIONS);
    spec = setColumns(spec, 3, 2);
    spec = moveBlock(spec, { row: 4, column: 0, index: 0 }, { row: 3, column: 0, index: 0 });
    spec = moveBlock(spec, { row: 5, column: 0, index: 0 }, { row: 3, column: 0, index: 1 });
    expect(order(spec).slice(3, 6)).toEqual(["§tumour@3.0", "§margins@3.0", "§specimen@3.0"]);
    const back = moveBlock(spec, { row: 3, column: 0, index: 0 }, { row: 3, column: 0, index: 3 });
    expect(order(back).slice(3, 6)).toEqual(["§margins@3.0", "§specimen@3.0", "§tumour@3.0"]);
  });

  it("going back to one column keeps the right column's blocks after the left's", () => {
    let spec = setColumns(defaultLayoutSpec(SECTIONS), 1, 2);
    spec = moveBlock(spec, { row: 2, column: 0, index: 0 }, { row: 1, column: 1, index: 0 });
    spec = setColumns(spec, 1, 1);
    expect(order(spec).slice(1, 3)).toEqual(["patient@1.0", "specimens@1.0"]);
  });

  it("a page break is a row of its own that holds no block", () => {
    const spec = insertRow(defaultLayoutSpec(SECTIONS), 5, { page_break: true });
    expect(spec.rows[5]).toEqual({ page_break: true });
    expect(order(spec)).toContain("§margins@6.0");
    expect(layoutProblems(spec, SECTIONS)).toEqual([]);
    expect(removeRow(spec, 5).rows).toHaveLength(10);
  });

  it("follows the dataset: a new section before the signatures, a removed one dropped", () => {
    const spec = syncWithSections(defaultLayoutSpec(SECTIONS), ["tumour", "margins", "nodes"]);
    const names = order(spec).map((s) => s.split("@")[0]);
    expect(names).toEqual([
      "letterhead",
      "patient",
      "specimens",
      "§tumour",
      "§margins",
      "ai_values",
      "figures",
      "provenance",
      "§nodes",
      "signatures",
    ]);
    expect(layoutProblems(spec, ["tumour", "margins", "nodes"])).toEqual([]);
  });

  it("names what the server will refuse", () => {
    let spec = defaultLayoutSpec(SECTIONS);
    spec = removeRow(spec, 9); // the signatures row: its block moves to the row before
    expect(layoutProblems(spec, SECTIONS)).toEqual([]);
    const broken: LayoutSpec = { schema_version: 1, rows: spec.rows.slice(0, 4) };
    expect(layoutProblems(broken, SECTIONS)).toEqual([
      "signatures: must appear once (0)",
      "section tumour: must be placed once (0)",
      "section margins: must be placed once (0)",
    ]);
    expect(missingSingleBlocks(broken)).toEqual([
      "ai_values",
      "figures",
      "provenance",
      "signatures",
    ]);
  });
});
