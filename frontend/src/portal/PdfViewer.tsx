// A report PDF drawn with pdf.js (the designer's preview code, lib/pdf.ts) inside the portal,
// one page at a time: previous/next page, zoom, fit to width, download. Keyboard inside the
// viewer: ←/→ (or PageUp/PageDown) turn pages, + and − zoom, 0 fits the width.
import { useEffect, useRef, useState } from "react";
import type { KeyboardEvent } from "react";
import { useI18n } from "../i18n";
import { openPdf } from "../lib/pdf";
import type { OpenPdf } from "../lib/pdf";

export const ZOOM_STEPS = [0.5, 0.75, 1, 1.25, 1.5, 2, 3] as const;
const FIT = ZOOM_STEPS.indexOf(1);
// Wider than this the page gets no easier to read; narrower screens fit the page.
const MAX_FIT_WIDTH = 900;

type Loaded =
  | { state: "loading" }
  | { state: "failed"; error: string }
  | { state: "open"; pdf: OpenPdf };

export function PdfViewer({
  url,
  version,
  onClose,
}: {
  url: string;
  version: number;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const [loaded, setLoaded] = useState<Loaded>({ state: "loading" });
  const [page, setPage] = useState(1);
  const [zoom, setZoom] = useState(FIT);
  const [drawError, setDrawError] = useState<string | null>(null);
  const pageHolder = useRef<HTMLDivElement>(null);

  // One document per viewer (the portal keys a viewer by its URL).
  useEffect(() => {
    let cancelled = false;
    let opened: OpenPdf | null = null;
    void (async () => {
      try {
        const response = await fetch(url, { credentials: "same-origin" });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        opened = await openPdf(await response.arrayBuffer());
        if (cancelled) opened.close();
        else setLoaded({ state: "open", pdf: opened });
      } catch (error) {
        if (!cancelled) setLoaded({ state: "failed", error: (error as Error).message });
      }
    })();
    return () => {
      cancelled = true;
      opened?.close();
    };
  }, [url]);

  const pdf = loaded.state === "open" ? loaded.pdf : null;
  const pages = pdf?.pages ?? 0;
  const scale = ZOOM_STEPS[zoom] ?? 1;

  useEffect(() => {
    const holder = pageHolder.current;
    if (!pdf || !holder) return;
    let cancelled = false;
    const fit = Math.min(holder.clientWidth || MAX_FIT_WIDTH, MAX_FIT_WIDTH);
    const label = t("portal.pdfPage", { page, pages: pdf.pages });
    pdf
      .drawPage(page, Math.round(fit * scale), label)
      .then((canvas) => {
        if (cancelled) return;
        canvas.className = "pdf-viewer-page";
        canvas.dataset.testid = "pdf-page";
        canvas.dataset.page = String(page);
        canvas.dataset.zoom = String(Math.round(scale * 100));
        holder.replaceChildren(canvas);
        setDrawError(null);
      })
      .catch((error: unknown) => {
        if (!cancelled) setDrawError((error as Error).message);
      });
    return () => {
      cancelled = true;
    };
  }, [pdf, page, scale, t]);

  const turn = (by: number) => setPage((p) => Math.min(Math.max(1, p + by), Math.max(1, pages)));
  const zoomBy = (by: number) =>
    setZoom((z) => Math.min(Math.max(0, z + by), ZOOM_STEPS.length - 1));
  const onKeyDown = (event: KeyboardEvent) => {
    const actions: Record<string, () => void> = {
      ArrowLeft: () => turn(-1),
      PageUp: () => turn(-1),
      ArrowRight: () => turn(1),
      PageDown: () => turn(1),
      "+": () => zoomBy(1),
      "=": () => zoomBy(1),
      "-": () => zoomBy(-1),
      "0": () => setZoom(FIT),
      Escape: onClose,
    };
    const action = actions[event.key];
    if (action && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      action();
    }
  };

  return (
    <section
      className="pdf-viewer"
      aria-label={t("portal.pdfViewer", { version })}
      data-testid="pdf-viewer"
      tabIndex={0}
      onKeyDown={onKeyDown}
    >
      <div className="pdf-viewer-toolbar" role="toolbar" aria-label={t("portal.pdfTools")}>
        <button type="button" onClick={() => turn(-1)} disabled={page <= 1}>
          {t("portal.pdfPrev")}
        </button>
        <span role="status" data-testid="pdf-page-status">
          {pages > 0 ? t("portal.pdfPage", { page, pages }) : ""}
        </span>
        <button type="button" onClick={() => turn(1)} disabled={page >= pages}>
          {t("portal.pdfNext")}
        </button>
        <button
          type="button"
          onClick={() => zoomBy(-1)}
          disabled={zoom <= 0}
          aria-label={t("portal.zoomOut")}
        >
          −
        </button>
        <span data-testid="pdf-zoom">{Math.round(scale * 100)}%</span>
        <button
          type="button"
          onClick={() => zoomBy(1)}
          disabled={zoom >= ZOOM_STEPS.length - 1}
          aria-label={t("portal.zoomIn")}
        >
          +
        </button>
        <button type="button" onClick={() => setZoom(FIT)} disabled={zoom === FIT}>
          {t("portal.zoomFit")}
        </button>
        <a href={url} download data-testid="pdf-download">
          {t("portal.download")}
        </a>
        <button type="button" onClick={onClose}>
          {t("portal.close")}
        </button>
      </div>
      {loaded.state === "loading" && (
        <p className="state state--loading" role="status">
          {t("portal.pdfLoading")}
        </p>
      )}
      {(loaded.state === "failed" || drawError) && (
        <div role="alert" className="state state--error">
          {t("portal.pdfFailed", {
            error: loaded.state === "failed" ? loaded.error : (drawError ?? ""),
          })}
        </div>
      )}
      <div className="pdf-viewer-pages" ref={pageHolder} />
    </section>
  );
}
