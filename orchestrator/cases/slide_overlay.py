"""The IHC analysis' nuclei of a slide region, as points for the viewer's overlay: what the
model answered in the case's run, as the run recorded it — never recomputed by the web server.

The ``ihc-dab`` model service returns, with its counts, the nuclei it counted (``nuclei``: one
``[x, y, positive]`` row per nucleus, in tile pixels). A ``map`` node over a specimen's slide
regions stores every item's answer (``results``) and the slide region each item was read from
(``regions``). The overlay places those nuclei on the slide (level-0 pixels) and returns the
ones whose centroid lies in the asked region, so adjacent regions (the viewer asks for a grid
of them) never show a nucleus twice. The newest run of the case that analysed the slide is
used; a slide no run has analysed has an empty overlay that says so (``run`` is null).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from orchestrator.cases.models import Case
from orchestrator.cases.slides import OpenedSlide, SlideError
from orchestrator.runs.models import NodeRun, NodeRunStatus

OVERLAY_MAX_SIDE: Final = 2048
OVERLAY_METHOD: Final = (
    "the nuclei the ihc-dab model counted in the run (colour deconvolution, nuclear DAB OD)"
)


@dataclass(frozen=True)
class OverlayNucleus:
    """A nucleus centroid in level-0 slide pixels."""

    x: float
    y: float
    positive: bool


@dataclass(frozen=True)
class RecordedAnalysis:
    """Which run and model answered: the run, its node, the model endpoint and version."""

    run: int
    node: str
    endpoint: str
    model_version: str


@dataclass(frozen=True)
class NucleiOverlay:
    region: tuple[int, int, int, int]
    nuclei: tuple[OverlayNucleus, ...]
    analysis: RecordedAnalysis | None

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


def nuclei_overlay(
    case: Case, opened: OpenedSlide, x: int, y: int, width: int, height: int
) -> NucleiOverlay:
    """The recorded nuclei of slide ``opened`` whose centroids lie in the region (checked
    with :func:`check_overlay_region`), from the newest run of ``case`` that analysed it."""
    check_overlay_region(opened, x, y, width, height)
    region = (x, y, width, height)
    for node_run in _analyses(case):
        if not _analysed(node_run.outputs, opened.name):
            continue
        placed = _placed_nuclei(node_run.outputs, opened)
        inside = tuple(n for n in placed if x <= n.x < x + width and y <= n.y < y + height)
        model = node_run.outputs.get("model") or {}
        analysis = RecordedAnalysis(
            run=node_run.run_id,
            node=node_run.node_id,
            endpoint=str(model.get("endpoint", "")),
            model_version=str(model.get("model_version", "")),
        )
        return NucleiOverlay(region, inside, analysis)
    return NucleiOverlay(region, (), None)


def _analyses(case: Case) -> Iterator[NodeRun]:
    """The final, succeeded map nodes of the case's runs, newest run first."""
    yield from (
        NodeRun.objects.filter(
            run__case=case,
            run__is_test=False,
            node_type="map",
            final=True,
            status=NodeRunStatus.SUCCEEDED,
        )
        .order_by("-run__created_at", "-run_id", "node_id")
        .iterator()
    )


def _items(outputs: dict[str, Any], name: str) -> Iterator[tuple[dict[str, Any], Any]]:
    """(region reference, recorded answer) of every item read from slide ``name``."""
    regions = outputs.get("regions")
    results = outputs.get("results")
    if not isinstance(regions, list) or not isinstance(results, list):
        return
    for reference, result in zip(regions, results, strict=False):
        if isinstance(reference, dict) and reference.get("uri") == f"slide:{name}":
            yield reference, result


def _analysed(outputs: dict[str, Any], name: str) -> bool:
    return any(
        isinstance(result, dict) and isinstance(result.get("nuclei"), list)
        for _, result in _items(outputs, name)
    )


def _placed_nuclei(outputs: dict[str, Any], opened: OpenedSlide) -> Iterator[OverlayNucleus]:
    """Every recorded nucleus of the slide's items in level-0 pixels: tile pixels scaled by
    the level's downsample and shifted to the region's corner."""
    downsamples = opened.slide.level_downsamples
    for reference, result in _items(outputs, opened.name):
        rows = result.get("nuclei") if isinstance(result, dict) else None
        region = reference.get("region")
        level = reference.get("level", 0)
        if not isinstance(rows, list) or not isinstance(region, list) or len(region) != 4:
            continue
        if not isinstance(level, int) or not 0 <= level < len(downsamples):
            continue
        scale = float(downsamples[level])
        left, top = float(region[0]), float(region[1])
        for row in rows:
            if isinstance(row, list) and len(row) == 3:
                yield OverlayNucleus(
                    x=round(left + float(row[0]) * scale, 1),
                    y=round(top + float(row[1]) * scale, 1),
                    positive=bool(row[2]),
                )
