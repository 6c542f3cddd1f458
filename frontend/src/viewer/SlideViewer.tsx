// A whole-slide image viewer (OpenSeadragon over the API's Deep Zoom tiles) with the AI's
// nuclei as a toggleable canvas overlay. Plain props only — URLs, points or a loader, labels —
// so any page (the review cockpit, a slide page) can embed it.
import OpenSeadragon from "openseadragon";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { KeyboardEvent as ReactKeyboardEvent } from "react";

import {
  cellKey,
  countPoints,
  parseCellKeys,
  markerRadius,
  pointsInView,
  scaleBar,
  slidePixelsPerScreenPixel,
  slideToScreen,
  visibleCells,
} from "./overlay";
import type { NucleusPoint, Rect, Size } from "./overlay";
import type { Lang } from "../lib/uiStrings";
import { fill, viewerLabels } from "./strings";
import type { ViewerLabels } from "./strings";
import "./SlideViewer.css";

export interface SlideViewerProps {
  /** The slide's Deep Zoom descriptor, e.g. /api/v1/specimens/3/slides/0.dzi */
  dziUrl: string;
  /** Overlay points for the whole slide, when the host already has them. */
  overlayPoints?: readonly NucleusPoint[];
  /** Or a loader of the points of one grid cell (see `overlayUrlLoader`). */
  loadOverlayCell?: (cell: Rect, signal: AbortSignal) => Promise<readonly NucleusPoint[]>;
  /** Slide pixel size, for the scale bar (none without it). */
  micronsPerPixel?: number | null;
  /** [x, y, width, height] in slide pixels that the workflow's model read, outlined. */
  analysedRegion?: readonly [number, number, number, number] | null;
  lang?: Lang;
  labels?: ViewerLabels;
  initialOverlay?: boolean;
  /** Grid cell side in slide pixels for `loadOverlayCell`, and how many cells may be loaded
   * for one view (beyond that the viewer asks the user to zoom in). */
  cellSize?: number;
  maxCells?: number;
}

type OpenState = "loading" | "open" | "failed";
type CellState = "idle" | "loading" | "failed" | "zoomIn";
interface Opened {
  url: string;
  state: OpenState;
  size: Size | null;
}
interface LoadedCells {
  url: string;
  byKey: ReadonlyMap<string, readonly NucleusPoint[]>;
}
const EMPTY_CELLS: ReadonlyMap<string, readonly NucleusPoint[]> = new Map();

const POSITIVE = "#a0401c";
const NEGATIVE = "#2563b8";
const REGION = "#f2c200";
const RING_FROM_RADIUS = 6;

