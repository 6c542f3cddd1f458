"""Cross-field rules: definition problems, and every violated rule listed with its message."""

from __future__ import annotations

from typing import Any

import pytest

from tests.workflows.datasets.support_rules import (
    MESSAGES,
    VIOLATING,
    ai_document,
    ruled_document,
    ruled_sample,
)
from workflows.dataset_diff import diff_datasets
from workflows.datasets import (
    Dataset,
    FieldProblem,
    definition_problems,
    findings_problems,
    parse_dataset,
    synoptic_text,
)


@pytest.fixture(scope="module")
def ruled() -> Dataset:
    return parse_dataset(ruled_document())


def violated(dataset: Dataset, values: dict[str, Any], complete: bool = True) -> list[str]:
    return [p.rule_id for p in findings_problems(dataset, values, complete=complete) if p.rule_id]


def only_problem(dataset: Dataset, values: dict[str, Any], complete: bool = True) -> FieldProblem:
    (problem,) = findings_problems(dataset, values, complete=complete)
    return problem


def test_the_rules_are_read_with_the_dataset(ruled: Dataset) -> None:
    assert [(r.id, r.kind) for r in ruled.rules] == [
        ("ln_involved_within_examined", "constraint"),
        ("grade_from_scores", "derived"),
        ("nodal_none_alone", "exclusive"),
        ("distance_when_negative", "requires"),
    ]
    assert findings_problems(ruled, ruled_sample(), complete=True) == []


# --- constraint ---------------------------------------------------------------------------------


def test_a_constraint_refuses_more_nodes_involved_than_examined(ruled: Dataset) -> None:
    values = {**ruled_sample(), "ln_involved": 4}

    problem = only_problem(ruled, values)

    assert problem.rule_id == "ln_involved_within_examined"
    assert problem.elements == ("ln_involved", "ln_examined")
    assert problem.text("en") == MESSAGES["ln_involved_within_examined"]["en"]
    assert problem.text("zh") == MESSAGES["ln_involved_within_examined"]["zh"]
    assert str(problem) == (
        "rule ln_involved_within_examined (ln_involved, ln_examined): "
        "Lymph nodes involved cannot exceed lymph nodes examined"
    )


def test_a_constraint_waits_until_every_element_it_reads_is_valid(ruled: Dataset) -> None:
    values = {**ruled_sample(), "ln_involved": 4}
    del values["ln_examined"]
    assert violated(ruled, values, complete=False) == []

    values["ln_examined"] = -1  # below the minimum: the element's own problem, not the rule's
    assert [str(p) for p in findings_problems(ruled, values, complete=False)] == [
        "ln_examined: -1 is below the minimum 0"
    ]


# --- derived ------------------------------------------------------------------------------------


def test_an_empty_derived_element_is_filled_in_and_printed(ruled: Dataset) -> None:
    values = ruled_sample()
    del values["grade"]

    assert findings_problems(ruled, values, complete=True) == []  # not "grade: is required"
    assert "Grade: Grade 2" in synoptic_text(ruled, values, "en")
    assert "组织学分级: 2 级" in synoptic_text(ruled, values, "zh")


def test_an_entered_value_that_differs_from_the_derived_one_is_refused(ruled: Dataset) -> None:
    values = {**ruled_sample(), "grade": "grade_3"}

    problem = only_problem(ruled, values)

    assert problem.rule_id == "grade_from_scores"
    assert problem.elements == ("grade", "tubules", "nuclei", "mitoses")
    assert problem.text("en") == (
        "The Nottingham grade follows from its three scores (grade is Grade 3 ('grade_3'), the "
        "rule gives Grade 2 ('grade_2'); record an override with a reason to keep it)"
    )
    assert problem.text("zh").startswith(MESSAGES["grade_from_scores"]["zh"])


def test_an_override_with_a_reason_keeps_the_pathologists_value(ruled: Dataset) -> None:
    reason = "mitoses counted in the hot spot of a second block"
    values = {**ruled_sample(), "grade": "grade_3", "_overrides": {"grade": {"reason": reason}}}

    assert findings_problems(ruled, values, complete=True) == []
    # The report says the value was set against the rule, with what it computes and why.
    assert (
        f"Grade: Grade 3 (set by the pathologist; computed: Grade 2 — {reason})"
        in synoptic_text(ruled, values, "en")
    )
    assert f"组织学分级: 3 级 (病理医师修改，计算结果为 2 级：{reason})" in synoptic_text(
        ruled, values, "zh"
    )
    assert "computed" not in synoptic_text(ruled, ruled_sample(), "en")


