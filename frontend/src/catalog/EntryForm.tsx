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

function initial(entry: CatalogEntry | undefined, protocols: readonly CatalogProtocol[]) {
  return {
    slug: entry?.slug ?? "",
    name: entry?.name ?? "",
    protocol: entry?.protocol ?? protocols[0]?.name ?? "open_inference_v2",
    base_url: entry?.base_url ?? "",
    model_name: entry?.model_name ?? "",
    secret_ref: entry?.secret_ref ?? "",
    timeout_s: String(entry?.timeout_s ?? 30),
  };
}

export function EntryForm({ entry, protocols, onDone }: Props) {
  const { t } = useI18n();
  const [form, setForm] = useState(() => initial(entry, protocols));
  const register = useRegisterEntry();
  const update = useUpdateEntry(entry?.slug ?? "");
  const mutation = entry ? update : register;
  const set = (key: keyof typeof form) => (value: string) => setForm((f) => ({ ...f, [key]: value }));

  function submit(event: FormEvent) {
    event.preventDefault();
    const values: EntryValues = {
      name: form.name,
      protocol: form.protocol,
      base_url: form.base_url,
      model_name: form.model_name,
      secret_ref: form.secret_ref,
      timeout_s: Number(form.timeout_s),
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
              {p.name} — {t(p.kind === "model" ? "catalog.kind.model" : "catalog.kind.destination")}
            </option>
          ))}
        </select>
      </label>
      {field("base_url", t("catalog.form.url"), { required: true, type: "url" })}
      {field("model_name", t("catalog.form.modelName"))}
      {field("secret_ref", t("catalog.form.secretRef"), { pattern: "[A-Z][A-Z0-9_]*" })}
      <p className="hint">{t("catalog.form.secretHelp")}</p>
      {field("timeout_s", t("catalog.form.timeout"), { type: "number", min: 0.1, max: 300, step: 0.1 })}
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
