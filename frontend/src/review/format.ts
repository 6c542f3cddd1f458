// How the cockpit and the portal print values, sources and ages: pure functions.

export interface AnswerLike {
  code: string;
  labels: Record<string, string>;
}

export interface FieldLike {
  type: string;
  unit: string;
  answers: readonly AnswerLike[];
}

export interface Words {
  yes: string;
  no: string;
  empty: string;
}

function answerLabel(field: FieldLike, code: unknown, lang: string): string {
  const answer = field.answers.find((a) => a.code === code);
  return answer ? (answer.labels[lang] ?? answer.labels.en ?? answer.code) : String(code);
}

/** A value as the report prints it: answer labels, units, yes/no; `empty` when unset. */
export function displayValue(field: FieldLike, value: unknown, lang: string, words: Words): string {
  if (value === null || value === undefined || value === "") return words.empty;
  if (Array.isArray(value)) {
    return value.length ? value.map((v) => answerLabel(field, v, lang)).join(", ") : words.empty;
  }
  if (typeof value === "boolean") return value ? words.yes : words.no;
  if (field.answers.length) return answerLabel(field, value, lang);
  if (typeof value === "number") return field.unit ? `${value} ${field.unit}` : String(value);
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

export interface SourceText {
  key: "cockpit.person" | "cockpit.case" | "cockpit.model" | "cockpit.noSource";
  params: Record<string, string>;
}

/** The first source of a field as a message key and its parameters. */
export function sourceOf(provenance: readonly Record<string, unknown>[]): SourceText {
  const source = provenance[0];
  if (!source) return { key: "cockpit.noSource", params: {} };
  const text = (name: string) => {
    const value = source[name];
    return typeof value === "string" || typeof value === "number" ? String(value) : "";
  };
  if (source.kind === "person") return { key: "cockpit.person", params: { name: text("name") } };
  if (source.kind === "model") {
    return {
      key: "cockpit.model",
      params: {
        endpoint: text("endpoint"),
        model: text("model_name"),
        version: text("model_version"),
        run: text("run"),
      },
    };
  }
  return { key: "cockpit.case", params: {} };
}

/** A probability (0–1) as a whole percentage, or "—". */
export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${Math.round(value * 100)}%`;
}

/** How long something waited, in the largest whole unit. */
export function ageOf(seconds: number): { key: "age.minutes" | "age.hours" | "age.days"; n: number } {
  if (seconds < 3600) return { key: "age.minutes", n: Math.max(0, Math.floor(seconds / 60)) };
  if (seconds < 86400) return { key: "age.hours", n: Math.floor(seconds / 3600) };
  return { key: "age.days", n: Math.floor(seconds / 86400) };
}

/** A value typed into an editor, as the API wants it for the field's type. */
export function parseInput(type: string, raw: string): unknown {
  if (raw.trim() === "") return null;
  if (type === "number") {
    const n = Number(raw);
    return Number.isFinite(n) ? n : raw;
  }
  if (type === "boolean") return raw === "true";
  return raw;
}