def test_an_override_without_a_reason_is_refused_with_the_rule(ruled: Dataset) -> None:
    values = {**ruled_sample(), "grade": "grade_3", "_overrides": {"grade": {"reason": " "}}}

    problems = findings_problems(ruled, values, complete=True)

    assert str(problems[0]) == "grade: an override needs a reason"
    assert [p.rule_id for p in problems] == ["", "grade_from_scores"]


def test_an_override_of_an_element_no_rule_derives_is_refused(ruled: Dataset) -> None:
    values = {**ruled_sample(), "_overrides": {"margin": {"reason": "looked again"}}}

    assert [str(p) for p in findings_problems(ruled, values, complete=False)] == [
        "margin: is overridden, but no derived rule computes this element"
    ]


def test_overrides_that_are_not_an_object_are_refused(ruled: Dataset) -> None:
    values = {**ruled_sample(), "_overrides": ["grade"]}

    assert [str(p) for p in findings_problems(ruled, values, complete=False)] == [
        '_overrides: must map element ids to {"reason": text}'
    ]


# --- exclusive ----------------------------------------------------------------------------------


def test_an_exclusive_answer_chosen_with_another_is_refused(ruled: Dataset) -> None:
    values = {**ruled_sample(), "nodal_procedure": ["none", "sentinel"]}

    problem = only_problem(ruled, values)

    assert (problem.rule_id, problem.elements) == ("nodal_none_alone", ("nodal_procedure",))
    assert problem.text("en") == (
        "'None' cannot be chosen with a nodal procedure (none chosen with other answers)"
    )
    assert violated(ruled, {**ruled_sample(), "nodal_procedure": ["none"]}) == []


# --- requires -----------------------------------------------------------------------------------


def test_a_condition_met_requires_its_elements_for_sign_out_not_for_a_draft(
    ruled: Dataset,
) -> None:
    values = ruled_sample()
    del values["margin_distance_mm"]

    problem = only_problem(ruled, values, complete=True)
    assert (problem.rule_id, problem.elements) == (
        "distance_when_negative",
        ("margin_distance_mm",),
    )
    assert problem.text("zh").startswith("切缘阴性时须填写距切缘距离")
    assert findings_problems(ruled, values, complete=False) == []
    assert violated(ruled, {**values, "margin": "positive"}) == []


# --- all at once --------------------------------------------------------------------------------


def test_every_violated_rule_is_listed_at_once_with_its_elements(ruled: Dataset) -> None:
    problems = findings_problems(ruled, VIOLATING, complete=True)

    assert [p.as_dict("zh") for p in problems] == [
        {
            "element_id": "ln_involved",
            "reason": MESSAGES["ln_involved_within_examined"]["zh"],
            "rule_id": "ln_involved_within_examined",
            "elements": ["ln_involved", "ln_examined"],
        },
        {
            "element_id": "grade",
            "reason": problems[1].text("zh"),
            "rule_id": "grade_from_scores",
            "elements": ["grade", "tubules", "nuclei", "mitoses"],
        },
        {
            "element_id": "nodal_procedure",
            "reason": MESSAGES["nodal_none_alone"]["zh"] + " (none chosen with other answers)",
            "rule_id": "nodal_none_alone",
            "elements": ["nodal_procedure"],
        },
        {
            "element_id": "margin_distance_mm",
            "reason": MESSAGES["distance_when_negative"]["zh"] + " (margin_distance_mm not filled)",
            "rule_id": "distance_when_negative",
            "elements": ["margin_distance_mm"],
        },
    ]


# --- definition problems ------------------------------------------------------------------------


