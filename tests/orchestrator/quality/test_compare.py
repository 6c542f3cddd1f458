"""Comparing a version's values with the signed ones: numbers within a tolerance, multi-selects
as sets, only the elements the workflow fills, derived values as printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.quality.compare import agreement_figures, compare_values, same_value
from workflows.datasets import Dataset, parse_dataset

FNA = Path(__file__).resolve().parents[3] / "templates" / "breast-fna-cytology" / "dataset.json"


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return parse_dataset(json.loads(FNA.read_text()))


@pytest.mark.parametrize(
    ("expected", "got", "tolerance", "agrees"),
    [
        (97.2, 97.2, None, True),
        (97.2, 97.3, None, False),
        (97.2, 99.2, 2.0, True),
        (97.2, 99.3, 2.0, False),
        (3, 3.0, None, True),
        (["blood", "necrosis"], ["necrosis", "blood"], None, True),
        (["blood"], ["blood", "necrosis"], None, False),
        ("malignant", "malignant", 5.0, True),
        ("malignant", "benign", None, False),
        (None, None, None, True),
        (None, 1, None, False),
        (True, 1, None, False),  # a yes/no is not the number 1
    ],
)
def test_it_judges_values_as_a_pathologist_would(
    expected: object, got: object, tolerance: float | None, agrees: bool
) -> None:
    assert same_value(expected, got, tolerance) is agrees


def test_it_compares_only_what_the_workflow_fills_in_template_order(dataset: Dataset) -> None:
    expected = {
        "recommendation": "core_biopsy",
        "fna_malignancy_probability": 90.0,
        "comment": "typed by the pathologist",
    }
    got = {"recommendation": "histology_before_treatment", "fna_malignancy_probability": 91.5}

    comparison = compare_values(
        dataset,
        expected,
        got,
        fills={"recommendation", "fna_malignancy_probability"},
        tolerances={"fna_malignancy_probability": 2.0},
    )

    order = [e.id for e in dataset.elements()]
    assert comparison.compared == sorted(comparison.compared, key=order.index)
    assert "comment" not in comparison.compared
    assert [d.element for d in comparison.differences] == ["recommendation"]
    assert not comparison.agrees


def test_an_element_the_workflow_fills_but_left_empty_differs_from_a_signed_value(
    dataset: Dataset,
) -> None:
    comparison = compare_values(
        dataset, {"recommendation": "core_biopsy"}, {}, fills={"recommendation"}, tolerances={}
    )
    [difference] = comparison.differences
    assert (difference.expected, difference.got) == ("core_biopsy", None)


def test_agreement_figures_count_cases_and_elements() -> None:
    cases, elements = agreement_figures(
        [
            (True, ["a", "b"], []),
            (False, ["a", "b"], ["b"]),
            (False, ["a"], ["a"]),
        ]
    )
    assert cases == 1
    assert elements == {"a": {"compared": 3, "agreed": 2}, "b": {"compared": 2, "agreed": 1}}
