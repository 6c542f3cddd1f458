// The layout composer: the report's blocks in rows of one or two columns, dragged between rows
// and columns (dnd-kit), with page breaks; writes the declarative layout spec.
import {
  closestCenter,
  DndContext,
  KeyboardSensor,
  PointerSensor,
  useDroppable,
  useSensor,
  useSensors,
} from "@dnd-kit/core";
import type { DragEndEvent } from "@dnd-kit/core";
import {
  SortableContext,
  sortableKeyboardCoordinates,
  useSortable,
  verticalListSortingStrategy,
} from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import { useI18n } from "../i18n";
import type { MessageKey } from "../i18n";
import { allElements } from "./dataset";
import type { Dataset } from "./dataset";
import {
  addBlock,
  insertRow,
  isPageBreak,
  layoutProblems,
  missingSingleBlocks,
  moveBlock,
  moveRow,
  removeBlock,
  removeRow,
  setColumns,
  updateBlock,
} from "./layoutSpec";
import type { Block, LayoutSpec, Place } from "./layoutSpec";

interface Props {
  spec: LayoutSpec;
  dataset: Dataset;
  onChange: (spec: LayoutSpec) => void;
}

function useBlockName(dataset: Dataset) {
  const { t, lang } = useI18n();
  return (block: Block): string => {
    if (block.type === "section") {
      const section = dataset.sections.find((s) => s.id === block.section);
      return t("block.section", { title: section?.title[lang] ?? block.section ?? "?" });
    }
    if (block.type === "comment") {
      const element = allElements(dataset).find((e) => e.id === block.element);
      return t("block.comment", { label: element?.label[lang] ?? block.element ?? "?" });
    }
    return t(`block.${block.type}` as MessageKey);
  };
}

const blockId = (p: Place) => `b:${p.row}:${p.column}:${p.index}`;
const columnId = (row: number, column: number) => `col:${row}:${column}`;

function placeOf(id: string | number): (Place & { column_: boolean }) | null {
  const parts = String(id).split(":").slice(1).map(Number);
  if (String(id).startsWith("b:") && parts.length === 3) {
    return { row: parts[0]!, column: parts[1]!, index: parts[2]!, column_: false };
  }
  if (String(id).startsWith("col:") && parts.length === 2) {
    return { row: parts[0]!, column: parts[1]!, index: Number.MAX_SAFE_INTEGER, column_: true };
  }
  return null;
}

function BlockCard({
  block,
  place,
  dataset,
  onChange,
  onRemove,
}: {
  block: Block;
  place: Place;
  dataset: Dataset;
  onChange: (block: Block) => void;
  onRemove: () => void;
}) {
  const { t, lang } = useI18n();
  const name = useBlockName(dataset)(block);
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({
    id: blockId(place),
  });
  const elements = allElements(dataset);
  return (
    <li
      ref={setNodeRef}
      className={`layout-block layout-block--${block.type}${isDragging ? " dragging" : ""}`}
      style={{ transform: CSS.Transform.toString(transform), transition }}
      data-block={block.type === "section" ? `section:${block.section ?? ""}` : block.type}
    >
      <div className="layout-block-head">
        <button type="button" className="drag-handle" aria-label={t("layout.drag", { block: name })} {...attributes} {...listeners}>
          ⠿
        </button>
        <span>{name}</span>
        <button type="button" aria-label={t("layout.remove", { block: name })} onClick={onRemove}>
          ×
        </button>
      </div>
      {block.type === "diagnosis" && (
        <details>
          <summary>{t("layout.diagnosisElements")}</summary>
          <div className="checks">
            {elements.map((e) => (
              <label key={e.id} className="inline">
                <input
                  type="checkbox"
                  checked={block.elements?.includes(e.id) ?? false}
                  onChange={(event) => {
                    const chosen = new Set(block.elements ?? []);
                    if (event.target.checked) chosen.add(e.id);
                    else chosen.delete(e.id);
                    onChange({ ...block, elements: elements.map((x) => x.id).filter((id) => chosen.has(id)) });
                  }}
                />{" "}
                {e.label[lang]}
              </label>
            ))}
          </div>
        </details>
      )}
      {block.type === "comment" && (
        <label className="field">
          <span>{t("layout.commentElement")}</span>
          <select value={block.element ?? ""} onChange={(e) => onChange({ ...block, element: e.target.value })}>
            {elements
              .filter((e) => e.type === "text")
              .map((e) => (
                <option key={e.id} value={e.id}>
                  {e.label[lang]}
                </option>
              ))}
          </select>
        </label>
      )}
    </li>
  );
}

function Column({ row, column, children, empty }: { row: number; column: number; children: React.ReactNode; empty: boolean }) {
  const { t } = useI18n();
  const { setNodeRef, isOver } = useDroppable({ id: columnId(row, column) });
  return (
    <ol ref={setNodeRef} className={`layout-column${isOver ? " over" : ""}`} data-column={`${row}.${column}`}>
      {children}
      {empty && <li className="layout-empty">{t("layout.emptyColumn")}</li>}
    </ol>
  );
}

