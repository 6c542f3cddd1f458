"""Model-sourced values print apart from the pathologist's, in one labelled block."""

from __future__ import annotations

from tests.workflows.datasets.support_rules import (
    MODEL,
    ai_document,
    ruled_document,
    ruled_sample,
)
from workflows.datasets import ai_section, parse_dataset, synoptic_sections, synoptic_text

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
