"""Model-sourced values print apart from the pathologist's, in one labelled block."""

from __future__ import annotations

from tests.workflows.datasets.support_rules import (
    MODEL,
    ai_document,
    ruled_document,
    ruled_sample,
)
from workflows.datasets import (
    ai_section,
    drop_inapplicable_model_values,
    dropped_values,
    findings_problems,
    parse_dataset,
    synoptic_sections,
    synoptic_text,
)

PERSON = {"kind": "person", "user": 7, "name": "Dr Li", "at": "2026-12-01T08:00:00+00:00"}


def test_model_values_leave_the_synoptic_rows_for_a_labelled_block() -> None:
    dataset = parse_dataset(ai_document())
    values = {**ruled_sample(), "ki67_ai": 28.5, "her2_ai": "ihc_2plus"}

    text = synoptic_text(dataset, values, "en", {"ki67_ai": [MODEL], "her2_ai": [MODEL]})

    main, block = text.split("\nAI-derived values — not the pathologist's determination\n")
    assert "AI" not in main
    assert block.splitlines() == [
        "Ki-67 index (AI): 28.5% (ihc-dab 3.1)",
        "HER2 score (AI): 2+ (AI, not yet verified · ihc-dab 3.1)",
    ]
    rows = [r.element_id for s in synoptic_sections(dataset, values, "en") for r in s.rows]
    assert "ki67_ai" not in rows
    assert "her2_ai" not in rows


def test_an_accepted_ai_value_prints_who_verified_it() -> None:
    dataset = parse_dataset(ai_document())
    values = {**ruled_sample(), "her2_ai": "ihc_3plus"}

    block = ai_section(dataset, values, "zh", {"her2_ai": [PERSON]})

    assert block is not None
    assert block.title == "AI 辅助分析结果（非病理医师判读）"
    (row,) = block.rows
    assert (row.label, row.response, row.note) == ("HER2 评分（AI）", "3+", "AI，经 Dr Li 复核")


def test_an_unfilled_model_output_is_left_out_and_a_confirmed_one_shows_a_dash() -> None:
    dataset = parse_dataset(ai_document())

    block = ai_section(dataset, ruled_sample(), "en")

    assert block is not None
    assert [(r.element_id, r.response, r.note) for r in block.rows] == [("her2_ai", "—", "")]
    assert "Ki-67" not in synoptic_text(dataset, ruled_sample(), "en")


def test_a_dataset_without_model_elements_has_no_ai_block() -> None:
    plain = parse_dataset(ruled_document())

    assert ai_section(plain, ruled_sample(), "en") is None
    assert "AI" not in synoptic_text(plain, ruled_sample(), "en")


def test_a_model_value_for_an_element_that_does_not_apply_is_dropped_with_the_reason() -> None:
    dataset = parse_dataset(ai_document())
    values = {**ruled_sample(), "pdl1_ai": 4.2, "ki67_ai": 30.0}  # PD-L1 only when positive
    provenance = {"pdl1_ai": [MODEL], "ki67_ai": [MODEL]}
    assert [p.element_id for p in findings_problems(dataset, values, complete=False)] == ["pdl1_ai"]

    kept, marked, dropped = drop_inapplicable_model_values(dataset, values, provenance)

    assert findings_problems(dataset, kept, complete=True) == []
    assert "pdl1_ai" not in kept
    assert kept["ki67_ai"] == 30.0
    assert [d.as_dict() for d in dropped] == [
        {
            "element_id": "pdl1_ai",
            "value": 4.2,
            "reason": "does not apply here (margin == 'positive')",
        }
    ]
    assert marked["pdl1_ai"] == [
        {"kind": "dropped", "value": 4.2, "reason": "does not apply here (margin == 'positive')",
         "sources": [MODEL]}
    ]  # fmt: skip
    assert dropped_values(marked) == dropped
    assert "PD-L1" not in synoptic_text(dataset, kept, "en", marked)


def test_a_pathologist_element_is_dropped_only_when_every_source_of_its_value_is_a_model() -> None:
    document = ai_document()
    pdl1 = document["sections"][0]["elements"][7]
    assert pdl1["id"] == "pdl1_ai"
    pdl1["source"] = "pathologist"
    dataset = parse_dataset(document)
    values = {**ruled_sample(), "pdl1_ai": 5.0}  # the margin is negative: PD-L1 does not apply
    person = {"kind": "person", "user": 7, "name": "Dr Li"}

    kept, _, dropped = drop_inapplicable_model_values(dataset, values, {"pdl1_ai": [person]})
    assert dropped == []
    assert [str(p) for p in findings_problems(dataset, kept, complete=False)] == [
        "pdl1_ai: does not apply here (margin == 'positive') but is filled"
    ]

    kept, _, dropped = drop_inapplicable_model_values(dataset, values, {"pdl1_ai": [MODEL]})
    assert [d.element_id for d in dropped] == ["pdl1_ai"]
    assert findings_problems(dataset, kept, complete=False) == []
