# scikit-image ships py.typed but leaves these functions unannotated.
# mypy: disallow-untyped-calls=False
"""Nucleus segmentation and DAB classification on synthetic tiles with a known answer."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from skimage.color import hed2rgb
from skimage.draw import disk

from model_services.ihc_analysis import IHCParams, analyse_tile

# rgb2hed/hed2rgb work in natural-log OD divided by -ln(1e-6), i.e. log10 OD / 6.
LOG10_OD_TO_HED = 1 / 6.0


def render(hed_log10_od: NDArray[np.float64]) -> NDArray[np.uint8]:
    """Turn a haematoxylin/eosin/DAB optical-density map into the RGB a scanner would see."""
    rgb = np.clip(hed2rgb(hed_log10_od * LOG10_OD_TO_HED), 0.0, 1.0)
    return np.asarray(np.round(rgb * 255), dtype=np.uint8)


def nuclei_grid(positive_every: int) -> tuple[NDArray[np.uint8], int, int]:
    """A 5x5 grid of well-separated nuclei; every ``positive_every``-th one is DAB-stained."""
    hed = np.zeros((200, 200, 3))
    positive = total = 0
    for row in range(20, 200, 40):
        for col in range(20, 200, 40):
            rr, cc = disk((row, col), 7)
            is_positive = total % positive_every == 0
            hed[rr, cc, 0] = 0.3 if is_positive else 0.5
            hed[rr, cc, 2] = 0.6 if is_positive else 0.0
            positive += is_positive
            total += 1
    return render(hed), positive, total


def test_it_counts_every_nucleus_and_each_dab_positive_one() -> None:
    tile, positive, total = nuclei_grid(positive_every=3)

    result = analyse_tile(tile)

    assert (result.positive_nuclei, result.total_nuclei) == (positive, total)
    assert result.positive_fraction == pytest.approx(positive / total)


def test_it_splits_two_touching_nuclei() -> None:
    hed = np.zeros((60, 80, 3))
    for centre in ((30, 28), (30, 50)):
        rr, cc = disk(centre, 11)
        hed[rr, cc, 0] = 0.5

    assert analyse_tile(render(hed)).total_nuclei == 2


def test_it_ignores_specks_smaller_than_a_nucleus() -> None:
    hed = np.zeros((64, 64, 3))
    rr, cc = disk((32, 32), 1.5)
    hed[rr, cc, 0] = 0.8

    assert analyse_tile(render(hed)).total_nuclei == 0


def test_it_reports_zero_for_a_blank_tile() -> None:
    result = analyse_tile(np.full((64, 64, 3), 255, dtype=np.uint8))

    assert (result.positive_fraction, result.positive_nuclei, result.total_nuclei) == (0.0, 0, 0)


def test_it_does_not_count_membrane_staining_as_nuclei() -> None:
    hed = np.zeros((100, 100, 3))
    hed[:, 48:52, 2] = 0.8  # a DAB-stained membrane band, no haematoxylin

    assert analyse_tile(render(hed)).total_nuclei == 0


def test_it_applies_a_stricter_dab_threshold_from_settings() -> None:
    tile, _, total = nuclei_grid(positive_every=3)

    result = analyse_tile(tile, IHCParams.from_mapping({"dab_positive_od": 5}))

    assert (result.positive_nuclei, result.total_nuclei) == (0, total)


@pytest.mark.parametrize(
    "overrides",
    [
        {"no_such_threshold": 1.0},
        {"dab_positive_od": "high"},
        {"min_nucleus_area": True},
        {"min_nucleus_area": 12.5},
        {"min_nucleus_area": 700},
        {"hematoxylin_min_od": 0},
    ],
)
def test_it_rejects_invalid_parameter_overrides(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="ihc-dab parameter"):
        IHCParams.from_mapping(overrides)
