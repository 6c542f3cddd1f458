"""The synoptic view: rows, labels, formatted answers, not-applicable rows, text."""

from __future__ import annotations

from typing import Any

from tests.workflows.datasets.support import (
    TEMPLATE,
    breast_dataset_document,
    label,
    problems_by_element,
    rows,
    small_dataset,
)
from workflows.datasets import (
    Dataset,
    findings_problems,
    parse_dataset,
    synoptic_sections,
    synoptic_text,
)


def test_synoptic_rows_show_labels_units_and_formatted_answers_in_each_language(
    breast: Dataset, sample: dict[str, Any]
) -> None:
    sample.pop("comment", None)
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
    assert en["ki67_percent"].response == "30%"
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

    # A section of model outputs only prints in the AI block, after the others.
    pathologists = [s.id for s in breast.sections if any(not e.model_sourced for e in s.elements)]
    assert [s.id for s in sections] == pathologists
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


def opted_in(document: dict[str, Any], element_id: str) -> Dataset:
    for section in document["sections"]:
        for element in section["elements"]:
            if element["id"] == element_id:
                element["when_hidden"] = "not_applicable"
    return parse_dataset(document)


def test_an_opted_in_element_that_does_not_apply_prints_not_applicable(
    sample: dict[str, Any],
) -> None:
    dataset = opted_in(breast_dataset_document(), "treatment_effect")

    zh, en = rows(dataset, sample, "zh"), rows(dataset, sample, "en")

    assert (zh["treatment_effect"].response, en["treatment_effect"].response) == (
        "不适用",
        "Not applicable",
    )
    assert not en["treatment_effect"].applicable
    assert not en["treatment_effect"].filled
    assert "Pathological response to neoadjuvant therapy: Not applicable" in synoptic_text(
        dataset, sample, "en"
    )
    # Still an error to fill it, and never required.
    assert findings_problems(dataset, sample, complete=True) == []
    sample["treatment_effect"] = "partial_response"
    assert problems_by_element(dataset, sample, complete=True) == {
        "treatment_effect": "does not apply here (neoadjuvant_therapy) but is filled"
    }


def test_when_it_applies_an_opted_in_element_shows_its_answer_or_a_dash(
    sample: dict[str, Any],
) -> None:
    dataset = opted_in(breast_dataset_document(), "treatment_effect")
    sample["neoadjuvant_therapy"] = True

    assert rows(dataset, sample, "en")["treatment_effect"].response == "—"
    sample["treatment_effect"] = "complete_response"
    row = rows(dataset, sample, "en")["treatment_effect"]
    assert row.response.startswith("Complete pathological response")
    assert row.applicable


def test_the_breast_synoptic_text_matches_the_library_expected_text(sample: dict[str, Any]) -> None:
    dataset = parse_dataset(breast_dataset_document())
    for language in ("zh", "en"):
        expected = (TEMPLATE / f"expected_{language}.txt").read_text(encoding="utf-8")
        assert synoptic_text(dataset, sample, language) == expected


def test_precision_10_is_allowed_and_prints_ten_places() -> None:
    element = {"id": "size", "type": "number", "label": label("Size"), "precision": 10}
    dataset = parse_dataset(small_dataset(element))

    assert rows(dataset, {"size": 1.5}, "en")["size"].response == "1.5000000000"


def test_whole_numbers_print_exactly() -> None:
    element = {"id": "count", "type": "number", "label": label("Count"), "precision": 0}
    dataset = parse_dataset(small_dataset(element))

    assert rows(dataset, {"count": 2**63 + 1}, "en")["count"].response == "9223372036854775809"
    assert rows(dataset, {"count": 18.0}, "en")["count"].response == "18"
