"""Report datasets: parsing, validation of findings (every problem at once), synoptic rows."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from workflows.dataset_diff import diff_datasets
from workflows.datasets import (
    Dataset,
    DatasetInvalid,
    SynopticRow,
    definition_problems,
    findings_problems,
    parse_dataset,
    synoptic_sections,
    synoptic_text,
    visibility,
)
from workflows.expressions import TOO_DEEP

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


# --- definition problems ------------------------------------------------------------------------


def small_dataset(*elements: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "slug": "small",
        "title": {"zh": "小", "en": "Small"},
        "sections": [
            {"id": "main", "title": {"zh": "主", "en": "Main"}, "elements": list(elements)}
        ],
        **top,
    }


def label(text: str) -> dict[str, str]:
    return {"zh": f"{text}（中）", "en": text}


def yes_no_answers(*codes: str) -> list[dict[str, Any]]:
    return [{"system": "pathflow", "code": c, "label": label(c)} for c in codes]


def test_it_lists_every_problem_of_numbers_answers_help_and_conditions() -> None:
    document = small_dataset(
        {"id": "size", "type": "number", "label": label("Size"), "min": 10, "max": 5,
         "precision": -1},
        {"id": "site", "type": "single_select", "label": label("Site"),
         "answers": yes_no_answers("left", "left"), "help": {"en": "only English"}},
        {"id": "later", "type": "text", "label": label("Later"),
         "visible_if": "after == 'x' and ghost > 1"},
        {"id": "after", "type": "text", "label": label("After"), "visible_if": "after"},
        {"id": "9lives", "type": "text", "label": label("Nine"), "min": 1},
        {"id": "flag", "type": "boolean", "label": label("Flag"), "required": "yes",
         "when_hidden": "not_applicable"},
    )  # fmt: skip

    with pytest.raises(DatasetInvalid) as raised:
        parse_dataset(document)

    where = "section 'main' element"
    assert sorted(raised.value.problems) == sorted(
        [
            f"{where} 'size': min 10 is greater than max 5",
            f"{where} 'size': precision (decimal places) must be 0 or more and at most 10, not -1",
            f"{where} 'site': answer code 'left' is listed twice",
            f"{where} 'site': needs help text in zh and en (missing: zh)",
            f"{where} 'later': visible_if \"after == 'x' and ghost > 1\" reads 'after', which "
            "comes after it; a condition may only read elements above it (this also rules out "
            "cycles)",
            f"{where} 'later': visible_if \"after == 'x' and ghost > 1\" names 'ghost', which is "
            "not an element of this dataset",
            f"{where} 'after': visible_if 'after' reads the element itself",
            f"{where} '9lives': min only apply to number elements",
            f"{where} '9lives': an element id must be letters, digits and underscores, not "
            "starting with a digit, so that conditions can name it",
            f"{where} 'flag': required must be true or false, not 'yes'",
            f"{where} 'flag': when_hidden only applies to an element with visible_if",
        ]
    )


def test_it_refuses_a_dataset_schema_version_it_does_not_read() -> None:
    document = breast_dataset_document()
    document["schema_version"] = 2

    assert definition_problems(document) == [
        "schema_version 2 is not supported; this Pathflow reads dataset schema_version 1"
    ]


def test_the_breast_definition_has_no_problems() -> None:
    assert definition_problems(breast_dataset_document()) == []


# --- filled data --------------------------------------------------------------------------------


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


# --- "Not applicable" rows ----------------------------------------------------------------------


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


# --- differences between versions ---------------------------------------------------------------


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


# --- review fixes -------------------------------------------------------------------------------

HUGE = 10**400  # an integer JSON number beyond float range
PRECISION = "precision (decimal places) must be 0 or more and at most 10, not"


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ({"precision": 150_000_000}, f"{PRECISION} 150000000"),
        ({"precision": 2**31}, f"{PRECISION} 2147483648"),
        ({"precision": 11}, f"{PRECISION} 11"),
        ({"min": HUGE}, "min must be a number, not 10000000000000000000…(401 characters)"),
        ({"max": -HUGE}, "max must be a number, not -1000000000000000000…(402 characters)"),
    ],
)
def test_number_bounds_and_precision_out_of_range_are_definition_problems(
    field: dict[str, Any], reason: str
) -> None:
    document = small_dataset({"id": "size", "type": "number", "label": label("Size"), **field})

    assert definition_problems(document) == [f"section 'main' element 'size': {reason}"]


def test_precision_10_is_allowed_and_prints_ten_places() -> None:
    element = {"id": "size", "type": "number", "label": label("Size"), "precision": 10}
    dataset = parse_dataset(small_dataset(element))

    assert rows(dataset, {"size": 1.5}, "en")["size"].response == "1.5000000000"


def test_a_number_beyond_float_range_is_a_problem_not_a_crash() -> None:
    element = {"id": "size", "type": "number", "label": label("Size"), "min": 0, "max": 10}
    dataset = parse_dataset(small_dataset(element))

    assert problems_by_element(dataset, {"size": HUGE}, complete=False) == {
        "size": "10000000000000000000…(401 characters) is too large a number"
    }
    assert rows(dataset, {"size": HUGE}, "en")["size"].response == str(HUGE)  # preview: as given


def test_whole_numbers_print_exactly() -> None:
    element = {"id": "count", "type": "number", "label": label("Count"), "precision": 0}
    dataset = parse_dataset(small_dataset(element))

    assert rows(dataset, {"count": 2**63 + 1}, "en")["count"].response == "9223372036854775809"
    assert rows(dataset, {"count": 18.0}, "en")["count"].response == "18"


def test_a_condition_nested_too_deeply_is_a_definition_problem() -> None:
    condition = "(" * 3000 + "a" + ")" * 3000
    document = small_dataset(
        {"id": "a", "type": "boolean", "label": label("A")},
        {"id": "b", "type": "boolean", "label": label("B"), "visible_if": condition},
    )

    (problem,) = definition_problems(document)
    assert problem.startswith("section 'main' element 'b': visible_if")
    assert problem.endswith("does not compile: " + TOO_DEEP)


@pytest.mark.parametrize("code", [1, 1.5, True, None, ""])
def test_an_answer_code_must_be_text(code: Any) -> None:
    answers = [{"code": code, "label": label("One")}, {"code": "2", "label": label("Two")}]
    document = small_dataset(
        {"id": "grade", "type": "single_select", "label": label("Grade"), "answers": answers}
    )

    (problem,) = definition_problems(document)
    assert problem.startswith(f"section 'main' element 'grade' answers[0]: code {code!r} must be")


def test_many_repeated_choices_are_named_once() -> None:
    answers = yes_no_answers("a", "b")
    element = {"id": "pick", "type": "multi_select", "label": label("Pick"), "answers": answers}
    dataset = parse_dataset(small_dataset(element))

    value = ["a", "b"] * 50_000 + ["b"]
    assert problems_by_element(dataset, {"pick": value}, complete=False) == {
        "pick": "['a', 'b'] chosen more than once"
    }


def multi_level() -> Dataset:
    return parse_dataset(
        small_dataset(
            {"id": "a", "type": "single_select", "label": label("A"),
             "answers": yes_no_answers("yes", "no")},
            {"id": "b", "type": "single_select", "label": label("B"), "visible_if": "a == 'yes'",
             "answers": yes_no_answers("pos", "neg")},
            {"id": "c", "type": "text", "label": label("C"), "visible_if": "b != 'pos'"},
            {"id": "d", "type": "text", "label": label("D"), "visible_if": "not b"},
            {"id": "e", "type": "text", "label": label("E"),
             "visible_if": "a == 'no' or b == 'pos'"},
        )
    )  # fmt: skip


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
