// The editor of one field's value, by element type: a select for coded answers, checkboxes
// for several, a number, a date, yes/no, or text. Enter saves, Escape cancels.
import { useState } from "react";
import type { KeyboardEvent } from "react";
import { useI18n } from "../i18n";
import type { ReviewField } from "./api";
import { parseInput } from "./format";

export interface FieldEditorProps {
  field: ReviewField;
  value: unknown;
  /** ``reason``: why the value differs from what a rule derives (derived fields only). */
  onSave: (value: unknown, reason: string) => void;
  onCancel: () => void;
}

function label(field: ReviewField, code: string, lang: string): string {
  const answer = field.answers.find((a) => a.code === code);
  return answer ? (answer.labels[lang] ?? answer.labels.en ?? code) : code;
}

export function FieldEditor({ field, value, onSave, onCancel }: FieldEditorProps) {
  const { t, lang } = useI18n();
  const [raw, setRaw] = useState(() =>
    typeof value === "string" || typeof value === "number" || typeof value === "boolean"
      ? String(value)
      : "",
  );
  const [many, setMany] = useState<string[]>(() =>
    Array.isArray(value) ? value.map(String) : [],
  );
  const [reason, setReason] = useState(field.override_reason);
  const multiple = field.type === "multi_select";
  const save = () =>
    onSave(multiple ? (many.length ? many : null) : parseInput(field.type, raw), reason.trim());
  const keys = (event: KeyboardEvent) => {
    if (event.key === "Enter") {
      event.preventDefault();
      save();
    } else if (event.key === "Escape") {
      event.preventDefault();
      onCancel();
    }
  };
  const name = field.labels[lang] ?? field.labels.en ?? field.id;
  let input;
  if (multiple) {
    input = (
      <fieldset className="choices" onKeyDown={keys}>
        <legend className="visually-hidden">{name}</legend>
        {field.answers.map((a, index) => (
          <label key={a.code}>
            <input
              type="checkbox"
              autoFocus={index === 0}
              checked={many.includes(a.code)}
              onChange={(e) =>
                setMany((old) =>
                  e.target.checked ? [...old, a.code] : old.filter((c) => c !== a.code),
                )
              }
            />
            {label(field, a.code, lang)}
          </label>
        ))}
      </fieldset>
    );
  } else if (field.answers.length || field.type === "boolean") {
    const options =
      field.type === "boolean"
        ? [
            ["true", t("cockpit.yes")],
            ["false", t("cockpit.no")],
          ]
        : field.answers.map((a) => [a.code, label(field, a.code, lang)]);
    input = (
      <select
        autoFocus
        aria-label={name}
        data-testid="field-input"
        value={raw}
        onChange={(e) => setRaw(e.target.value)}
        onKeyDown={keys}
      >
        <option value="">{t("cockpit.clear")}</option>
        {options.map(([code, text]) => (
          <option key={code} value={code}>
            {text}
          </option>
        ))}
      </select>
    );
  } else {
    const type = field.type === "number" ? "number" : field.type === "date" ? "date" : "text";
    input = (
      <input
        autoFocus
        aria-label={name}
        data-testid="field-input"
        type={type}
        step="any"
        value={raw}
        onChange={(e) => setRaw(e.target.value)}
        onKeyDown={keys}
      />
    );
  }
  return (
    <span className="field-editor">
      {input}
      {field.unit && <span className="muted"> {field.unit}</span>}{" "}
      {field.derived && (
        <input
          className="override-reason"
          aria-label={t("cockpit.overrideReason")}
          placeholder={t("cockpit.overrideReason")}
          data-testid="override-reason"
          type="text"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          onKeyDown={keys}
        />
      )}{" "}
      <button type="button" className="primary" onClick={save}>
        {t("cockpit.save")}
      </button>{" "}
      <button type="button" onClick={onCancel}>
        {t("cockpit.cancel")}
      </button>
    </span>
  );
}
