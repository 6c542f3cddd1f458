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
    const canvases: HTMLCanvasElement[] = [];
    const texts: string[] = [];
    for (let n = 1; n <= document.numPages; n += 1) {
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
      await page.render({ canvas, viewport }).promise;
      canvases.push(canvas);
      texts.push(await pageText(document, n));
    }
    container.replaceChildren(...canvases);
    return { pages: document.numPages, text: texts.join("\n") };
  } finally {
    void document.loadingTask.destroy();
  }
}
