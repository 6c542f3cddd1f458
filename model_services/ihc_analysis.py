# scikit-image ships py.typed but leaves these functions unannotated.
# mypy: disallow-untyped-calls=False
"""Nuclear DAB positivity (Ki-67-style proliferation index) of a brightfield IHC tile.

Method, modelled on QuPath's positive cell detection:

1. Colour deconvolution (Ruifrok & Johnston, ``skimage.color.rgb2hed``) into haematoxylin and
   DAB optical density (OD, log10 units, so thresholds compare with QuPath's).
2. Nuclei are segmented on the haematoxylin channel: every nucleus carries the counterstain,
   whereas DAB may also stain membranes and cytoplasm (HER2, E-cadherin...) which would merge
   neighbouring nuclei into one blob if DAB were added to the segmentation signal.
3. Touching nuclei are split by a distance-transform watershed and implausibly small or large
   objects are discarded.
4. A nucleus is positive when its mean DAB OD exceeds ``dab_positive_od``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from skimage.color import rgb2hed
from skimage.feature import peak_local_max
from skimage.filters import gaussian, threshold_otsu
from skimage.measure import label
from skimage.morphology import disk, opening, remove_small_holes
from skimage.segmentation import watershed

# rgb2hed divides natural-log OD by -ln(1e-6); multiplying by this restores log10 OD units.
_HED_TO_LOG10_OD: Final = -math.log(1e-6) / math.log(10)

LabelImage = NDArray[np.int32]


@dataclass(frozen=True)
class IHCParams:
    """Tunable thresholds; defaults suit 20x tiles (nuclei of roughly 6-25 pixels across)."""

    # Lower bound for the haematoxylin threshold; Otsu raises it on densely stained tiles but
    # the floor keeps blank glass or pale stroma from being segmented into noise.
    hematoxylin_min_od: float = 0.15
    dab_positive_od: float = 0.20
    smoothing_sigma: float = 1.0
    min_nucleus_area: int = 30
    max_nucleus_area: int = 600
    min_nucleus_separation: int = 4

    @classmethod
    def from_mapping(cls, overrides: Mapping[str, object]) -> IHCParams:
        """Build parameters from model-settings ``parameters.extra``; unknown keys are errors."""
        known = {field.name: field.type for field in fields(cls)}
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise ValueError(f"unknown ihc-dab parameter(s): {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for name, raw in overrides.items():
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                raise ValueError(f"ihc-dab parameter {name} must be a number, got {raw!r}")
            if known[name] == "int" and not float(raw).is_integer():
                raise ValueError(f"ihc-dab parameter {name} must be a whole number, got {raw!r}")
            values[name] = int(raw) if known[name] == "int" else float(raw)
        return replace(cls(), **values)

    def __post_init__(self) -> None:
        if self.hematoxylin_min_od <= 0 or self.dab_positive_od < 0 or self.smoothing_sigma < 0:
            raise ValueError("ihc-dab parameter thresholds must be positive")
        if not 1 <= self.min_nucleus_area <= self.max_nucleus_area:
            raise ValueError(
                "ihc-dab parameter areas need 1 <= min_nucleus_area <= max_nucleus_area"
            )
        if self.min_nucleus_separation < 1:
            raise ValueError("ihc-dab parameter min_nucleus_separation must be at least 1")


@dataclass(frozen=True)
class Nucleus:
    """One segmented nucleus: centroid in tile pixels (x right, y down), area, mean DAB OD."""

    x: float
    y: float
    area: int
    mean_dab_od: float
    positive: bool


@dataclass(frozen=True)
class IHCResult:
    """Counts for one tile, and the nuclei counted; ``positive_fraction`` is 0.0 when no
    nucleus was found."""

    positive_nuclei: int
    total_nuclei: int
    nuclei: tuple[Nucleus, ...] = field(default=(), compare=False)

    @property
    def positive_fraction(self) -> float:
        return self.positive_nuclei / self.total_nuclei if self.total_nuclei else 0.0


def stain_optical_densities(
    rgb: NDArray[np.uint8],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return (haematoxylin OD, DAB OD) images in log10 optical density units."""
    hed = np.asarray(rgb2hed(rgb), dtype=np.float64) * _HED_TO_LOG10_OD
    return hed[..., 0], hed[..., 2]


