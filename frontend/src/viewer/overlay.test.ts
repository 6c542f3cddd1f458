import { afterEach, describe, expect, it, vi } from "vitest";

import {
  cellKey,
  countPoints,
  markerRadius,
  overlayUrlLoader,
  parseCellKeys,
  parseOverlay,
  pointsInView,
  scaleBar,
  slidePixelsPerScreenPixel,
  slideToScreen,
  visibleCells,
} from "./overlay";
import { fill, viewerLabels } from "./strings";

const SLIDE = { width: 4096, height: 4096 };

describe("slideToScreen", () => {
  it("maps the view's top-left corner to the origin and its far edge to the container edge", () => {
    const view = { x: 1000, y: 500, width: 800, height: 400 };
    const container = { width: 1600, height: 800 };

    expect(slideToScreen({ x: 1000, y: 500 }, view, container)).toEqual({ x: 0, y: 0 });
    expect(slideToScreen({ x: 1800, y: 900 }, view, container)).toEqual({ x: 1600, y: 800 });
    expect(slideToScreen({ x: 1400, y: 700 }, view, container)).toEqual({ x: 800, y: 400 });
  });

  it("places points outside the view off screen, on the right side", () => {
    const view = { x: 0, y: 0, width: 4096, height: 4096 };

    expect(slideToScreen({ x: -512, y: 4608 }, view, { width: 512, height: 512 })).toEqual({
      x: -64,
      y: 576,
    });
  });

  it("reports how many slide pixels one screen pixel covers", () => {
    expect(slidePixelsPerScreenPixel({ x: 0, y: 0, width: 4096, height: 4096 }, SLIDE)).toBe(1);
    const wide = { x: 0, y: 0, width: 4096, height: 2048 };
    expect(slidePixelsPerScreenPixel(wide, { width: 512, height: 256 })).toBe(8);
    const hidden = { width: 0, height: 0 };
    expect(slidePixelsPerScreenPixel({ x: 0, y: 0, width: 10, height: 10 }, hidden)).toBe(Infinity);
  });
});

describe("visibleCells", () => {
  it("covers the view with grid-aligned cells clipped to the slide", () => {
    const cells = visibleCells({ x: 3800, y: 100, width: 600, height: 300 }, SLIDE, 512, 10);

    expect(cells).toEqual([{ x: 3584, y: 0, width: 512, height: 512 }]);
    expect(visibleCells({ x: 500, y: 500, width: 100, height: 100 }, SLIDE, 512, 10)).toEqual([
      { x: 0, y: 0, width: 512, height: 512 },
      { x: 512, y: 0, width: 512, height: 512 },
      { x: 0, y: 512, width: 512, height: 512 },
      { x: 512, y: 512, width: 512, height: 512 },
    ]);
  });

  it("clips the last row and column of a slide that is not a multiple of the cell size", () => {
    const slide = { width: 1100, height: 300 };
    const cells = visibleCells({ x: 900, y: 0, width: 500, height: 300 }, slide, 512, 10);

    expect(cells).toEqual([
      { x: 512, y: 0, width: 512, height: 300 },
      { x: 1024, y: 0, width: 76, height: 300 },
    ]);
  });

  it("asks to zoom in (null) when the view needs more cells than allowed", () => {
    expect(visibleCells({ x: 0, y: 0, width: 4096, height: 4096 }, SLIDE, 512, 24)).toBeNull();
    const twelve = visibleCells({ x: 0, y: 0, width: 2048, height: 1536 }, SLIDE, 512, 12);
    expect(twelve).toHaveLength(12);
  });

  it("needs no cell when the view is beside the slide", () => {
    expect(visibleCells({ x: -900, y: 0, width: 800, height: 800 }, SLIDE, 512, 24)).toEqual([]);
  });

  it("round-trips cell keys", () => {
    const cells = [
      { x: 0, y: 512, width: 512, height: 512 },
      { x: 1024, y: 0, width: 76, height: 300 },
    ];

    expect(parseCellKeys(cells.map(cellKey).join(";"))).toEqual(cells);
    expect(parseCellKeys("")).toEqual([]);
  });
});

