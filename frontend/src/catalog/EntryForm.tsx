// Register a catalog entry, or change one (its slug never changes: graphs name it).
import { useState } from "react";
import type { FormEvent } from "react";
import { useI18n } from "../i18n";
import { Problems } from "./Problems";
import type { CatalogEntry, CatalogProtocol } from "./types";
import { useRegisterEntry, useUpdateEntry } from "./useCatalog";
import type { EntryValues } from "./useCatalog";

interface Props {
  entry?: CatalogEntry;
  protocols: readonly CatalogProtocol[];
  onDone: (slug: string | null) => void;
}

export interface OutputRow {
  name: string;
  marker: string;
  stain: string;
  unit: string;
}

/** The outputs declaration as rows the form edits, and back (empty rows and fields dropped). */
export function outputRows(outputs: CatalogEntry["outputs"]): OutputRow[] {
  return Object.entries(outputs ?? {}).map(([name, m]) => ({
    name,
    marker: m.marker ?? "",
    stain: m.stain ?? "",
    unit: m.unit ?? "",
  }));
}

export function outputsOf(rows: readonly OutputRow[]): Record<string, Record<string, string>> {
  const outputs: Record<string, Record<string, string>> = {};
  for (const row of rows) {
    if (!row.name.trim()) continue;
    const measures: Record<string, string> = {};
    for (const key of ["marker", "stain", "unit"] as const) {
      if (row[key].trim()) measures[key] = row[key].trim();
    }
    outputs[row.name.trim()] = measures;
  }
  return outputs;
}

function initial(entry: CatalogEntry | undefined, protocols: readonly CatalogProtocol[]) {
  return {
    slug: entry?.slug ?? "",
    name: entry?.name ?? "",
    protocol: entry?.protocol ?? protocols[0]?.name ?? "open_inference_v2",
    base_url: entry?.base_url ?? "",
    model_name: entry?.model_name ?? "",
    secret_ref: entry?.secret_ref ?? "",
    timeout_s: String(entry?.timeout_s ?? 30),
    max_attempts: entry?.max_attempts == null ? "" : String(entry.max_attempts),
  };
}

export function EntryForm({ entry, protocols, onDone }: Props) {
  const { t } = useI18n();
  const [form, setForm] = useState(() => initial(entry, protocols));
  const [outputs, setOutputs] = useState<OutputRow[]>(() => outputRows(entry?.outputs));
  const setOutput = (index: number, key: keyof OutputRow, value: string) =>
    setOutputs((rows) => rows.map((r, i) => (i === index ? { ...r, [key]: value } : r)));
  const register = useRegisterEntry();
  const update = useUpdateEntry(entry?.slug ?? "");
  const mutation = entry ? update : register;
  const set = (key: keyof typeof form) => (value: string) => setForm((f) => ({ ...f, [key]: value }));
  const isDestination = protocols.find((p) => p.name === form.protocol)?.kind === "destination";

  function submit(event: FormEvent) {
    event.preventDefault();
    const values: EntryValues = {
      name: form.name,
      protocol: form.protocol,
      base_url: form.base_url,
      model_name: form.model_name,
      secret_ref: form.secret_ref,
      timeout_s: Number(form.timeout_s),
      // Only a destination retries deliveries; a model endpoint's is always empty.
      max_attempts: isDestination && form.max_attempts.trim() ? Number(form.max_attempts) : null,
      outputs: outputsOf(outputs),
    };
    if (entry) update.mutate(values, { onSuccess: () => onDone(entry.slug) });
    else register.mutate({ ...values, slug: form.slug }, { onSuccess: (e) => onDone(e.slug) });
  }

  const field = (key: keyof typeof form, label: string, props: Record<string, unknown> = {}) => (
    <label className="field">
      <span>{label}</span>
      <input
        name={key}
        value={form[key]}
        onChange={(e) => set(key)(e.target.value)}
        {...props}
      />
    </label>
  );

  return (
    <form className="entry-form panel" onSubmit={submit} aria-label={t("catalog.form.registerHeading")}>
      <h2>
        {entry
          ? t("catalog.form.editHeading", { slug: entry.slug })
          : t("catalog.form.registerHeading")}
      </h2>
      {!entry && field("slug", t("catalog.form.slug"), { required: true, pattern: "[-a-zA-Z0-9_]+" })}
      {field("name", t("catalog.form.name"), { required: true })}
      <label className="field">
        <span>{t("catalog.form.protocol")}</span>
        <select name="protocol" value={form.protocol} onChange={(e) => set("protocol")(e.target.value)}>
          {protocols.map((p) => (
            <option key={p.name} value={p.name}>
              {p.name} — {p.title}
            </option>
          ))}
        </select>
      </label>
      {field("base_url", t("catalog.form.url"), { required: true })}
      {field("model_name", t("catalog.form.modelName"))}
      {field("secret_ref", t("catalog.form.secretRef"), { pattern: "[A-Z][A-Z0-9_]*" })}
      <p className="hint">{t("catalog.form.secretHelp")}</p>
      {field("timeout_s", t("catalog.form.timeout"), { type: "number", min: 0.1, max: 300, step: 0.1 })}
      {isDestination && (
        <>
          {field("max_attempts", t("catalog.form.maxAttempts"), {
            type: "number",
            min: 1,
            max: 1000,
            step: 1,
            placeholder: t("catalog.form.maxAttemptsDefault"),
          })}
          <p className="hint">{t("catalog.form.maxAttemptsHelp")}</p>
        </>
      )}
      <fieldset className="outputs">
        <legend>{t("catalog.outputs.heading")}</legend>
        <p className="hint">{t("catalog.outputs.help")}</p>
        {outputs.map((row, index) => (
          <div className="answer" key={index} data-testid="output-row">
            {(["name", "marker", "stain", "unit"] as const).map((key) => (
              <input
                key={key}
                aria-label={`${t(`catalog.outputs.${key}`)} ${index + 1}`}
                placeholder={t(`catalog.outputs.${key}`)}
                value={row[key]}
                onChange={(e) => setOutput(index, key, e.target.value)}
              />
            ))}
            <button
              type="button"
              aria-label={t("catalog.outputs.remove", { n: index + 1 })}
              onClick={() => setOutputs((rows) => rows.filter((_, i) => i !== index))}
            >
              ×
            </button>
          </div>
        ))}
        <button
          type="button"
          onClick={() => setOutputs((rows) => [...rows, { name: "", marker: "", stain: "", unit: "" }])}
        >
          {t("catalog.outputs.add")}
        </button>
      </fieldset>
      <Problems title={t("catalog.form.problems")} error={mutation.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={mutation.isPending}>
          {entry ? t("catalog.form.save") : t("catalog.form.create")}
        </button>
        <button type="button" onClick={() => onDone(entry?.slug ?? null)}>
          {t("catalog.form.cancel")}
        </button>
      </div>
    </form>
  );
}
