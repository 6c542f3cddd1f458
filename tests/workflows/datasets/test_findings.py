"""Filled data: what applies, and every problem with the answers listed at once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.workflows.datasets.support import (
    HUGE,
    label,
    multi_level,
    problems_by_element,
    rows,
    small_dataset,
    yes_no_answers,
)
from workflows.datasets import (
    Dataset,
    findings_problems,
    parse_dataset,
    visibility,
)


def test_the_sample_findings_are_complete_and_valid(
    breast: Dataset, sample: dict[str, Any]
) -> None:
    assert findings_problems(breast, sample, complete=True) == []


def test_it_lists_every_problem_with_filled_data_at_once(
    breast: Dataset, sample: dict[str, Any]
) -> None:
    values = dict(sample)
    del values["procedure"]
    values.update(
        specimen_laterality="middle",
        tumour_size_mm=400,
        lymph_nodes_examined=-1,
        treatment_effect="partial_response",
        colour="red",
        dcis_present="yes",
        procedure_date="18/03/2025",
        tumour_site="upper_outer",
        nodal_procedure=["sentinel_biopsy", "telepathy"],
        pr_percent="40",
        comment="  ",
    )

    problems = problems_by_element(breast, values, complete=True)

    assert problems == {
        "colour": "is not an element of this template",
        "procedure": "is required",
        "specimen_laterality": "'middle' is not one of the listed answers",
        "tumour_size_mm": "400 mm is above the maximum 300",
        "lymph_nodes_examined": "-1 is below the minimum 0",
        "treatment_effect": "does not apply here (neoadjuvant_therapy) but is filled",
        "dcis_present": "'yes' is not true or false",
        "procedure_date": "'18/03/2025' is not a date (YYYY-MM-DD)",
        "tumour_site": "needs a non-empty list of answer codes",
        "nodal_procedure": "['telepathy'] not among the listed answers",
        "pr_percent": "'40' is not a number",
        "comment": "needs text",
        # lymph_nodes_involved and the elements after it depend on lymph_nodes_examined, whose
        # answer (-1) is invalid: whether they apply is undecided until it is corrected, so they
        # are neither reported as "does not apply" nor required.
    }


@pytest.mark.parametrize("value", [0, "", None])
def test_it_rejects_a_boolean_that_is_not_true_or_false(
    breast: Dataset, sample: dict[str, Any], value: Any
) -> None:
    sample["neoadjuvant_therapy"] = value

    problems = problems_by_element(breast, sample, complete=True)

    assert problems == {"neoadjuvant_therapy": f"{value!r} is not true or false"}


@pytest.mark.parametrize("value", [True, 18.0])
def test_it_rejects_a_number_that_is_a_boolean_and_accepts_a_float(
    breast: Dataset, sample: dict[str, Any], value: Any
) -> None:
    sample["tumour_size_mm"] = value

    problems = problems_by_element(breast, sample, complete=True)

    assert problems == ({} if value == 18.0 else {"tumour_size_mm": "True is not a number"})


def test_a_draft_may_leave_required_elements_empty(breast: Dataset) -> None:
    draft = {"procedure": "lumpectomy", "tumour_size_mm": 400}

    assert problems_by_element(breast, draft, complete=False) == {
        "tumour_size_mm": "400 mm is above the maximum 300"
    }
    missing = problems_by_element(breast, draft, complete=True)
    assert missing["specimen_laterality"] == "is required"
    assert "procedure" not in missing


def test_conditions_over_unanswered_elements_hide_their_dependants(breast: Dataset) -> None:
    shown = visibility(breast, {"histologic_type": "invasive_nst"})

    hidden = {
        "histologic_type_other",  # histologic_type == 'other'
        "dcis_nuclear_grade",  # dcis_present
        "treatment_effect",  # neoadjuvant_therapy
        "margin_distance_mm",  # margin_status == 'negative'
        "lymph_nodes_involved",  # lymph_nodes_examined > 0
        "er_percent",  # 'er' in biomarkers_tested
        "er_intensity",  # ... and er_percent > 0
        "her2_cep17_ratio",  # 'her2_ish' in biomarkers_tested and ...
    }
    assert {element_id for element_id, applies in shown.items() if not applies} >= hidden
    assert shown["procedure"]
    assert shown["tumour_size_mm"]
    missing = problems_by_element(breast, {}, complete=True)
    assert hidden.isdisjoint(missing)
    assert missing["procedure"] == "is required"


def test_answering_an_element_shows_its_dependants(breast: Dataset) -> None:
    values = {
        "histologic_type": "other",
        "biomarkers_tested": ["er"],
        "er_percent": 0,
        "lymph_nodes_examined": 4,
    }

    shown = visibility(breast, values)

    assert shown["histologic_type_other"]
    assert shown["er_percent"]
    assert not shown["er_intensity"]  # er_percent > 0 is false
    assert shown["lymph_nodes_involved"]
    assert not shown["pr_percent"]


def test_an_invalid_answer_does_not_decide_what_applies(breast: Dataset) -> None:
    # "no" is truthy in Python; it must not make the neoadjuvant response apply.
    values = {"neoadjuvant_therapy": "no", "margin_status": "negative"}

    shown = visibility(breast, values)
    problems = problems_by_element(breast, values, complete=True)

    assert not shown["treatment_effect"]
    assert shown["margin_distance_mm"]
    assert problems["neoadjuvant_therapy"] == "'no' is not true or false"
    assert "treatment_effect" not in problems  # undecided: not required, not "does not apply"
    assert problems["margin_distance_mm"] == "is required"
    assert "treatment_effect" not in rows(breast, values, "en")


def test_an_out_of_range_number_does_not_decide_what_applies(breast: Dataset) -> None:
    values = {"lymph_nodes_examined": 250, "lymph_nodes_involved": 2}

    assert not visibility(breast, values)["lymph_nodes_involved"]
    assert problems_by_element(breast, values, complete=False) == {
        "lymph_nodes_examined": "250 is above the maximum 100"
    }
    values["lymph_nodes_examined"] = 12
    assert visibility(breast, values)["lymph_nodes_involved"]
    assert problems_by_element(breast, values, complete=False) == {}


@pytest.mark.parametrize(
    ("element_id", "value", "reason"),
    [
        ("tumour_size_mm", 18.5, "18.5 mm has 1 decimal places; none allowed"),
        ("margin_distance_mm", 3.25, "3.25 mm has 2 decimal places; at most 1 allowed"),
        ("tumour_size_mm", float("nan"), "nan is not a finite number"),
        ("procedure_date", "2025-02-30", "'2025-02-30' is not a real date"),
        ("procedure_date", "20250318", "'20250318' is not a date (YYYY-MM-DD)"),
        ("procedure_date", 20250318, "20250318 is not a date (YYYY-MM-DD)"),
        ("procedure", ["lumpectomy"], "needs one answer code, not ['lumpectomy']"),
        ("tumour_site", ["central", "central"], "['central'] chosen more than once"),
        ("comment", 8, "needs text"),
        ("staging_edition", "AJCC 8", "'AJCC 8' is not one of the listed answers"),
    ],
)
def test_it_names_the_element_and_what_is_wrong_with_its_answer(
    breast: Dataset, sample: dict[str, Any], element_id: str, value: Any, reason: str
) -> None:
    sample[element_id] = value

    assert problems_by_element(breast, sample, complete=True) == {element_id: reason}


def test_numbers_within_their_precision_are_accepted(
    breast: Dataset, sample: dict[str, Any]
) -> None:
    sample.update(tumour_size_mm=18.0, margin_distance_mm=3.5, ki67_index=28)

    assert findings_problems(breast, sample, complete=True) == []


def test_a_number_beyond_float_range_is_a_problem_not_a_crash() -> None:
    element = {"id": "size", "type": "number", "label": label("Size"), "min": 0, "max": 10}
    dataset = parse_dataset(small_dataset(element))

    assert problems_by_element(dataset, {"size": HUGE}, complete=False) == {
        "size": "10000000000000000000…(401 characters) is too large a number"
    }
    assert rows(dataset, {"size": HUGE}, "en")["size"].response == str(HUGE)  # preview: as given


def test_many_repeated_choices_are_named_once() -> None:
    answers = yes_no_answers("a", "b")
    element = {"id": "pick", "type": "multi_select", "label": label("Pick"), "answers": answers}
    dataset = parse_dataset(small_dataset(element))

    value = ["a", "b"] * 50_000 + ["b"]
    assert problems_by_element(dataset, {"pick": value}, complete=False) == {
        "pick": "['a', 'b'] chosen more than once"
    }


@pytest.mark.parametrize(
    ("values", "applies"),
    [
        ({}, {"a": True, "b": False, "c": False, "d": False, "e": False}),
        # b does not apply: a condition reading it does not hold, whatever it tests
        ({"a": "no"}, {"a": True, "b": False, "c": False, "d": False, "e": True}),
        ({"a": "yes"}, {"a": True, "b": True, "c": False, "d": False, "e": False}),
        ({"a": "yes", "b": "neg"}, {"a": True, "b": True, "c": True, "d": False, "e": False}),
        ({"a": "yes", "b": "pos"}, {"a": True, "b": True, "c": False, "d": False, "e": True}),
        # an answer given where it does not apply decides nothing either
        ({"a": "no", "b": "neg"}, {"a": True, "b": False, "c": False, "d": False, "e": True}),
    ],
)
def test_a_condition_over_an_answer_absent_or_not_applicable_does_not_hold(
    values: dict[str, Any], applies: dict[str, bool]
) -> None:
    assert visibility(multi_level(), values) == applies


def test_a_condition_over_an_undecided_element_is_undecided() -> None:
    dataset = multi_level()
    values = {"a": 3, "c": "filled"}  # a is invalid: b is undecided, and so is c

    assert problems_by_element(dataset, values, complete=True) == {
        "a": "3 is not one of the listed answers"
    }
