// Live PDF preview beside the designer: the draft as it is now, rendered by the server's
// sandboxed renderer (POST /api/v1/templates/preview) and drawn with pdf.js. Refreshed a moment
// after each edit; while a draft is invalid the last good preview stays, with the problems.
import { useEffect, useRef, useState } from "react";
import { useApi } from "../api/client";
import { problemsOf } from "../catalog/Problems";
import { useI18n } from "../i18n";
import type { Lang } from "../i18n";
import { drawPdf } from "../lib/pdf";
import type { Content } from "./useTemplates";

// Long enough to wait out a burst of typing (keys come 100–200 ms apart), short enough that a
// pause shows the change: the server's render is the larger share (docs/performance.md).
export const PREVIEW_DEBOUNCE_MS = 150;

interface Props {
  content: Content;
  language: Lang;
  onLanguage: (lang: Lang) => void;
}

export function PreviewPane({ content, language, onLanguage }: Props) {
  const { t } = useI18n();
  const api = useApi();
  const pages = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<{
    busy: boolean;
    problems: string[];
    drawn: number;
    pages: number;
    text: string;
  }>({ busy: false, problems: [], drawn: 0, pages: 0, text: "" });
  const key = JSON.stringify([content, language]);

  useEffect(() => {
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      setState((s) => ({ ...s, busy: true }));
      void (async () => {
        try {
          const result = await api.POST("/api/v1/templates/preview", {
            body: {
              dataset: content.dataset as unknown as Record<string, never>,
              layout_html: content.layout_html,
              layout_css: content.layout_css,
              layout_spec: content.layout_spec,
              values: {},
              language,
              format: "pdf",
            },
            parseAs: "arrayBuffer",
            signal: controller.signal,
          });
          const bytes = result.data as ArrayBuffer | undefined;
          if (!bytes || !pages.current || controller.signal.aborted) return;
          const drawn = await drawPdf(bytes, pages.current, 520);
          if (controller.signal.aborted) return;
          setState((s) => ({
            busy: false,
            problems: [],
            drawn: s.drawn + 1,
            pages: drawn.pages,
            text: drawn.text,
          }));
        } catch (error) {
          if (controller.signal.aborted) return;
          setState((s) => ({ ...s, busy: false, problems: problemsOf(error) }));
        }
      })();
    }, PREVIEW_DEBOUNCE_MS);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
    // The key holds everything the preview depends on.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, api]);

  return (
    <aside className="preview-pane" aria-label={t("preview.heading")}>
      <div className="preview-head">
        <h2>{t("preview.heading")}</h2>
        <select
          aria-label={t("preview.language")}
          value={language}
          onChange={(e) => onLanguage(e.target.value as Lang)}
        >
          <option value="zh">中文</option>
          <option value="en">English</option>
        </select>
        {state.busy && (
          <span className="preview-busy" role="status">
            {t("preview.rendering")}
          </span>
        )}
        {!state.busy && state.pages > 0 && (
          <span className="hint">{t("preview.pages", { pages: state.pages })}</span>
        )}
      </div>
      {state.problems.length > 0 && (
        <div className="problems" role="alert">
          <p>{state.drawn > 0 ? t("preview.stale") : t("preview.failed", { message: "" })}</p>
          <ul>
            {state.problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      )}
      {state.drawn === 0 && !state.busy && state.problems.length === 0 && (
        <p className="hint">{t("preview.empty")}</p>
      )}
      <div
        ref={pages}
        className={`preview-pages${state.problems.length ? " stale" : ""}`}
        data-testid="preview-pages"
        data-drawn={state.drawn}
      />
      <div className="visually-hidden" data-testid="preview-text" data-drawn={state.drawn}>
        {state.text}
      </div>
    </aside>
  );
}