describe("points", () => {
  const points = [
    { x: 10, y: 10, positive: true },
    { x: 600, y: 20, positive: false },
    { x: 95, y: 50, positive: false },
  ];

  it("keeps the points in view, with a margin for markers on the edge", () => {
    const view = { x: 0, y: 0, width: 90, height: 90 };

    expect(pointsInView(points, view)).toEqual([points[0]]);
    expect(pointsInView(points, view, 6)).toEqual([points[0], points[2]]);
  });

  it("counts positive nuclei among all", () => {
    expect(countPoints(points)).toEqual({ positive: 1, total: 3 });
    expect(countPoints([])).toEqual({ positive: 0, total: 0 });
  });

  it("sizes markers like a nucleus when zoomed in, within 2-12 px", () => {
    expect(markerRadius(1)).toBe(5);
    expect(markerRadius(0.25)).toBe(12);
    expect(markerRadius(16)).toBe(2);
  });
});

describe("scaleBar", () => {
  it("picks the longest round length that fits and labels it", () => {
    // 0.5 µm/px at 1 slide px per screen px: 150 px are 75 µm, so 50 µm = 100 px.
    expect(scaleBar(1, 0.5)).toEqual({ px: 100, label: "50 µm" });
    // Zoomed out 16x: a screen pixel is 8 µm; 1 mm = 125 px.
    expect(scaleBar(16, 0.5)).toEqual({ px: 125, label: "1 mm" });
    // Zoomed in 4x: a screen pixel is 0.125 µm; 10 µm = 80 px.
    expect(scaleBar(0.25, 0.5)).toEqual({ px: 80, label: "10 µm" });
  });

  it("draws no bar for a slide without a known pixel size", () => {
    expect(scaleBar(1, null)).toBeNull();
    expect(scaleBar(Infinity, 0.5)).toBeNull();
  });
});

describe("parseOverlay", () => {
  it("reads points and positivity from the API's FeatureCollection", () => {
    const body = {
      type: "FeatureCollection",
      region: [0, 0, 512, 512],
      features: [
        {
          type: "Feature",
          geometry: { type: "Point", coordinates: [12.5, 40] },
          properties: { positive: true },
        },
        {
          type: "Feature",
          geometry: { type: "Point", coordinates: [300, 7.1] },
          properties: { positive: false },
        },
      ],
    };

    expect(parseOverlay(body)).toEqual([
      { x: 12.5, y: 40, positive: true },
      { x: 300, y: 7.1, positive: false },
    ]);
  });

  it("names what is wrong with anything else", () => {
    expect(() => parseOverlay({ detail: "no such specimen" })).toThrow(
      "overlay: expected a GeoJSON FeatureCollection",
    );
    expect(() =>
      parseOverlay({ type: "FeatureCollection", features: [{ geometry: { type: "Polygon" } }] }),
    ).toThrow("overlay: feature 0 is not a Point with [x, y]");
  });
});

describe("overlayUrlLoader", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("asks the overlay endpoint for one cell with the session cookie", async () => {
    const fetchMock = vi.fn().mockResolvedValue(
      new Response(JSON.stringify({ type: "FeatureCollection", features: [] }), { status: 200 }),
    );
    vi.stubGlobal("fetch", fetchMock);

    const points = await overlayUrlLoader("/api/v1/specimens/3/slides/0/overlay")(
      { x: 512, y: 1024, width: 512, height: 76 },
      new AbortController().signal,
    );

    expect(points).toEqual([]);
    const [url, init] = fetchMock.mock.calls[0] as [string, RequestInit];
    expect(url).toBe("/api/v1/specimens/3/slides/0/overlay?x=512&y=1024&width=512&height=76");
    expect(init.credentials).toBe("same-origin");
  });

  it("fails on an error status", async () => {
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(new Response("{}", { status: 404 })));

    await expect(
      overlayUrlLoader("/x")({ x: 0, y: 0, width: 1, height: 1 }, new AbortController().signal),
    ).rejects.toThrow("overlay: HTTP 404");
  });
});

describe("viewer strings", () => {
  it("give the viewer its labels by short name in both languages", () => {
    expect(viewerLabels("en").zoomIn).toBe("Zoom in");
    expect(viewerLabels("zh").zoomIn).toBe("放大");
    expect(Object.keys(viewerLabels("zh")).sort()).toEqual(Object.keys(viewerLabels("en")).sort());
    expect(Object.keys(viewerLabels("en"))).not.toContain("heading");
  });

  it("fill in counts", () => {
    expect(fill(viewerLabels("en").overlayCounts, { positive: 3, total: 40 })).toBe(
      "3 of 40 nuclei DAB-positive in view",
    );
    expect(fill(viewerLabels("zh").overlayCounts, { positive: 3, total: 40 })).toBe(
      "视野内 40 个细胞核中 3 个 DAB 阳性",
    );
  });
});
