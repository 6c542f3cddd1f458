// Pure geometry and data shaping for the slide viewer's AI overlay (no OpenSeadragon here, so
// every rule is unit-tested). Coordinates: level-0 slide pixels, x right, y down.

/** A rectangle in slide pixels. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Size {
  width: number;
  height: number;
}

/** One nucleus the IHC analysis found, at its centroid. */
export interface NucleusPoint {
  x: number;
  y: number;
  positive: boolean;
}

/** Screen (viewer element) pixel position of a slide point, given the slide rectangle the
 * viewer currently shows and the viewer's size. No rotation or flip (the viewer allows none). */
export function slideToScreen(
  point: { x: number; y: number },
  view: Rect,
  container: Size,
): { x: number; y: number } {
  const scale = container.width / view.width;
  return { x: (point.x - view.x) * scale, y: (point.y - view.y) * scale };
}

/** Slide pixels per screen pixel: above 1 the viewer shows the slide downsampled. */
export function slidePixelsPerScreenPixel(view: Rect, container: Size): number {
  return container.width > 0 ? view.width / container.width : Infinity;
}

/** The grid cells (of `cellSize` slide pixels, clipped to the slide) that intersect the view.
 * Returns null when more than `maxCells` would be needed: the viewer is zoomed too far out for
 * a per-nucleus overlay to be readable or cheap to compute. */
export function visibleCells(
  view: Rect,
  slide: Size,
  cellSize: number,
  maxCells: number,
): Rect[] | null {
  const left = Math.max(0, view.x);
  const top = Math.max(0, view.y);
  const right = Math.min(slide.width, view.x + view.width);
  const bottom = Math.min(slide.height, view.y + view.height);
  if (right <= left || bottom <= top) return [];
  const firstCol = Math.floor(left / cellSize);
  const lastCol = Math.ceil(right / cellSize) - 1;
  const firstRow = Math.floor(top / cellSize);
  const lastRow = Math.ceil(bottom / cellSize) - 1;
  if ((lastCol - firstCol + 1) * (lastRow - firstRow + 1) > maxCells) return null;
  const cells: Rect[] = [];
  for (let row = firstRow; row <= lastRow; row++) {
    for (let col = firstCol; col <= lastCol; col++) {
      const x = col * cellSize;
      const y = row * cellSize;
      cells.push({
        x,
        y,
        width: Math.min(cellSize, slide.width - x),
        height: Math.min(cellSize, slide.height - y),
      });
    }
  }
  return cells;
}

/** A stable key for a cell, for caching its points. */
export function cellKey(cell: Rect): string {
  return `${cell.x},${cell.y},${cell.width},${cell.height}`;
}

/** The cells of a `;`-joined list of cell keys (the inverse of joining `cellKey`s). */
export function parseCellKeys(keys: string): Rect[] {
  if (!keys) return [];
  return keys.split(";").map((key) => {
    const [x = 0, y = 0, width = 0, height = 0] = key.split(",").map(Number);
    return { x, y, width, height };
  });
}

/** The points inside the view (with a margin in slide pixels, so markers at the edge are drawn
 * whole). */
export function pointsInView(
  points: readonly NucleusPoint[],
  view: Rect,
  margin = 0,
): NucleusPoint[] {
  return points.filter(
    (p) =>
      p.x >= view.x - margin &&
      p.x <= view.x + view.width + margin &&
      p.y >= view.y - margin &&
      p.y <= view.y + view.height + margin,
  );
}

/** Radius on screen of a nucleus marker: about a nucleus (≈ 5 slide pixels) when zoomed in,
 * never smaller than 2 px so markers stay visible, never larger than 12 px. */
export function markerRadius(slidePerScreen: number): number {
  return Math.min(12, Math.max(2, 5 / slidePerScreen));
}

const NICE_MICRONS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

/** A scale bar for the current zoom: the longest "nice" length (1, 2, 5 × 10ⁿ µm) that fits in
 * `maxPx` screen pixels, its length on screen and its label; null without a pixel size. */
export function scaleBar(
  slidePerScreen: number,
  micronsPerPixel: number | null | undefined,
  maxPx = 150,
): { px: number; label: string } | null {
  if (!micronsPerPixel || !(slidePerScreen > 0) || !Number.isFinite(slidePerScreen)) return null;
  const micronsPerScreenPixel = slidePerScreen * micronsPerPixel;
  const fitting = NICE_MICRONS.filter((um) => um / micronsPerScreenPixel <= maxPx);
  const microns = fitting[fitting.length - 1] ?? NICE_MICRONS[0]!;
  const label = microns >= 1000 ? `${microns / 1000} mm` : `${microns} µm`;
  return { px: microns / micronsPerScreenPixel, label };
}

export interface OverlayCounts {
  positive: number;
  total: number;
}

export function countPoints(points: readonly NucleusPoint[]): OverlayCounts {
  return { positive: points.filter((p) => p.positive).length, total: points.length };
}

/** Nucleus points of the API's GeoJSON FeatureCollection; throws on anything else, naming it. */
export function parseOverlay(body: unknown): NucleusPoint[] {
  if (!isObject(body) || body.type !== "FeatureCollection" || !Array.isArray(body.features)) {
    throw new Error("overlay: expected a GeoJSON FeatureCollection");
  }
  return body.features.map((feature: unknown, index) => {
    const geometry = isObject(feature) ? feature.geometry : undefined;
    const properties = isObject(feature) ? feature.properties : undefined;
    const coordinates = isObject(geometry) ? geometry.coordinates : undefined;
    if (
      !isObject(geometry) ||
      geometry.type !== "Point" ||
      !Array.isArray(coordinates) ||
      typeof coordinates[0] !== "number" ||
      typeof coordinates[1] !== "number"
    ) {
      throw new Error(`overlay: feature ${index} is not a Point with [x, y]`);
    }
    return {
      x: coordinates[0],
      y: coordinates[1],
      positive: isObject(properties) && properties.positive === true,
    };
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** A loader for the API's overlay endpoint (`.../slides/{index}/overlay`): one GET per cell,
 * with the session cookie. */
export function overlayUrlLoader(
  overlayUrl: string,
): (cell: Rect, signal: AbortSignal) => Promise<NucleusPoint[]> {
  return async (cell, signal) => {
    const query = new URLSearchParams({
      x: String(cell.x),
      y: String(cell.y),
      width: String(cell.width),
      height: String(cell.height),
    });
    const response = await fetch(`${overlayUrl}?${query.toString()}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal,
    });
    if (!response.ok) throw new Error(`overlay: HTTP ${response.status}`);
    return parseOverlay(await response.json());
  };
}
