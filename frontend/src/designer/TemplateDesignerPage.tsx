// /app/studio/templates/:slug — the template designer: sections and elements, the layout
// composer, a custom layout for experts, history and diff, with the live PDF preview beside.
import { useState } from "react";
import { Link, useParams } from "react-router";
import { Problems } from "../catalog/Problems";
import { useI18n } from "../i18n";
import type { Lang } from "../i18n";
import { DatasetEditor } from "./DatasetEditor";
import type { Selection } from "./DatasetEditor";
import type { Dataset } from "./dataset";
import { ExpertLayout } from "./ExpertLayout";
import { HistoryPanel } from "./HistoryPanel";
import { LayoutComposer } from "./LayoutComposer";
import { defaultLayoutSpec, syncWithSections } from "./layoutSpec";
import { PreviewPane } from "./PreviewPane";
import type { Content, TemplateVersionDetail } from "./useTemplates";
import { contentOf, useNewDraft, usePublish, useSaveDraft, useTemplate, useVersion } from "./useTemplates";
import "../catalog/catalog.css";
import "./designer.css";

type Tab = "dataset" | "layout" | "expert" | "history";
const TABS: readonly Tab[] = ["dataset", "layout", "expert", "history"];

/** A dataset edit keeps the designed layout in step: new sections placed, removed ones dropped. */
export function withDataset(content: Content, dataset: Dataset): Content {
  const spec = content.layout_spec
    ? syncWithSections(
        content.layout_spec,
        dataset.sections.map((s) => s.id),
      )
    : null;
  return { ...content, dataset, layout_spec: spec };
}

function Editor({
  slug,
  version,
  onPublished,
}: {
  slug: string;
  version: TemplateVersionDetail;
  onPublished: (number: number) => void;
}) {
  const { t, lang } = useI18n();
  const [content, setContent] = useState<Content>(() => contentOf(version));
  const [dirty, setDirty] = useState(false);
  const [tab, setTab] = useState<Tab>("dataset");
  const [selected, setSelected] = useState<Selection | null>(null);
  const [previewLang, setPreviewLang] = useState<Lang>(lang);
  const save = useSaveDraft(slug);
  const publish = usePublish(slug);
  const editable = version.status === "draft";

  const change = (next: Content) => {
    setContent(next);
    setDirty(true);
  };

  async function saveDraft(): Promise<boolean> {
    try {
      await save.mutateAsync(content);
      setDirty(false);
      return true;
    } catch {
      return false;
    }
  }

  async function publishDraft() {
    if (dirty && !(await saveDraft())) return;
    try {
      // Not mutate's onSuccess: publishing refetches the template, which remounts this editor
      // (its version is no longer the draft) before such a callback would run.
      onPublished((await publish.mutateAsync(version.number)).number);
    } catch {
      // The error is shown from publish.error.
    }
  }

  return (
    <div className="designer">
      <div className="designer-main">
        <div className="designer-toolbar actions">
          <span className="hint" role="status">
            {dirty
                ? t("designer.unsaved")
                : save.isSuccess
                  ? t("designer.saved")
                  : ""}
          </span>
          <button type="button" onClick={() => void saveDraft()} disabled={!editable || save.isPending}>
            {save.isPending ? t("designer.saving") : t("designer.save")}
          </button>
          <button type="button" className="primary" onClick={() => void publishDraft()} disabled={!editable || publish.isPending}>
            {t("designer.publish")}
          </button>
        </div>
        <Problems title={t("designer.problems")} error={save.error ?? publish.error} />
        <div className="tabs" role="tablist">
          {TABS.map((name) => (
            <button
              key={name}
              type="button"
              role="tab"
              aria-selected={tab === name}
              className={tab === name ? "tab active" : "tab"}
              onClick={() => setTab(name)}
            >
              {t(`designer.tab.${name}`)}
            </button>
          ))}
        </div>
        {tab === "dataset" && (
          <DatasetEditor
            dataset={content.dataset}
            selected={selected}
            onSelect={setSelected}
            onChange={(dataset) => change(withDataset(content, dataset))}
          />
        )}
        {tab === "layout" &&
          (content.layout_html ? (
            <p className="hint">{t("layout.customActive")}</p>
          ) : content.layout_spec ? (
            <LayoutComposer
              spec={content.layout_spec}
              dataset={content.dataset}
              onChange={(spec) => change({ ...content, layout_spec: spec })}
            />
          ) : (
            <button
              type="button"
              onClick={() =>
                change({
                  ...content,
                  layout_spec: defaultLayoutSpec(content.dataset.sections.map((s) => s.id)),
                })
              }
            >
              {t("layout.useDesigned")}
            </button>
          ))}
        {tab === "expert" && (
          <ExpertLayout
            content={content}
            onChange={(next) => change({ ...next, layout_spec: next.layout_html ? null : next.layout_spec })}
          />
        )}
        {tab === "history" && <HistoryPanel slug={slug} />}
      </div>
      <PreviewPane content={content} language={previewLang} onLanguage={setPreviewLang} />
    </div>
  );
}

export function TemplateDesignerRoute() {
  const { slug = "" } = useParams();
  const { t } = useI18n();
  const template = useTemplate(slug);
  const number = template.data ? (template.data.draft ?? template.data.latest_published) : undefined;
  const version = useVersion(slug, number);
  const newDraft = useNewDraft(slug);
  const key = version.data ? `${version.data.number}:${version.data.status}` : "";
  const [published, setPublished] = useState<number | null>(null);

  return (
    <div className="designer-page">
      <Link to="/studio/templates">{t("designer.back")}</Link>
      <h1>
        {template.data?.name ?? slug}{" "}
        {version.data && (
          <span className="hint">
            {t("designer.version", { number: version.data.number, status: version.data.status })}
          </span>
        )}
      </h1>
      {(template.isPending || version.isPending) && <p role="status">{t("designer.loading")}</p>}
      <Problems title={t("designer.problems")} error={template.error ?? version.error ?? newDraft.error} />
      {version.data && version.data.status !== "draft" && (
        <div className="panel">
          <p>{t("designer.noDraft")}</p>
          <button
            type="button"
            className="primary"
            onClick={() => {
              setPublished(null);
              newDraft.mutate(version.data.number);
            }}
          >
            {t("designer.newDraft")}
          </button>
        </div>
      )}
      {published !== null && (
        <p className="published-note" role="status">
          {t("designer.published", { number: published })}
        </p>
      )}
      {version.data && (
        <Editor key={key} slug={slug} version={version.data} onPublished={setPublished} />
      )}
    </div>
  );
}