export function LayoutComposer({ spec, dataset, onChange }: Props) {
  const { t, lang } = useI18n();
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );
  const sectionIds = dataset.sections.map((s) => s.id);
  const problems = layoutProblems(spec, sectionIds);
  const textElements = allElements(dataset).filter((e) => e.type === "text");

  function dragEnd({ active, over }: DragEndEvent) {
    if (!over || active.id === over.id) return;
    const from = placeOf(active.id);
    const to = placeOf(over.id);
    if (!from || !to) return;
    const sameColumn = from.row === to.row && from.column === to.column;
    // Dropped on a block of its own column: take that block's place (as arrayMove does).
    const index = sameColumn && !to.column_ && from.index < to.index ? to.index + 1 : to.index;
    onChange(moveBlock(spec, from, { row: to.row, column: to.column, index }));
  }

  return (
    <div className="layout-composer">
      <p className="hint">{t("layout.help")}</p>
      {problems.length > 0 && (
        <div className="problems" role="alert">
          <p>{t("layout.problems")}</p>
          <ul>
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      )}
      <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={dragEnd}>
        <ol className="layout-rows">
          {spec.rows.map((row, r) => (
            <li key={r} className={isPageBreak(row) ? "layout-row page-break" : "layout-row"} data-row={r}>
              <div className="layout-row-tools">
                <button type="button" aria-label={`↑ ${r + 1}`} onClick={() => onChange(moveRow(spec, r, -1))}>
                  ↑
                </button>
                <button type="button" aria-label={`↓ ${r + 1}`} onClick={() => onChange(moveRow(spec, r, 1))}>
                  ↓
                </button>
                {!isPageBreak(row) && (
                  <select
                    aria-label={`${t("layout.twoColumns")} ${r + 1}`}
                    value={row.columns.length}
                    onChange={(e) => onChange(setColumns(spec, r, Number(e.target.value) as 1 | 2))}
                  >
                    <option value={1}>{t("layout.oneColumn")}</option>
                    <option value={2}>{t("layout.twoColumns")}</option>
                  </select>
                )}
                <button type="button" aria-label={`${t("layout.removeRow")} ${r + 1}`} onClick={() => onChange(removeRow(spec, r))}>
                  {t("layout.removeRow")}
                </button>
              </div>
              {isPageBreak(row) ? (
                <div className="page-break-line">{t("layout.pageBreak")}</div>
              ) : (
                <div className={`layout-columns cols-${row.columns.length}`}>
                  {row.columns.map((column, c) => (
                    <SortableContext
                      key={c}
                      items={column.map((_, i) => blockId({ row: r, column: c, index: i }))}
                      strategy={verticalListSortingStrategy}
                    >
                      <Column row={r} column={c} empty={column.length === 0}>
                        {column.map((block, i) => {
                          const place = { row: r, column: c, index: i };
                          return (
                            <BlockCard
                              key={blockId(place)}
                              block={block}
                              place={place}
                              dataset={dataset}
                              onChange={(b) => onChange(updateBlock(spec, place, b))}
                              onRemove={() => onChange(removeBlock(spec, place))}
                            />
                          );
                        })}
                      </Column>
                    </SortableContext>
                  ))}
                </div>
              )}
            </li>
          ))}
        </ol>
      </DndContext>
      <div className="layout-palette actions">
        <span>{t("layout.add")}:</span>
        {missingSingleBlocks(spec).map((type) => (
          <button key={type} type="button" onClick={() => onChange(addBlock(spec, { type }))}>
            {t(`block.${type}` as MessageKey)}
          </button>
        ))}
        {sectionIds
          .filter((id) => !spec.rows.some((row) => !isPageBreak(row) && row.columns.flat().some((b) => b.type === "section" && b.section === id)))
          .map((id) => (
            <button key={id} type="button" onClick={() => onChange(addBlock(spec, { type: "section", section: id }))}>
              {t("block.section", { title: id })}
            </button>
          ))}
        <button type="button" onClick={() => onChange(addBlock(spec, { type: "diagnosis", elements: [] }, 1))}>
          {t("block.diagnosis")}
        </button>
        {textElements[0] && (
          <button
            type="button"
            onClick={() => onChange(addBlock(spec, { type: "comment", element: textElements[0]!.id }))}
          >
            {t("block.comment", { label: textElements[0].label[lang] })}
          </button>
        )}
        <button type="button" onClick={() => onChange(insertRow(spec, spec.rows.length - 1, { page_break: true }))}>
          {t("layout.addPageBreak")}
        </button>
        <button type="button" onClick={() => onChange(insertRow(spec, spec.rows.length, { columns: [[], []] }))}>
          {t("layout.addRow")}
        </button>
      </div>
    </div>
  );
}
