// /app/studio/catalog: the department's model endpoints and delivery destinations — register,
// change, disable, test-call, and see which workflows use each.
import { useState } from "react";
import { Link } from "react-router";
import { useI18n } from "../i18n";
import { EntryForm } from "./EntryForm";
import { problemsOf } from "./Problems";
import { TestCallPanel } from "./TestCallPanel";
import type { CatalogEntry } from "./types";
import { useCatalogEntries, useProtocols, useSetEnabled, useUsedBy } from "./useCatalog";
import "./catalog.css";

function UsedBy({ slug }: { slug: string }) {
  const { t } = useI18n();
  const uses = useUsedBy(slug);
  return (
    <section className="panel used-by" aria-label={t("catalog.usedBy.heading")}>
      <h3>{t("catalog.usedBy.heading")}</h3>
      {uses.data && uses.data.length === 0 && <p className="hint">{t("catalog.usedBy.none")}</p>}
      <ul>
        {uses.data?.map((use) => (
          <li key={`${use.workflow}:${use.version}`}>
            <Link to={`/studio/workflows/${use.workflow}`}>
              {t("catalog.usedBy.entry", {
                name: use.name,
                version: use.version,
                status: use.status,
                nodes: use.nodes.join(", "),
              })}
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}

function EntryDetail({ entry, onEdit }: { entry: CatalogEntry; onEdit: () => void }) {
  const { t } = useI18n();
  const setEnabled = useSetEnabled(entry.slug);
  return (
    <div className="entry-detail">
      <div className="panel">
        <h2>{t("catalog.form.editHeading", { slug: entry.slug })}</h2>
        <dl className="facts">
          <dt>{t("catalog.col.name")}</dt>
          <dd>{entry.name}</dd>
          <dt>{t("catalog.col.protocol")}</dt>
          <dd>{entry.protocol}</dd>
          <dt>{t("catalog.col.url")}</dt>
          <dd>
            <code>{entry.base_url}</code>
          </dd>
          <dt>{t("catalog.form.modelName")}</dt>
          <dd>{entry.model_name || "—"}</dd>
          <dt>{t("catalog.form.secretRef")}</dt>
          <dd>{entry.secret_ref ? <code>{entry.secret_ref}</code> : "—"}</dd>
          <dt>{t("catalog.form.timeout")}</dt>
          <dd>{entry.timeout_s}</dd>
          {entry.kind === "destination" && (
            <>
              <dt>{t("catalog.form.maxAttempts")}</dt>
              <dd data-testid="entry-max-attempts">
                {entry.max_attempts ?? t("catalog.form.maxAttemptsDefault")}
              </dd>
            </>
          )}
          <dt>{t("catalog.outputs.heading")}</dt>
          <dd data-testid="entry-outputs">
            {Object.keys(entry.outputs ?? {}).length === 0
              ? t("catalog.outputs.none")
              : Object.entries(entry.outputs ?? {})
                  .map(([name, m]) => `${name}: ${[m.marker, m.stain, m.unit].filter(Boolean).join(" · ")}`)
                  .join("; ")}
          </dd>
        </dl>
        <div className="actions">
          <button type="button" onClick={onEdit}>
            {t("catalog.edit")}
          </button>
          <button
            type="button"
            onClick={() => setEnabled.mutate(!entry.enabled)}
            disabled={setEnabled.isPending}
          >
            {entry.enabled ? t("catalog.disable") : t("catalog.enable")}
          </button>
        </div>
      </div>
      <TestCallPanel key={entry.slug} entry={entry} />
      <UsedBy slug={entry.slug} />
    </div>
  );
}

export function CatalogPage() {
  const { t } = useI18n();
  const entries = useCatalogEntries();
  const protocols = useProtocols();
  const [selected, setSelected] = useState<string | null>(null);
  const [mode, setMode] = useState<"view" | "register" | "edit">("view");
  const current = entries.data?.find((e) => e.slug === selected);

  return (
    <div className="catalog-page">
      <header className="page-head">
        <div>
          <h1>{t("catalog.heading")}</h1>
          <p className="caption">{t("catalog.caption")}</p>
        </div>
        <button type="button" className="primary" onClick={() => setMode("register")}>
          {t("catalog.register")}
        </button>
      </header>
      {entries.isPending && <p role="status">{t("catalog.loading")}</p>}
      {entries.error && (
        <p role="alert" className="problems">
          {t("catalog.loadError", { message: problemsOf(entries.error).join("; ") })}
        </p>
      )}
      <div className="catalog-body">
        <table className="catalog-table">
          <thead>
            <tr>
              <th>{t("catalog.col.slug")}</th>
              <th>{t("catalog.col.name")}</th>
              <th>{t("catalog.col.kind")}</th>
              <th>{t("catalog.col.protocol")}</th>
              <th>{t("catalog.col.url")}</th>
              <th>{t("catalog.col.enabled")}</th>
            </tr>
          </thead>
          <tbody>
            {entries.data?.length === 0 && (
              <tr>
                <td colSpan={6}>{t("catalog.empty")}</td>
              </tr>
            )}
            {entries.data?.map((entry) => (
              <tr
                key={entry.slug}
                className={entry.slug === selected ? "selected" : undefined}
                data-testid="catalog-entry"
                data-slug={entry.slug}
              >
                <td>
                  <button
                    type="button"
                    className="link"
                    aria-label={t("catalog.open", { slug: entry.slug })}
                    onClick={() => {
                      setSelected(entry.slug);
                      setMode("view");
                    }}
                  >
                    {entry.slug}
                  </button>
                </td>
                <td>{entry.name}</td>
                <td>{t(entry.kind === "model" ? "catalog.kind.model" : "catalog.kind.destination")}</td>
                <td>{entry.protocol}</td>
                <td>
                  <code>{entry.base_url}</code>
                </td>
                <td>{entry.enabled ? t("catalog.enabled") : t("catalog.disabled")}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="catalog-side">
          {mode === "register" && protocols.data && (
            <EntryForm
              protocols={protocols.data}
              onDone={(slug) => {
                setMode("view");
                if (slug) setSelected(slug);
              }}
            />
          )}
          {mode === "edit" && current && protocols.data && (
            <EntryForm entry={current} protocols={protocols.data} onDone={() => setMode("view")} />
          )}
          {mode === "view" && current && (
            <EntryDetail entry={current} onEdit={() => setMode("edit")} />
          )}
        </div>
      </div>
    </div>
  );
}