export function SlideViewer({
  dziUrl,
  overlayPoints,
  loadOverlayCell,
  analysedRegion = null,
  micronsPerPixel = null,
  lang = "en",
  labels,
  initialOverlay = true,
  cellSize = 512,
  maxCells = 24,
}: SlideViewerProps) {
  const text = labels ?? viewerLabels(lang);
  const hostRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const scaleBarRef = useRef<HTMLDivElement>(null);
  const viewerRef = useRef<OpenSeadragon.Viewer | null>(null);
  // Everything learnt from the open slide is kept with its URL, so a new URL starts afresh.
  const [opened, setOpened] = useState<Opened>({ url: "", state: "loading", size: null });
  const [cells, setCells] = useState<LoadedCells>({ url: "", byKey: new Map() });
  const [failedCells, setFailedCells] = useState("");
  const [view, setView] = useState<Rect | null>(null);
  const [overlayOn, setOverlayOn] = useState(initialOverlay);

  const openState: OpenState = opened.url === dziUrl ? opened.state : "loading";
  const slideSize = opened.url === dziUrl ? opened.size : null;
  const loaded = cells.url === dziUrl ? cells.byKey : EMPTY_CELLS;

  const points = useMemo(() => {
    const fromCells = [...loaded.values()].flat();
    return overlayPoints ? [...overlayPoints, ...fromCells] : fromCells;
  }, [overlayPoints, loaded]);

  // The grid cells the view needs: null when zoomed out too far for a per-nucleus overlay.
  const wanted =
    overlayOn && loadOverlayCell && view && slideSize
      ? visibleCells(view, slideSize, cellSize, maxCells)
      : [];
  const missing = (wanted ?? []).filter((cell) => !loaded.has(cellKey(cell)));
  const missingKey = missing.map(cellKey).join(";");
  const cellState: CellState =
    wanted === null
      ? "zoomIn"
      : missingKey && failedCells === missingKey
        ? "failed"
        : missingKey
          ? "loading"
          : "idle";

  const draw = useCallback(() => {
    const viewer = viewerRef.current;
    const canvas = canvasRef.current;
    if (!viewer || !canvas) return;
    const drawn = drawOverlay(viewer, canvas, overlayOn ? points : [], analysedRegion);
    canvas.dataset.points = String(drawn);
    if (scaleBarRef.current) drawScaleBar(viewer, scaleBarRef.current, micronsPerPixel);
  }, [points, overlayOn, analysedRegion, micronsPerPixel]);

  const drawRef = useRef(draw);
  useEffect(() => {
    drawRef.current = draw;
    draw();
  }, [draw]);

  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    const viewer = OpenSeadragon({
      element: host,
      tileSources: dziUrl,
      showNavigationControl: false,
      crossOriginPolicy: false,
      animationTime: 0.4,
      maxZoomPixelRatio: 2,
      visibilityRatio: 0.5,
    });
    viewerRef.current = viewer;
    const settle = () => {
      setView(currentView(viewer));
      drawRef.current();
    };
    viewer.addHandler("open", () => {
      const size = viewer.world.getItemAt(0).getContentSize();
      setOpened({ url: dziUrl, state: "open", size: { width: size.x, height: size.y } });
      settle();
    });
    viewer.addHandler("open-failed", () => setOpened({ url: dziUrl, state: "failed", size: null }));
    // The overlay is drawn unrotated and unflipped; OpenSeadragon's R and F keys would rotate
    // or flip the slide under it.
    viewer.addHandler("canvas-key", (event) => {
      const key = event.originalEvent instanceof KeyboardEvent ? event.originalEvent.key : "";
      if (key === "r" || key === "R" || key === "f" || key === "F") {
        event.preventDefaultAction = true;
      }
    });
    viewer.addHandler("update-viewport", () => drawRef.current());
    viewer.addHandler("animation-finish", settle);
    viewer.addHandler("resize", settle);
    return () => {
      viewer.destroy();
      viewerRef.current = null;
    };
  }, [dziUrl]);

  // Load the cells the view is missing; a cell that fails is asked for again on the next move.
  useEffect(() => {
    if (!missingKey || !loadOverlayCell) return;
    const controller = new AbortController();
    const url = dziUrl;
    Promise.all(
      parseCellKeys(missingKey).map(async (cell) => {
        const found = await loadOverlayCell(cell, controller.signal);
        setCells((previous) => {
          const byKey = new Map(previous.url === url ? previous.byKey : []);
          byKey.set(cellKey(cell), found);
          return { url, byKey };
        });
      }),
    ).catch(() => {
      if (!controller.signal.aborted) setFailedCells(missingKey);
    });
    return () => controller.abort();
  }, [missingKey, loadOverlayCell, dziUrl]);

  const counts = useMemo(
    () => countPoints(view ? pointsInView(points, view) : []),
    [points, view],
  );

  const zoom = (factor: number) => {
    const viewport = viewerRef.current?.viewport;
    if (!viewport) return;
    viewport.zoomBy(factor);
    viewport.applyConstraints();
  };

  const onKeyDown = (event: ReactKeyboardEvent<HTMLElement>) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    // Keys pressed in the viewer are the viewer's (OpenSeadragon pans with W/A/S/D and the
    // arrows): a host page's shortcuts (the cockpit's A, S, N…) must not fire as well.
    if (event.key !== "Tab" && event.key !== "Escape") event.stopPropagation();
    if (event.key !== "o" && event.key !== "O") return;
    event.preventDefault();
    setOverlayOn((on) => !on);
  };

  return (
    <section
      className="slide-viewer"
      aria-label={text.region}
      aria-keyshortcuts="O"
      onKeyDown={onKeyDown}
    >
      <div className="slide-viewer-toolbar" role="toolbar" aria-label={text.region}>
        <button type="button" onClick={() => zoom(1.5)} aria-label={text.zoomIn}>
          +
        </button>
        <button type="button" onClick={() => zoom(1 / 1.5)} aria-label={text.zoomOut}>
          −
        </button>
        <button type="button" onClick={() => viewerRef.current?.viewport.goHome()}>
          {text.home}
        </button>
        <button
          type="button"
          className="slide-viewer-overlay-toggle"
          aria-pressed={overlayOn}
          title={text.overlayShortcut}
          onClick={() => setOverlayOn((on) => !on)}
        >
          {overlayOn ? text.overlayHide : text.overlayShow}
        </button>
        {overlayOn && (
          <span className="slide-viewer-legend">
            <span className="slide-viewer-dot" style={{ background: POSITIVE }} aria-hidden />
            {text.positive}
            <span className="slide-viewer-dot" style={{ background: NEGATIVE }} aria-hidden />
            {text.negative}
            {analysedRegion && (
              <>
                <span className="slide-viewer-box" style={{ borderColor: REGION }} aria-hidden />
                {text.analysedRegion}
              </>
            )}
          </span>
        )}
      </div>
      <div className="slide-viewer-stage">
        <div ref={hostRef} className="slide-viewer-osd" data-testid="slide-viewer-osd" />
        <canvas
          ref={canvasRef}
          className="slide-viewer-canvas"
          data-testid="slide-overlay"
          hidden={!overlayOn}
          aria-hidden
        />
        <div ref={scaleBarRef} className="slide-viewer-scale" data-testid="slide-scale" hidden />
        {openState !== "open" && (
          <p className="slide-viewer-message" role={openState === "failed" ? "alert" : "status"}>
            {openState === "failed" ? text.openFailed : text.loading}
          </p>
        )}
      </div>
      <p className="slide-viewer-status" role="status" aria-live="polite">
        {overlayOn && openState === "open" && statusText(text, cellState, counts)}
      </p>
    </section>
  );
}