def segment_nuclei(hematoxylin_od: NDArray[np.float64], params: IHCParams) -> LabelImage:
    """Label nuclei (1..N, background 0) in a haematoxylin OD image."""
    smoothed = np.asarray(gaussian(hematoxylin_od, sigma=params.smoothing_sigma))
    threshold = params.hematoxylin_min_od
    if float(smoothed.max()) > threshold:
        threshold = max(threshold, float(threshold_otsu(smoothed)))
    mask = np.asarray(opening(smoothed > threshold, disk(1)), dtype=np.bool_)
    mask = np.asarray(remove_small_holes(mask, max_size=params.min_nucleus_area), dtype=np.bool_)
    if not mask.any():
        return np.zeros(mask.shape, dtype=np.int32)
    labels = _split_touching(mask, params.min_nucleus_separation)
    return _filter_by_area(labels, params.min_nucleus_area, params.max_nucleus_area)


def detect_nuclei(rgb: NDArray[np.uint8], params: IHCParams | None = None) -> list[Nucleus]:
    """Every nucleus of an ``(H, W, 3)`` uint8 RGB tile with its position and DAB positivity;
    :func:`analyse_tile` counts exactly these, so an overlay of them matches the counts."""
    params = params or IHCParams()
    hematoxylin_od, dab_od = stain_optical_densities(rgb)
    labels = segment_nuclei(hematoxylin_od, params)
    total = int(labels.max())
    if total == 0:
        return []
    index = np.arange(1, total + 1)
    mean_dab = np.asarray(ndimage.mean(dab_od, labels=labels, index=index))
    centroids = ndimage.center_of_mass(np.ones(labels.shape), labels=labels, index=index)
    areas = np.bincount(labels.ravel(), minlength=total + 1)[1:]
    return [
        Nucleus(
            x=float(col),
            y=float(row),
            area=int(area),
            mean_dab_od=float(dab),
            positive=bool(dab > params.dab_positive_od),
        )
        for (row, col), area, dab in zip(centroids, areas, mean_dab, strict=True)
    ]


def analyse_tile(rgb: NDArray[np.uint8], params: IHCParams | None = None) -> IHCResult:
    """Count nuclei and DAB-positive nuclei in an ``(H, W, 3)`` uint8 RGB tile."""
    nuclei = detect_nuclei(rgb, params)
    positive = sum(1 for nucleus in nuclei if nucleus.positive)
    return IHCResult(positive_nuclei=positive, total_nuclei=len(nuclei), nuclei=tuple(nuclei))


def _split_touching(mask: NDArray[np.bool_], min_separation: int) -> LabelImage:
    distance = np.asarray(ndimage.distance_transform_edt(mask), dtype=np.float64)
    components = np.asarray(label(mask), dtype=np.int32)
    peaks = np.asarray(
        peak_local_max(
            distance, min_distance=min_separation, labels=components, exclude_border=False
        )
    )
    markers = np.zeros(mask.shape, dtype=np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1, dtype=np.int32)
    labels = np.asarray(watershed(-distance, markers, mask=mask), dtype=np.int32)
    # A component without a distance peak gets no watershed seed; keep it as one nucleus
    # rather than silently dropping it.
    orphans = mask & (labels == 0)
    if orphans.any():
        orphan_labels = np.asarray(label(orphans), dtype=np.int32)
        labels[orphans] = orphan_labels[orphans] + int(labels.max())
    return labels


def _filter_by_area(labels: LabelImage, min_area: int, max_area: int) -> LabelImage:
    areas = np.bincount(labels.ravel())
    keep = (areas >= min_area) & (areas <= max_area)
    keep[0] = False
    relabel = np.zeros(len(areas), dtype=np.int32)
    relabel[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    return relabel[labels]
