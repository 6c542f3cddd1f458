// The layout composer's model: the declarative layout stored with a template version (see
// orchestrator/reports/layout_spec.py) and the pure edits the composer makes to it.

export type BlockType =
  | "letterhead"
  | "patient"
  | "specimens"
  | "diagnosis"
  | "section"
  | "figures"
  | "provenance"
  | "comment"
  | "ai_values"
  | "signatures";

export interface Block {
  type: BlockType;
  section?: string;
  element?: string;
  elements?: string[];
  title?: { zh?: string; en?: string };
}

export interface ColumnsRow {
  columns: Block[][];
}
export interface PageBreakRow {
  page_break: true;
}
export type Row = ColumnsRow | PageBreakRow;

export interface LayoutSpec {
  schema_version: 1;
  rows: Row[];
}

/** Where a block sits: row, column and index in the column. */
export interface Place {
  row: number;
  column: number;
  index: number;
}

export const BLOCK_TYPES: readonly BlockType[] = [
  "letterhead",
  "patient",
  "specimens",
  "diagnosis",
  "section",
  "figures",
  "provenance",
  "comment",
  "ai_values",
  "signatures",
];
export const REQUIRED_ONCE: readonly BlockType[] = ["letterhead", "patient", "signatures"];
/** Blocks that may appear at most once, offered in the palette while absent. */
export const SINGLE_BLOCKS: readonly BlockType[] = [
  "letterhead",
  "patient",
  "specimens",
  "ai_values",
  "figures",
  "provenance",
  "signatures",
];

export function isPageBreak(row: Row): row is PageBreakRow {
  return "page_break" in row;
}

/** A stable key for a block within a spec (dnd-kit ids): unique per spec by construction. */
export function blockKey(block: Block, place: Place): string {
  const what = block.section ?? block.element ?? "";
  return `${block.type}:${what}:${place.row}.${place.column}.${place.index}`;
}

export function defaultLayoutSpec(sectionIds: readonly string[]): LayoutSpec {
  const blocks: Block[] = [
    { type: "letterhead" },
    { type: "patient" },
    { type: "specimens" },
    ...sectionIds.map((section): Block => ({ type: "section", section })),
    { type: "ai_values" },
    { type: "figures" },
    { type: "provenance" },
    { type: "signatures" },
  ];
  return { schema_version: 1, rows: blocks.map((block) => ({ columns: [[block]] })) };
}

function clone(spec: LayoutSpec): LayoutSpec {
  return structuredClone(spec);
}

export function blockAt(spec: LayoutSpec, place: Place): Block | undefined {
  const row = spec.rows[place.row];
  if (!row || isPageBreak(row)) return undefined;
  return row.columns[place.column]?.[place.index];
}

/** Every block with its place, in reading order. */
export function placedBlocks(spec: LayoutSpec): { block: Block; place: Place }[] {
  const found: { block: Block; place: Place }[] = [];
  spec.rows.forEach((row, r) => {
    if (isPageBreak(row)) return;
    row.columns.forEach((column, c) => {
      column.forEach((block, index) => found.push({ block, place: { row: r, column: c, index } }));
    });
  });
  return found;
}

/** Move a block to ``to`` (index in the target column as it is before the move). */
export function moveBlock(spec: LayoutSpec, from: Place, to: Place): LayoutSpec {
  const next = clone(spec);
  const source = next.rows[from.row];
  const target = next.rows[to.row];
  if (!source || !target || isPageBreak(source) || isPageBreak(target)) return spec;
  const sourceColumn = source.columns[from.column];
  const targetColumn = target.columns[to.column];
  if (!sourceColumn || !targetColumn) return spec;
  const [block] = sourceColumn.splice(from.index, 1);
  if (!block) return spec;
  let index = to.index;
  if (sourceColumn === targetColumn && from.index < to.index) index -= 1;
  targetColumn.splice(Math.max(0, Math.min(index, targetColumn.length)), 0, block);
  return next;
}

/** One or two columns for a row; going to one column keeps every block (right after left). */
export function setColumns(spec: LayoutSpec, rowIndex: number, count: 1 | 2): LayoutSpec {
  const next = clone(spec);
  const row = next.rows[rowIndex];
  if (!row || isPageBreak(row) || row.columns.length === count) return spec;
  row.columns = count === 2 ? [row.columns[0] ?? [], []] : [row.columns.flat()];
  return next;
}

export function insertRow(spec: LayoutSpec, at: number, row: Row): LayoutSpec {
  const next = clone(spec);
  next.rows.splice(Math.max(0, Math.min(at, next.rows.length)), 0, row);
  return next;
}

