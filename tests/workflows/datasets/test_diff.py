"""Differences between two versions of a dataset."""

from __future__ import annotations

import copy

from tests.workflows.datasets.support import (
    breast_dataset_document,
    label,
    yes_no_answers,
)
from workflows.dataset_diff import diff_datasets
from workflows.datasets import (
    Dataset,
    parse_dataset,
)


def test_the_diff_lists_added_removed_and_changed_elements_and_sections() -> None:
    old_document = breast_dataset_document()
    new_document = copy.deepcopy(old_document)
    sections = {s["id"]: s for s in new_document["sections"]}
    tumour = {e["id"]: e for e in sections["tumour"]["elements"]}
    tumour["tumour_size_mm"].update(max=250, precision=1, unit="cm", required=False)
    tumour["tumour_size_mm"]["label"]["en"] = "Invasive tumour size"
    tumour["histologic_type"]["answers"].append(
        {"system": "pathflow", "code": "metaplastic", "label": label("Metaplastic")}
    )
    tumour["histologic_type"]["answers"] = [
        a for a in tumour["histologic_type"]["answers"] if a["code"] != "tubular"
    ]
    tumour["dcis_nuclear_grade"]["visible_if"] = "dcis_present == true"
    tumour["dcis_present"]["type"] = "single_select"
    tumour["dcis_present"]["answers"] = yes_no_answers("yes", "no")
    sections["tumour"]["elements"] = [
        e for e in sections["tumour"]["elements"] if e["id"] != "tumour_focality"
    ]
    sections["specimen"]["elements"].append(
        {"id": "specimen_weight_g", "type": "number", "label": label("Weight"), "unit": "g"}
    )
    new_document["sections"] = [s for s in new_document["sections"] if s["id"] != "ai_analysis"]
    new_document["sections"].append(
        {"id": "molecular", "title": label("Molecular"), "elements": [
            {"id": "oncotype_score", "type": "number", "label": label("Recurrence score")}]}
    )  # fmt: skip

    diff = diff_datasets(parse_dataset(old_document), parse_dataset(new_document))

    assert diff.sections_added == ("molecular",)
    assert diff.sections_removed == ("ai_analysis",)
    assert set(diff.elements_added) == {"specimen_weight_g", "oncotype_score"}
    assert set(diff.elements_removed) == {
        "tumour_focality",
        "ki67_index",
    }
    changed = {(c.id, c.field): (c.before, c.after) for c in diff.changes}
    assert changed[("tumour_size_mm", "max")] == (300, 250)
    assert changed[("tumour_size_mm", "precision")] == (0, 1)
    assert changed[("tumour_size_mm", "unit")] == ("mm", "cm")
    assert changed[("tumour_size_mm", "required")] == (True, False)
    assert changed[("tumour_size_mm", "label")][1]["en"] == "Invasive tumour size"
    assert changed[("histologic_type", "answers added")] == ([], ["metaplastic"])
    assert changed[("histologic_type", "answers removed")] == (["tubular"], [])
    assert changed[("dcis_nuclear_grade", "visible_if")] == ("dcis_present", "dcis_present == true")
    assert changed[("dcis_present", "type")] == ("boolean", "single_select")
    summary = diff.summary()
    assert "section 'molecular' added" in summary
    assert "element 'tumour_focality' removed" in summary
    assert "element 'tumour_size_mm': max changed from 300 to 250" in summary
    assert "element 'histologic_type': answers removed: 'tubular'" in summary
    assert diff.as_dict()["summary"] == summary


def test_an_element_moved_to_another_section_is_a_change_not_a_removal() -> None:
    old_document = breast_dataset_document()
    new_document = copy.deepcopy(old_document)
    specimen, tumour = new_document["sections"][0], new_document["sections"][1]
    moved = specimen["elements"].pop()  # procedure_date
    tumour["elements"].insert(0, moved)

    diff = diff_datasets(parse_dataset(old_document), parse_dataset(new_document))

    assert diff.summary() == [
        "element 'procedure_date': section changed from 'specimen' to 'tumour'"
    ]


def test_identical_versions_have_no_changes(breast: Dataset) -> None:
    diff = diff_datasets(breast, parse_dataset(breast_dataset_document()))

    assert diff.is_empty
    assert diff.summary() == ["no changes"]
