// Sections and their elements, reordered by drag and drop (dnd-kit; the keyboard works too:
// focus a handle, Space, arrows, Space), with the selected element's editor beside them.
import {
  closestCenter,
  DndContext,
  KeyboardSensor,
  PointerSensor,
  useSensor,
  useSensors,
} from "@dnd-kit/core";
import type { CollisionDetection, DragEndEvent } from "@dnd-kit/core";
import {
  SortableContext,
  sortableKeyboardCoordinates,
  useSortable,
  verticalListSortingStrategy,
} from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import type { ReactNode } from "react";
import { useI18n } from "../i18n";
import {
  addElement,
  addSection,
  elementsBefore,
  moveElement,
  moveSection,
  removeElement,
  updateElement,
  updateSection,
} from "./dataset";
import type { Dataset } from "./dataset";
import { ElementEditor } from "./ElementEditor";

export interface Selection {
  section: number;
  element: number;
}

interface Props {
  dataset: Dataset;
  selected: Selection | null;
  onSelect: (selection: Selection | null) => void;
  onChange: (dataset: Dataset) => void;
}

function Sortable({
  id,
  handleLabel,
  className,
  name,
  children,
}: {
  id: string;
  handleLabel: string;
  className: string;
  /** The section's or element's id, for tests and the user guide's screenshots. */
  name: string;
  children: ReactNode;
}) {
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({ id });
  return (
    <li
      ref={setNodeRef}
      className={`${className}${isDragging ? " dragging" : ""}`}
      style={{ transform: CSS.Transform.toString(transform), transition }}
      data-sortable-id={id}
      data-name={name}
    >
      <button type="button" className="drag-handle" aria-label={handleLabel} {...attributes} {...listeners}>
        ⠿
      </button>
      {children}
    </li>
  );
}

/** "s:<index>" for sections, "e:<section>:<index>" for elements. */
function parseId(id: string | number): { section: number; element?: number } | null {
  const parts = String(id).split(":");
  if (parts[0] === "s") return { section: Number(parts[1]) };
  if (parts[0] === "e") return { section: Number(parts[1]), element: Number(parts[2]) };
  return null;
}

/** Sections land among sections, elements among the elements of their own section: the
 * section boxes are large, and their centres would otherwise win an element's drop. */
export const sameKindCollision: CollisionDetection = (args) => {
  const [kind, section] = String(args.active.id).split(":");
  const droppableContainers = args.droppableContainers.filter((container) => {
    const [otherKind, otherSection] = String(container.id).split(":");
    return otherKind === kind && (kind === "s" || otherSection === section);
  });
  return closestCenter({ ...args, droppableContainers });
};

export function DatasetEditor({ dataset, selected, onSelect, onChange }: Props) {
  const { t, lang } = useI18n();
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );

  function dragEnd({ active, over }: DragEndEvent) {
    if (!over || active.id === over.id) return;
    const from = parseId(active.id);
    const to = parseId(over.id);
    if (!from || !to) return;
    if (from.element === undefined && to.element === undefined) {
      onChange(moveSection(dataset, from.section, to.section));
      onSelect(null);
    } else if (
      from.element !== undefined &&
      to.element !== undefined &&
      from.section === to.section
    ) {
      onChange(moveElement(dataset, from.section, from.element, to.element));
      onSelect({ section: to.section, element: to.element });
    }
  }

  const current =
    selected && dataset.sections[selected.section]?.elements[selected.element]
      ? { ...selected, element_: dataset.sections[selected.section]!.elements[selected.element]! }
      : null;

  return (
    <div className="dataset-editor">
      <div className="dataset-list">
        <DndContext sensors={sensors} collisionDetection={sameKindCollision} onDragEnd={dragEnd}>
          <SortableContext
            items={dataset.sections.map((_, i) => `s:${i}`)}
            strategy={verticalListSortingStrategy}
          >
            <ol className="sections">
              {dataset.sections.map((section, s) => (
                <Sortable
                  key={`${section.id}-${s}`}
                  id={`s:${s}`}
                  className="section-item"
                  name={section.id}
                  handleLabel={t("dataset.dragSection", { title: section.title[lang] })}
                >
                  <div className="section-body">
                    <input
                      className="section-title"
                      aria-label={`${t("dataset.sectionTitle")} ${section.id}`}
                      value={section.title[lang]}
                      onChange={(e) =>
                        onChange(
                          updateSection(dataset, s, {
                            ...section,
                            title: { ...section.title, [lang]: e.target.value },
                          }),
                        )
                      }
                    />
                    <SortableContext
                      items={section.elements.map((_, i) => `e:${s}:${i}`)}
                      strategy={verticalListSortingStrategy}
                    >
                      <ol className="elements">
                        {section.elements.map((element, e) => (
                          <Sortable
                            key={`${element.id}-${e}`}
                            id={`e:${s}:${e}`}
                            name={element.id}
                            className={`element-item${
                              selected?.section === s && selected.element === e ? " selected" : ""
                            }`}
                            handleLabel={t("dataset.dragElement", { label: element.label[lang] })}
                          >
                            <button
                              type="button"
                              className="element-select"
                              data-element-id={element.id}
                              aria-label={t("dataset.select", { label: element.label[lang] })}
                              onClick={() => onSelect({ section: s, element: e })}
                            >
                              {element.label[lang]}
                              <span className="tags">
                                <code>{element.id}</code>
                                {element.required && <span className="tag">{t("dataset.required")}</span>}
                                {element.visible_if && (
                                  <span className="tag">{t("dataset.conditional")}</span>
                                )}
                              </span>
                            </button>
                          </Sortable>
                        ))}
                      </ol>
                    </SortableContext>
                    <button
                      type="button"
                      onClick={() => {
                        const [next, index] = addElement(dataset, s);
                        onChange(next);
                        onSelect({ section: s, element: index });
                      }}
                    >
                      {t("dataset.addElement")}
                    </button>
                  </div>
                </Sortable>
              ))}
            </ol>
          </SortableContext>
        </DndContext>
        <button type="button" onClick={() => onChange(addSection(dataset))}>
          {t("dataset.addSection")}
        </button>
      </div>
      {current && (
        <div className="element-pane">
          <ElementEditor
            key={`${current.section}:${current.element}`}
            element={current.element_}
            earlier={elementsBefore(dataset, current.element_.id)}
            onChange={(element) =>
              onChange(updateElement(dataset, current.section, current.element, element))
            }
          />
          <button
            type="button"
            className="danger"
            onClick={() => {
              onChange(removeElement(dataset, current.section, current.element));
              onSelect(null);
            }}
          >
            {t("dataset.removeElement")}
          </button>
        </div>
      )}
    </div>
  );
}