function statusText(
  text: ViewerLabels,
  cellState: CellState,
  counts: { positive: number; total: number },
): string {
  if (cellState === "zoomIn") return text.overlayZoomIn;
  if (cellState === "loading") return text.overlayLoading;
  if (cellState === "failed") return text.overlayFailed;
  return fill(text.overlayCounts, counts);
}

/** The slide rectangle (level-0 pixels) the viewer shows now. */
function currentView(viewer: OpenSeadragon.Viewer): Rect {
  const rect = viewer.viewport.viewportToImageRectangle(viewer.viewport.getBounds(true));
  return { x: rect.x, y: rect.y, width: rect.width, height: rect.height };
}

/** Size and label the scale bar for the current zoom (hidden without a pixel size). */
function drawScaleBar(
  viewer: OpenSeadragon.Viewer,
  bar: HTMLElement,
  micronsPerPixel: number | null,
): void {
  const container = viewer.viewport.getContainerSize();
  const size = { width: container.x, height: container.y };
  const opened = Boolean(viewer.world.getItemAt(0));
  const perScreen = opened ? slidePixelsPerScreenPixel(currentView(viewer), size) : Infinity;
  const scale = scaleBar(perScreen, micronsPerPixel);
  bar.hidden = scale === null;
  bar.style.width = `${scale?.px ?? 0}px`;
  bar.textContent = scale?.label ?? "";
}

/** Draw the points in view (and the analysed region) on the canvas over the viewer; returns
 * how many points were drawn. */
function drawOverlay(
  viewer: OpenSeadragon.Viewer,
  canvas: HTMLCanvasElement,
  points: readonly NucleusPoint[],
  region: readonly [number, number, number, number] | null,
): number {
  const context = canvas.getContext("2d");
  if (!context || !viewer.world.getItemAt(0)) return 0;
  const container = viewer.viewport.getContainerSize();
  const size = { width: container.x, height: container.y };
  const ratio = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(size.width * ratio)) canvas.width = size.width * ratio;
  if (canvas.height !== Math.round(size.height * ratio)) canvas.height = size.height * ratio;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, size.width, size.height);
  const view = currentView(viewer);
  const perScreen = slidePixelsPerScreenPixel(view, size);
  if (region) {
    const [x, y, width, height] = region;
    const corner = slideToScreen({ x, y }, view, size);
    context.setLineDash([6, 4]);
    context.strokeStyle = REGION;
    context.lineWidth = 2;
    context.strokeRect(corner.x, corner.y, width / perScreen, height / perScreen);
    context.setLineDash([]);
  }
  const radius = markerRadius(perScreen);
  const visible = pointsInView(points, view, radius * perScreen);
  // Zoomed in, a ring leaves the nucleus visible inside it; zoomed out, a filled dot is what
  // can still be seen.
  const ring = radius >= RING_FROM_RADIUS;
  context.lineWidth = ring ? 2 : 1;
  for (const point of visible) {
    const at = slideToScreen(point, view, size);
    const colour = point.positive ? POSITIVE : NEGATIVE;
    context.beginPath();
    context.arc(at.x, at.y, radius, 0, 2 * Math.PI);
    if (ring) {
      context.strokeStyle = colour;
    } else {
      context.fillStyle = colour;
      context.fill();
      context.strokeStyle = "rgba(255, 255, 255, 0.9)";
    }
    context.stroke();
  }
  return visible.length;
}
