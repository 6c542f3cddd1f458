"""The IHC analysis' DAB-positive nuclei of a slide region, as points for the viewer's overlay.

Computed by the same function the ``ihc-dab`` model service counts with
(:func:`model_services.ihc_analysis.detect_nuclei`, default thresholds), so the points drawn
are the nuclei behind the counts. A region is read with a margin so that nuclei cut by its
edge are segmented whole; only those whose centroid lies inside the region are returned, so
adjacent regions (the viewer asks for a grid of them) never show a nucleus twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from model_services.ihc_analysis import IHCParams, detect_nuclei
from orchestrator.cases.slides import (
    OpenedSlide,
    SlideError,
    SlideRegion,
    open_slide,
    read_region_rgb,
)

OVERLAY_MAX_SIDE: Final = 2048
OVERLAY_MARGIN: Final = 32
OVERLAY_METHOD: Final = "ihc-dab colour deconvolution (haematoxylin/DAB), nuclear mean DAB OD"


@dataclass(frozen=True)
class OverlayNucleus:
    """A nucleus centroid in level-0 slide pixels."""

    x: float
    y: float
    area: int
    mean_dab_od: float
    positive: bool


@dataclass(frozen=True)
class NucleiOverlay:
    region: tuple[int, int, int, int]
    nuclei: tuple[OverlayNucleus, ...]
    dab_positive_od: float

    @property
    def positive_nuclei(self) -> int:
        return sum(1 for nucleus in self.nuclei if nucleus.positive)


def check_overlay_region(opened: OpenedSlide, x: int, y: int, width: int, height: int) -> None:
    """Raise :class:`SlideError` listing every way the region does not fit the slide."""
    slide_width, slide_height = opened.dimensions
    problems = []
    if not (1 <= width <= OVERLAY_MAX_SIDE and 1 <= height <= OVERLAY_MAX_SIDE):
        problems.append(f"width and height must be 1-{OVERLAY_MAX_SIDE} level-0 pixels")
    if x < 0 or y < 0 or x + width > slide_width or y + height > slide_height:
        problems.append(
            f"region [{x}, {y}, {width}, {height}] is not inside the slide "
            f"({slide_width}x{slide_height})"
        )
    if problems:
        raise SlideError("; ".join(problems))


def nuclei_overlay(opened: OpenedSlide, x: int, y: int, width: int, height: int) -> NucleiOverlay:
    """The nuclei whose centroids lie in the region (checked with :func:`check_overlay_region`).

    Cached per process by slide version and region: the viewer asks for the same grid cells
    again while the user pans back and forth.
    """
    check_overlay_region(opened, x, y, width, height)
    return _cached_overlay(opened.name, opened.version, (x, y, width, height))


@lru_cache(maxsize=256)
def _cached_overlay(name: str, version: str, region: tuple[int, int, int, int]) -> NucleiOverlay:
    """Keyed by name and version rather than the open slide, so the cache never keeps a slide
    open that the slide LRU has let go."""
    opened = open_slide(name)
    x, y, width, height = region
    slide_width, slide_height = opened.dimensions
    left, top = max(0, x - OVERLAY_MARGIN), max(0, y - OVERLAY_MARGIN)
    right = min(slide_width, x + width + OVERLAY_MARGIN)
    bottom = min(slide_height, y + height + OVERLAY_MARGIN)
    pixels = read_region_rgb(opened, SlideRegion(left, top, right - left, bottom - top))
    params = IHCParams()
    inside = []
    for nucleus in detect_nuclei(pixels, params):
        slide_x, slide_y = left + nucleus.x, top + nucleus.y
        if x <= slide_x < x + width and y <= slide_y < y + height:
            inside.append(
                OverlayNucleus(
                    x=round(slide_x, 1),
                    y=round(slide_y, 1),
                    area=nucleus.area,
                    mean_dab_od=round(nucleus.mean_dab_od, 3),
                    positive=nucleus.positive,
                )
            )
    return NucleiOverlay(region, tuple(inside), params.dab_positive_od)