def test_every_problem_of_the_rules_is_listed_at_once() -> None:
    document = ruled_document()
    document["rules"] = [
        {"id": "unknown_ids", "kind": "constraint", "elements": ["ln_involved", "nodes_seen"],
         "check": "ln_involved <= nodes_seen", "message": MESSAGES["nodal_none_alone"]},
        {"id": "no_compile", "kind": "constraint", "elements": ["ln_involved"],
         "check": "ln_involved <=", "message": MESSAGES["nodal_none_alone"]},
        {"id": "unlisted", "kind": "constraint", "elements": ["ln_involved"],
         "check": "ln_involved <= ln_examined", "message": MESSAGES["nodal_none_alone"]},
        {"id": "grade_a", "kind": "derived", "element": "grade", "elements": ["tubules"],
         "value": "'grade_1'", "message": MESSAGES["grade_from_scores"]},
        {"id": "grade_a", "kind": "derived", "element": "grade", "elements": ["nuclei"],
         "value": "'grade_2'", "message": MESSAGES["grade_from_scores"]},
        {"id": "not_multi", "kind": "exclusive", "element": "margin", "answers": ["negative"],
         "message": MESSAGES["nodal_none_alone"]},
        {"id": "bad_codes", "kind": "exclusive", "element": "nodal_procedure",
         "answers": ["nothing"], "message": MESSAGES["nodal_none_alone"]},
        {"id": "no_zh", "kind": "requires", "when": "margin == 'negative'",
         "elements": ["margin_distance_mm"], "message": {"en": "Distance needed"}},
        {"id": "Bad-Id", "kind": "sometimes", "message": MESSAGES["nodal_none_alone"]},
    ]  # fmt: skip

    assert definition_problems(document) == [
        "rule 'unknown_ids': elements names 'nodes_seen', which is not an element",
        "rule 'unknown_ids': check 'ln_involved <= nodes_seen' names 'nodes_seen', which is not "
        "an element",
        "rule 'no_compile': check 'ln_involved <=' does not compile: unexpected 'end of template'",
        "rule 'unlisted': check 'ln_involved <= ln_examined' reads 'ln_examined', which the rule "
        "does not list in elements (it is checked only when its listed elements are filled)",
        "rule 'not_multi': element 'margin' is a single_select; exclusive answers only apply to "
        "a multi_select",
        "rule 'bad_codes': answers ['nothing'] are not answers of 'nodal_procedure'",
        "rule 'no_zh': needs a message in zh and en (missing: zh)",
        "rule 'Bad-Id': id must be lower-case letters, digits and underscores",
        "rule 'Bad-Id': kind 'sometimes' is not one of constraint, derived, exclusive, requires",
        "rule 'grade_a': 2 rules share this id",
        "element 'grade' is the target of 2 derived rules; one value, one rule",
    ]


def test_rules_must_be_a_list_and_derived_never_from_itself() -> None:
    document = ruled_document()
    document["rules"] = {"id": "x"}
    assert definition_problems(document) == ["rules must be a list"]

    document["rules"] = [
        {"id": "self", "kind": "derived", "element": "grade", "elements": ["grade"],
         "value": "grade", "message": MESSAGES["grade_from_scores"]},
    ]  # fmt: skip
    assert definition_problems(document) == ["rule 'self': 'grade' cannot be derived from itself"]


def test_a_derived_value_the_target_does_not_accept_is_a_violation() -> None:
    document = ruled_document()
    document["rules"][1]["value"] = "'grade_' ~ (tubules|int + nuclei|int + mitoses|int)"
    dataset = parse_dataset(document)

    problem = only_problem(dataset, ruled_sample())

    assert problem.rule_id == "grade_from_scores"
    assert "the computed value is not a valid answer: 'grade_7' is not one of" in problem.reason


# --- element sources ----------------------------------------------------------------------------


def test_a_required_model_element_and_unknown_sources_are_definition_problems() -> None:
    document = ruled_document()
    elements = document["sections"][0]["elements"]
    elements.append(
        {"id": "ki67_ai", "type": "number", "label": {"zh": "Ki-67（AI）", "en": "Ki-67 (AI)"},
         "required": True, "source": "model",
         "measures": {"marker": "Ki-67", "stain": "IHC", "unit": "%", "clone": "MIB-1"}}
    )  # fmt: skip
    elements.append(
        {"id": "pdl1_ai", "type": "number", "label": {"zh": "PD-L1", "en": "PD-L1"},
         "source": "robot", "measures": "PD-L1"}
    )  # fmt: skip

    assert definition_problems(document) == [
        "section 'tumour' element 'ki67_ai': an element with source 'model' cannot be required "
        "(a report never needs a model output to be complete); use source 'model_confirmed' or "
        "make it optional",
        "section 'tumour' element 'ki67_ai': measures 'clone' is not one of marker, stain, unit",
        "section 'tumour' element 'pdl1_ai': source 'robot' is not one of pathologist, model, "
        "model_confirmed",
        "section 'tumour' element 'pdl1_ai': measures must be an object with marker, stain "
        "and/or unit",
    ]