/** Remove a row; its blocks (if any) go to the row before it, or after it for the first. */
export function removeRow(spec: LayoutSpec, rowIndex: number): LayoutSpec {
  const next = clone(spec);
  const [removed] = next.rows.splice(rowIndex, 1);
  if (!removed || isPageBreak(removed)) return next;
  const orphans = removed.columns.flat();
  if (orphans.length === 0) return next;
  const neighbour = [rowIndex - 1, rowIndex]
    .map((i) => next.rows[i])
    .find((r): r is ColumnsRow => r !== undefined && !isPageBreak(r));
  if (neighbour) neighbour.columns[neighbour.columns.length - 1]?.push(...orphans);
  else next.rows.push({ columns: [orphans] });
  return next;
}

export function removeBlock(spec: LayoutSpec, place: Place): LayoutSpec {
  const next = clone(spec);
  const row = next.rows[place.row];
  if (!row || isPageBreak(row)) return spec;
  row.columns[place.column]?.splice(place.index, 1);
  return next;
}

export function addBlock(spec: LayoutSpec, block: Block, rowIndex?: number): LayoutSpec {
  const next = clone(spec);
  const at = rowIndex ?? next.rows.length;
  next.rows.splice(at, 0, { columns: [[block]] });
  return next;
}

export function updateBlock(spec: LayoutSpec, place: Place, block: Block): LayoutSpec {
  const next = clone(spec);
  const row = next.rows[place.row];
  if (!row || isPageBreak(row) || !row.columns[place.column]?.[place.index]) return spec;
  (row.columns[place.column] as Block[])[place.index] = block;
  return next;
}

/** After the dataset changed: sections no longer there are dropped, new ones are placed before
 * the signatures (or at the end), each in a row of its own, in dataset order. */
export function syncWithSections(spec: LayoutSpec, sectionIds: readonly string[]): LayoutSpec {
  const known = new Set(sectionIds);
  const next = clone(spec);
  for (const row of next.rows) {
    if (isPageBreak(row)) continue;
    row.columns = row.columns.map((column) =>
      column.filter((b) => b.type !== "section" || known.has(b.section ?? "")),
    );
  }
  next.rows = next.rows.filter((row) => isPageBreak(row) || row.columns.some((c) => c.length));
  const placed = new Set(
    placedBlocks(next)
      .filter(({ block }) => block.type === "section")
      .map(({ block }) => block.section),
  );
  const missing = sectionIds.filter((id) => !placed.has(id));
  if (missing.length === 0) return next;
  const signatures = placedBlocks(next).find(({ block }) => block.type === "signatures");
  const at = signatures ? signatures.place.row : next.rows.length;
  next.rows.splice(at, 0, ...missing.map((section): Row => ({ columns: [[{ type: "section", section }]] })));
  return next;
}

/** What the server will refuse, said early (the server's check is the authority). */
export function layoutProblems(spec: LayoutSpec, sectionIds: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const { block } of placedBlocks(spec)) {
    const key = block.type === "section" ? `section:${block.section ?? ""}` : block.type;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const problems: string[] = [];
  for (const type of REQUIRED_ONCE) {
    const n = counts.get(type) ?? 0;
    if (n !== 1) problems.push(`${type}: must appear once (${n})`);
  }
  for (const id of sectionIds) {
    const n = counts.get(`section:${id}`) ?? 0;
    if (n !== 1) problems.push(`section ${id}: must be placed once (${n})`);
  }
  return problems;
}

/** Single blocks not yet in the layout (the composer's palette offers them). */
export function missingSingleBlocks(spec: LayoutSpec): BlockType[] {
  const present = new Set(placedBlocks(spec).map(({ block }) => block.type));
  return SINGLE_BLOCKS.filter((type) => !present.has(type));
}

export function parseLayoutSpec(raw: unknown): LayoutSpec | null {
  if (typeof raw !== "object" || raw === null) return null;
  const rows = (raw as { rows?: unknown }).rows;
  if (!Array.isArray(rows)) return null;
  return raw as LayoutSpec;
}

/** Move a whole row (a page break, or a row of blocks) up or down by one. */
export function moveRow(spec: LayoutSpec, rowIndex: number, by: -1 | 1): LayoutSpec {
  const target = rowIndex + by;
  if (target < 0 || target >= spec.rows.length) return spec;
  const next = clone(spec);
  const [row] = next.rows.splice(rowIndex, 1);
  if (row) next.rows.splice(target, 0, row);
  return next;
}
