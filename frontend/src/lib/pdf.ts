// pdf.js, loaded on first use (it is large): draw a PDF's pages into canvases and read its text.
// Shared by the designer's live preview (every page at once) and the clinician portal's viewer
// (one page at a time, with page navigation and zoom).
import type * as PdfJs from "pdfjs-dist";
import type { PDFDocumentProxy } from "pdfjs-dist";

let loaded: Promise<typeof PdfJs> | null = null;
// One worker for every preview: starting pdf.js's worker (a 1.2 MB script) per document would
// cost more than drawing the pages.
let worker: PdfJs.PDFWorker | null = null;

async function pdfjs(): Promise<typeof PdfJs> {
  loaded ??= Promise.all([
    import("pdfjs-dist"),
    import("pdfjs-dist/build/pdf.worker.min.mjs?url"),
  ]).then(([lib, worker]) => {
    lib.GlobalWorkerOptions.workerSrc = (worker).default;
    return lib;
  });
  return loaded;
}

export interface DrawnPdf {
  pages: number;
  text: string;
}

async function pageText(document: PDFDocumentProxy, number: number): Promise<string> {
  const page = await document.getPage(number);
  const content = await page.getTextContent();
  return content.items.map((item) => ("str" in item ? item.str : "")).join(" ");
}

/** An open PDF: its page count, each page drawn on demand at a width, its text. */
export interface OpenPdf {
  pages: number;
  /** A canvas of page ``number`` (1-based) drawn ``width`` CSS pixels wide (sharp on HiDPI). */
  drawPage(number: number, width: number, label?: string): Promise<HTMLCanvasElement>;
  text(number: number): Promise<string>;
  close(): void;
}

/** Open ``bytes`` with pdf.js (one shared worker); ``close()`` when done with it. */
export async function openPdf(bytes: ArrayBuffer): Promise<OpenPdf> {
  const lib = await pdfjs();
  worker ??= new lib.PDFWorker();
  const document = await lib.getDocument({ data: new Uint8Array(bytes), worker }).promise;
  return {
    pages: document.numPages,
    async drawPage(number, width, label = `page ${number}`) {
      const page = await document.getPage(number);
      const base = page.getViewport({ scale: 1 });
      const scale = (width / base.width) * (window.devicePixelRatio || 1);
      const viewport = page.getViewport({ scale });
      const canvas = window.document.createElement("canvas");
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      canvas.style.width = `${width}px`;
      canvas.setAttribute("aria-label", label);
      await page.render({ canvas, viewport }).promise;
      return canvas;
    },
    text: (number) => pageText(document, number),
    close: () => void document.loadingTask.destroy(),
  };
}

/** Replace ``container``'s children with one canvas per page; returns the page count and text. */
export async function drawPdf(
  bytes: ArrayBuffer,
  container: HTMLElement,
  width: number,
): Promise<DrawnPdf> {
  const pdf = await openPdf(bytes);
  try {
    // Pages are drawn and their text read side by side (pdf.js's worker parses while the page
    // draws here); the canvases replace the old ones together, so the preview never flickers.
    const drawn = await Promise.all(
      Array.from({ length: pdf.pages }, async (_, index) => {
        const n = index + 1;
        const [canvas, text] = await Promise.all([pdf.drawPage(n, width), pdf.text(n)]);
        canvas.className = "preview-page";
        return { canvas, text };
      }),
    );
    container.replaceChildren(...drawn.map((d) => d.canvas));
    return { pages: pdf.pages, text: drawn.map((d) => d.text).join("\n") };
  } finally {
    pdf.close();
  }
}
