// The custom Jinja2 HTML + CSS layout for experts (replaces the designed layout when set).
import { useI18n } from "../i18n";
import type { Content } from "./useTemplates";

export function ExpertLayout({ content, onChange }: { content: Content; onChange: (c: Content) => void }) {
  const { t } = useI18n();
  return (
    <section className="panel expert-layout">
      <p className="hint">{t("expert.help")}</p>
      <label className="field">
        <span>{t("expert.html")}</span>
        <textarea
          rows={16}
          spellCheck={false}
          value={content.layout_html}
          onChange={(e) => onChange({ ...content, layout_html: e.target.value })}
        />
      </label>
      <label className="field">
        <span>{t("expert.css")}</span>
        <textarea
          rows={8}
          spellCheck={false}
          value={content.layout_css}
          onChange={(e) => onChange({ ...content, layout_css: e.target.value })}
        />
      </label>
    </section>
  );
}
