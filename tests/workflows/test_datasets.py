"""Report datasets: parsing, validation of findings (every problem at once), synoptic rows."""

from __future__ import annotations

import json
from typing import Any

import pytest

from workflows.datasets import (
    Dataset,
    DatasetInvalid,
    SynopticRow,
    findings_problems,
    parse_dataset,
    synoptic_sections,
    visibility,
)

from .conftest import ROOT

TEMPLATE = ROOT / "templates" / "breast-carcinoma"


def breast_dataset_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((TEMPLATE / "dataset.json").read_text())
    return document


@pytest.fixture(scope="module")
def breast() -> Dataset:
    return parse_dataset(breast_dataset_document())


@pytest.fixture
def sample() -> dict[str, Any]:
    findings: dict[str, Any] = json.loads((TEMPLATE / "sample_findings.json").read_text())
    return findings


def problems_by_element(dataset: Dataset, values: dict[str, Any], complete: bool) -> dict[str, str]:
    found = findings_problems(dataset, values, complete=complete)
    by_element = {p.element_id: p.reason for p in found}
    assert len(by_element) == len(found), "one problem per element"
    return by_element


def rows(dataset: Dataset, values: dict[str, Any], language: str) -> dict[str, SynopticRow]:
    return {
        row.element_id: row
        for section in synoptic_sections(dataset, values, language)
        for row in section.rows
    }


def test_the_breast_dataset_parses(breast: Dataset) -> None:
    assert breast.slug == "breast-carcinoma"
    assert breast.title["en"] == "Invasive breast carcinoma — synoptic report"
    assert [s.id for s in breast.sections][:3] == ["specimen", "tumour", "extent"]
    size = breast.element("tumour_size_mm")
    assert size is not None
    assert (size.type, size.unit, size.minimum, size.maximum) == ("number", "mm", 0, 300)


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
        staging_edition="  ",
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
        "staging_edition": "needs text",
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
        "ki67_index",  # fna_malignancy_probability >= 50
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


def test_synoptic_rows_show_labels_units_and_formatted_answers_in_each_language(
    breast: Dataset, sample: dict[str, Any]
) -> None:
    del sample["comment"]
    sample.update(ki67_index=28.46, er_percent=90.4)

    zh = rows(breast, sample, "zh")
    en = rows(breast, sample, "en")

    assert (zh["procedure"].label, zh["procedure"].response) == (
        "手术方式",
        "保乳手术（局部扩大切除）",
    )
    assert (en["procedure"].label, en["procedure"].response) == (
        "Procedure",
        "Breast-conserving excision (lumpectomy)",
    )
    assert en["tumour_size_mm"].response == "18 mm"
    assert en["margin_distance_mm"].response == "3.5 mm"
    assert en["lymph_nodes_examined"].response == "3"
    assert en["er_percent"].response == "90%"  # precision 0
    assert zh["ki67_index"].response == "28.5%"  # precision 1
    assert zh["fna_malignancy_probability"].response == "93.4%"
    assert (zh["dcis_present"].response, en["dcis_present"].response) == ("是", "Yes")
    assert (zh["neoadjuvant_therapy"].response, en["neoadjuvant_therapy"].response) == ("否", "No")
    assert zh["nodal_procedure"].response == "前哨淋巴结活检"
    assert zh["procedure_date"].response == "2025-03-18"
    # An applicable element left empty shows a dash; one that does not apply has no row.
    assert (zh["comment"].response, zh["comment"].filled) == ("—", False)
    assert zh["procedure"].filled
    assert "treatment_effect" not in zh
    assert "histologic_type_other" not in en


def test_synoptic_sections_keep_dataset_order_and_titles(
    breast: Dataset, sample: dict[str, Any]
) -> None:
    sections = synoptic_sections(breast, sample, "en")

    assert [s.id for s in sections] == [s.id for s in breast.sections]
    assert sections[0].title == "Specimen"
    assert [r.element_id for r in sections[0].rows] == [
        "procedure",
        "specimen_laterality",
        "tumour_site",
        "procedure_date",
    ]
    assert sections[0].rows[2].response == "Upper outer quadrant"


def test_a_multi_select_joins_labels_per_language(breast: Dataset, sample: dict[str, Any]) -> None:
    sample["tumour_site"] = ["upper_outer", "central"]

    assert rows(breast, sample, "zh")["tumour_site"].response == "外上象限、中央区（乳晕后方）"
    assert rows(breast, sample, "en")["tumour_site"].response == (
        "Upper outer quadrant, Central (behind the areola)"
    )


def test_it_rejects_a_dataset_definition_listing_every_problem() -> None:
    document = {
        "slug": "broken",
        "title": {"zh": "坏", "en": "Broken"},
        "sections": [
            {
                "id": "one",
                "title": {"zh": "一", "en": "One"},
                "elements": [
                    {"id": "a", "type": "slider", "label": {"zh": "甲", "en": "A"}},
                    {"id": "b", "type": "single_select", "label": {"zh": "乙", "en": "B"}},
                    {"id": "c", "type": "text", "label": {"en": "C"}},
                    {"id": "a", "type": "text", "label": {"zh": "甲", "en": "A"}},
                    {"id": "d", "type": "text", "label": {"zh": "丁", "en": "D"},
                     "visible_if": "a =="},
                ],
            }
        ],
    }  # fmt: skip

    with pytest.raises(DatasetInvalid) as raised:
        parse_dataset(document)

    problems = raised.value.problems
    assert len(problems) == 5
    assert problems[0].startswith("section 'one' element 'a': type 'slider' is not one of ")
    assert "section 'one' element 'b': a select element needs answers" in problems
    assert "section 'one' element 'c': needs a label in zh and en (missing: zh)" in problems
    assert "section 'one': element id 'a' is empty or repeated" in problems
    assert any(
        p.startswith("section 'one' element 'd': visible_if 'a ==' does not compile")
        for p in problems
    )


def test_it_rejects_a_dataset_without_a_title_in_both_languages() -> None:
    document = breast_dataset_document()
    document["title"] = {"en": "Breast"}

    with pytest.raises(DatasetInvalid) as raised:
        parse_dataset(document)

    assert raised.value.problems == ["title: needs a label in zh and en (missing: zh)"]