def test_an_element_declares_its_source_and_what_it_measures() -> None:
    document = ruled_document()
    document["sections"][0]["elements"].append(
        {"id": "ki67_ai", "type": "number", "label": {"zh": "Ki-67（AI）", "en": "Ki-67 (AI)"},
         "source": "model", "measures": {"marker": "Ki-67", "unit": "%"}}
    )  # fmt: skip

    element = parse_dataset(document).element("ki67_ai")

    assert element is not None
    assert (element.source, element.model_sourced) == ("model", True)
    assert element.measures == {"marker": "Ki-67", "unit": "%"}


# --- diff ---------------------------------------------------------------------------------------


def test_rules_added_removed_and_changed_are_diffed(ruled: Dataset) -> None:
    document = ruled_document()
    document["rules"][0]["check"] = "ln_involved < ln_examined + 1"
    del document["rules"][2]
    document["rules"].append(
        {"id": "sentinel_alone", "kind": "exclusive", "element": "nodal_procedure",
         "answers": ["sentinel"], "message": MESSAGES["nodal_none_alone"]}
    )  # fmt: skip

    diff = diff_datasets(ruled, parse_dataset(document))

    assert diff.summary() == [
        "rule 'sentinel_alone' added",
        "rule 'nodal_none_alone' removed",
        "rule 'ln_involved_within_examined': check changed from 'ln_involved <= ln_examined' "
        "to 'ln_involved < ln_examined + 1'",
    ]


def test_requiring_an_element_that_cannot_apply_under_the_condition_is_a_definition_problem() -> (
    None
):
    document = ai_document()
    never = {"id": "pdl1_when_negative", "kind": "requires", "when": "margin == 'negative'",
             "elements": ["pdl1_ai"], "message": MESSAGES["distance_when_negative"]}  # fmt: skip
    sometimes = {**never, "id": "pdl1_when_positive", "when": "margin == 'positive'"}
    by_number = {**never, "id": "pdl1_by_count", "when": "ln_examined > 3"}
    document["rules"] = [never, sometimes, by_number]

    assert definition_problems(document) == [
        "rule 'pdl1_when_negative': requires 'pdl1_ai' when margin == 'negative', but 'pdl1_ai' "
        "applies only when margin == 'positive', which never holds then"
    ]
    # A condition over numbers is not tried exhaustively: filled data names the problem.
    dataset = parse_dataset({**document, "rules": [by_number]})
    values = {**ruled_sample(), "ln_examined": 5}
    problem = only_problem(dataset, values)
    assert problem.reason.endswith(
        "(pdl1_ai not filled; pdl1_ai does not apply here, so the template cannot be completed)"
    )


def test_a_derived_number_is_rounded_to_its_elements_precision() -> None:
    document = ruled_document()
    document["sections"][1]["elements"].append(
        {"id": "node_ratio", "type": "number", "label": {"zh": "淋巴结比率", "en": "Node ratio"},
         "precision": 2}
    )  # fmt: skip
    document["rules"].append(
        {"id": "ratio_from_counts", "kind": "derived", "element": "node_ratio",
         "elements": ["ln_involved", "ln_examined"], "value": "ln_involved / ln_examined",
         "message": {"zh": "比率由计数得出", "en": "The ratio follows from the counts"}}
    )  # fmt: skip
    dataset = parse_dataset(document)

    assert findings_problems(dataset, ruled_sample(), complete=True) == []
    assert "Node ratio: 0.33" in synoptic_text(dataset, ruled_sample(), "en")
    assert findings_problems(dataset, {**ruled_sample(), "node_ratio": 0.33}, complete=True) == []
    assert violated(dataset, {**ruled_sample(), "node_ratio": 0.5}) == ["ratio_from_counts"]
