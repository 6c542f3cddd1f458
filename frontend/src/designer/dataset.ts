// The dataset definition as the designer edits it (workflows/datasets: sections → elements),
// and the pure edits the section and element lists make.

export type ElementType = "single_select" | "multi_select" | "number" | "text" | "boolean" | "date";
export const ELEMENT_TYPES: readonly ElementType[] = [
  "single_select",
  "multi_select",
  "number",
  "text",
  "boolean",
  "date",
];

export interface Labels {
  zh: string;
  en: string;
}

export interface Answer {
  system?: string;
  code: string;
  label: Labels;
}

export interface DatasetElement {
  id: string;
  type: ElementType;
  label: Labels;
  help?: Labels;
  required?: boolean;
  unit?: string;
  min?: number;
  max?: number;
  precision?: number;
  answers?: Answer[];
  visible_if?: string;
  when_hidden?: "omit" | "not_applicable";
  /** Who determines the value; model values print apart from the pathologist's. */
  source?: "pathologist" | "model" | "model_confirmed";
  /** What a model-filled element measures. */
  measures?: { marker?: string; stain?: string; unit?: string };
  [other: string]: unknown;
}

export interface DatasetSection {
  id: string;
  title: Labels;
  elements: DatasetElement[];
  [other: string]: unknown;
}

export interface Dataset {
  schema_version?: number;
  slug?: string;
  title: Labels;
  sections: DatasetSection[];
  [other: string]: unknown;
}

export function isSelect(type: ElementType): boolean {
  return type === "single_select" || type === "multi_select";
}

function move<T>(items: readonly T[], from: number, to: number): T[] {
  const next = [...items];
  const [item] = next.splice(from, 1);
  if (item === undefined) return [...items];
  next.splice(to, 0, item);
  return next;
}

export function moveSection(dataset: Dataset, from: number, to: number): Dataset {
  return { ...dataset, sections: move(dataset.sections, from, to) };
}

export function moveElement(dataset: Dataset, section: number, from: number, to: number): Dataset {
  return {
    ...dataset,
    sections: dataset.sections.map((s, i) =>
      i === section ? { ...s, elements: move(s.elements, from, to) } : s,
    ),
  };
}

export function updateElement(
  dataset: Dataset,
  section: number,
  index: number,
  element: DatasetElement,
): Dataset {
  return {
    ...dataset,
    sections: dataset.sections.map((s, i) =>
      i === section
        ? { ...s, elements: s.elements.map((e, j) => (j === index ? element : e)) }
        : s,
    ),
  };
}

export function updateSection(dataset: Dataset, index: number, section: DatasetSection): Dataset {
  return { ...dataset, sections: dataset.sections.map((s, i) => (i === index ? section : s)) };
}

/** A fresh id that no element (or section) uses yet: base, base_2, base_3, … */
export function freshId(taken: Iterable<string>, base: string): string {
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let n = 2; ; n += 1) if (!used.has(`${base}_${n}`)) return `${base}_${n}`;
}

export function allElements(dataset: Dataset): DatasetElement[] {
  return dataset.sections.flatMap((s) => s.elements);
}

export function addElement(dataset: Dataset, section: number): [Dataset, number] {
  const id = freshId(
    allElements(dataset).map((e) => e.id),
    "new_element",
  );
  const element: DatasetElement = {
    id,
    type: "text",
    label: { zh: "新项目", en: "New element" },
    required: false,
  };
  const target = dataset.sections[section];
  const index = target ? target.elements.length : 0;
  return [
    {
      ...dataset,
      sections: dataset.sections.map((s, i) =>
        i === section ? { ...s, elements: [...s.elements, element] } : s,
      ),
    },
    index,
  ];
}

export function removeElement(dataset: Dataset, section: number, index: number): Dataset {
  return {
    ...dataset,
    sections: dataset.sections.map((s, i) =>
      i === section ? { ...s, elements: s.elements.filter((_, j) => j !== index) } : s,
    ),
  };
}

export function addSection(dataset: Dataset): Dataset {
  const id = freshId(
    dataset.sections.map((s) => s.id),
    "new_section",
  );
  return {
    ...dataset,
    sections: [
      ...dataset.sections,
      {
        id,
        title: { zh: "新章节", en: "New section" },
        elements: [{ id: freshId(allElements(dataset).map((e) => e.id), "new_element"), type: "text", label: { zh: "新项目", en: "New element" } }],
      },
    ],
  };
}

/** The elements before ``element`` in report order: what its condition may read. */
export function elementsBefore(dataset: Dataset, elementId: string): DatasetElement[] {
  const all = allElements(dataset);
  const at = all.findIndex((e) => e.id === elementId);
  return at < 0 ? all : all.slice(0, at);
}
