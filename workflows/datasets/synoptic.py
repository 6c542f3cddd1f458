"""The synoptic view: "Element: response" rows in dataset order, and their plain text."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from workflows.datasets.findings import assess
from workflows.datasets.model import NOT_APPLICABLE, UNFILLED, Dataset, Element, finite
from workflows.datasets.rules import with_derived
from workflows.expressions import is_number

_BOOLEAN = {"zh": ("是", "否"), "en": ("Yes", "No")}


def display_value(element: Element, value: Any, language: str) -> str:
    """How an answer is printed in a synoptic row ("Element: response"): answer labels, numbers
    rounded to the element's precision with its unit. An answer of the wrong type (only in a
    preview of unchecked data) is printed as given."""
    kind = element.type
    if kind == "single_select" and (answer := element.answer(value)):
        return answer.label[language]
    if kind == "multi_select" and isinstance(value, list):
        labels = [a.label[language] if (a := element.answer(v)) else str(v) for v in value]
        return ("、" if language == "zh" else ", ").join(labels)
    if kind == "number" and is_number(value) and finite(value):
        # Decimal: exact for any integer (2**63 + 1 prints as given), and a float's exact
        # binary value rounds half-even, as float formatting does.
        text = f"{Decimal(value):.{element.precision}f}"
        return f"{text} {element.unit}".strip() if element.unit != "%" else f"{text}%"
    if kind == "boolean" and isinstance(value, bool):
        yes, no = _BOOLEAN[language]
        return yes if value else no
    return str(value)


@dataclass(frozen=True)
class SynopticRow:
    element_id: str
    label: str
    response: str
    filled: bool
    # False for a "Not applicable" row (an element with "when_hidden": "not_applicable").
    applicable: bool = True


@dataclass(frozen=True)
class SynopticSection:
    id: str
    title: str
    rows: tuple[SynopticRow, ...]


def _row(
    element: Element, values: dict[str, Any], applies: bool | None, language: str
) -> SynopticRow | None:
    label = element.label[language]
    if applies is True:
        if element.id in values:
            return SynopticRow(
                element.id, label, display_value(element, values[element.id], language), True
            )
        return SynopticRow(element.id, label, UNFILLED, False)
    if applies is False and element.when_hidden == "not_applicable":
        return SynopticRow(element.id, label, NOT_APPLICABLE[language], False, applicable=False)
    return None


def synoptic_sections(
    dataset: Dataset, values: dict[str, Any], language: str
) -> list[SynopticSection]:
    """Rows in dataset order, as the module docstring describes: answers, a dash for applicable
    elements left empty, "Not applicable" for opted-in elements that do not apply."""
    values = with_derived(dataset, values)
    applies = assess(dataset, values).applies
    sections = []
    for section in dataset.sections:
        rows = tuple(
            row
            for e in section.elements
            if (row := _row(e, values, applies[e.id], language)) is not None
        )
        if rows:
            sections.append(SynopticSection(section.id, section.title[language], rows))
    return sections


def synoptic_text(dataset: Dataset, values: dict[str, Any], language: str) -> str:
    """The report's synoptic content as plain text, one "Label: response" line per row under its
    section title: the expected rendered text a library template ships."""
    lines = [dataset.title[language]]
    for section in synoptic_sections(dataset, values, language):
        lines.extend(["", section.title])
        lines.extend(f"{row.label}: {row.response}" for row in section.rows)
    return "\n".join(lines) + "\n"
