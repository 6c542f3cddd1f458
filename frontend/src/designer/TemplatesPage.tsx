// /app/studio/templates: the department's templates, and the library to clone one from.
import { useState } from "react";
import type { FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { Problems } from "../catalog/Problems";
import { useI18n } from "../i18n";
import type { LibraryTemplate } from "./useTemplates";
import { useCloneLibrary, useLibrary, useTemplateList } from "./useTemplates";
import "../catalog/catalog.css";
import "./designer.css";

function CloneForm({ template, onCancel }: { template: LibraryTemplate; onCancel: () => void }) {
  const { t, lang } = useI18n();
  const navigate = useNavigate();
  const clone = useCloneLibrary();
  const title = lang === "zh" ? template.title_zh : template.title_en;
  const [slug, setSlug] = useState(template.slug);
  const [name, setName] = useState(title);

  function submit(event: FormEvent) {
    event.preventDefault();
    clone.mutate(
      { library: template.slug, slug, name },
      { onSuccess: () => void navigate(`/studio/templates/${slug}`) },
    );
  }

  return (
    <form className="clone-form" onSubmit={submit} aria-label={t("library.cloneHeading", { title })}>
      <label className="field">
        <span>{t("library.slug")}</span>
        <input name="slug" value={slug} onChange={(e) => setSlug(e.target.value)} required />
      </label>
      <label className="field">
        <span>{t("library.name")}</span>
        <input name="name" value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <Problems title={t("designer.problems")} error={clone.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={clone.isPending}>
          {t("library.create")}
        </button>
        <button type="button" onClick={onCancel}>
          {t("catalog.form.cancel")}
        </button>
      </div>
    </form>
  );
}

export function TemplatesPage() {
  const { t, lang } = useI18n();
  const templates = useTemplateList();
  const library = useLibrary();
  const [cloning, setCloning] = useState<string | null>(null);

  return (
    <div className="templates-page">
      <h1>{t("templates.heading")}</h1>
      <p className="caption">{t("templates.caption")}</p>
      {templates.isPending && <p role="status">{t("templates.loading")}</p>}
      {templates.data?.length === 0 && <p className="hint">{t("templates.empty")}</p>}
      {templates.data && templates.data.length > 0 && (
        <table className="catalog-table templates-table">
          <thead>
            <tr>
              <th>{t("templates.col.slug")}</th>
              <th>{t("templates.col.published")}</th>
              <th>{t("templates.col.draft")}</th>
            </tr>
          </thead>
          <tbody>
            {templates.data.map((template) => (
              <tr key={template.slug}>
                <td>
                  <Link to={`/studio/templates/${template.slug}`}>{template.name}</Link>{" "}
                  <code>{template.slug}</code>
                </td>
                <td>{template.latest_published ? `v${template.latest_published}` : "—"}</td>
                <td>{template.draft ? `v${template.draft}` : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{t("library.heading")}</h2>
      <p className="caption">{t("library.caption")}</p>
      <ul className="library">
        {library.data?.map((template) => (
          <li key={template.slug} className="panel" data-testid="library-template" data-slug={template.slug}>
            <div className="library-head">
              <strong>{lang === "zh" ? template.title_zh : template.title_en}</strong>
              <code>{template.slug}</code>
              <span className="hint">
                {t("library.sections", { sections: template.sections, elements: template.elements })}
              </span>
              <button
                type="button"
                aria-label={`${t("library.clone")} ${template.slug}`}
                onClick={() => setCloning(template.slug)}
              >
                {t("library.clone")}
              </button>
            </div>
            {cloning === template.slug && (
              <CloneForm template={template} onCancel={() => setCloning(null)} />
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
