// pdf.js, loaded on first use (it is large): draw a PDF's pages into canvases and read its text.
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

/** Replace ``container``'s children with one canvas per page; returns the page count and text. */
export async function drawPdf(
  bytes: ArrayBuffer,
  container: HTMLElement,
  width: number,
): Promise<DrawnPdf> {
  const lib = await pdfjs();
  worker ??= new lib.PDFWorker();
  const document = await lib.getDocument({ data: new Uint8Array(bytes), worker }).promise;
  try {
    // Pages are drawn and their text read side by side (pdf.js's worker parses while the page
    // draws here); the canvases replace the old ones together, so the preview never flickers.
    const drawn = await Promise.all(
      Array.from({ length: document.numPages }, async (_, index) => {
        const n = index + 1;
        const page = await document.getPage(n);
        const base = page.getViewport({ scale: 1 });
        const scale = (width / base.width) * (window.devicePixelRatio || 1);
        const viewport = page.getViewport({ scale });
        const canvas = window.document.createElement("canvas");
        canvas.width = Math.floor(viewport.width);
        canvas.height = Math.floor(viewport.height);
        canvas.style.width = `${width}px`;
        canvas.className = "preview-page";
        canvas.setAttribute("aria-label", `page ${n}`);
        const [text] = await Promise.all([
          pageText(document, n),
          page.render({ canvas, viewport }).promise,
        ]);
        return { canvas, text };
      }),
    );
    container.replaceChildren(...drawn.map((d) => d.canvas));
    return { pages: document.numPages, text: drawn.map((d) => d.text).join("\n") };
  } finally {
    void document.loadingTask.destroy();
  }
}
