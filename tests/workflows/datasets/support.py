"""Datasets shared by the dataset tests: the breast library template and small ones."""

from __future__ import annotations

import json
from typing import Any

from tests.workflows.conftest import ROOT
from workflows.datasets import (
    Dataset,
    SynopticRow,
    ai_section,
    findings_problems,
    parse_dataset,
    synoptic_sections,
)

TEMPLATE = ROOT / "templates" / "breast-carcinoma"


def breast_dataset_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((TEMPLATE / "dataset.json").read_text())
    return document


def problems_by_element(dataset: Dataset, values: dict[str, Any], complete: bool) -> dict[str, str]:
    found = findings_problems(dataset, values, complete=complete)
    by_element = {p.element_id: p.reason for p in found}
    assert len(by_element) == len(found), "one problem per element"
    return by_element


def rows(dataset: Dataset, values: dict[str, Any], language: str) -> dict[str, SynopticRow]:
    """Every row the report prints, the AI block's included."""
    sections = synoptic_sections(dataset, values, language)
    if (ai := ai_section(dataset, values, language)) is not None:
        sections.append(ai)
    return {row.element_id: row for section in sections for row in section.rows}


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


HUGE = 10**400  # an integer JSON number beyond float range


PRECISION = "precision (decimal places) must be 0 or more and at most 10, not"


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
