"""The synoptic view: "Element: response" rows in dataset order, and their plain text.

Values of model-sourced elements (``source`` ``model`` or ``model_confirmed``) are never
printed among the pathologist's determinations: they come after them in one labelled block
("AI-derived values — not the pathologist's determination"), each row noting the model and
version that produced it or, for a value a person accepted, "AI, verified by <name>" (before
that, "AI, not yet verified"). An empty ``model`` element is left out of the block (a model
output is optional); an empty ``model_confirmed`` one shows the dash like any other.

A derived element the pathologist set to something else than its rule computes (with the
reason in ``_overrides``) says so in its row: the computed value and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from workflows.datasets.findings import assess
from workflows.datasets.model import NOT_APPLICABLE, UNFILLED, Dataset, Element, finite
from workflows.datasets.rules import overridden, with_derived
from workflows.expressions import is_number

_BOOLEAN = {"zh": ("是", "否"), "en": ("Yes", "No")}
AI_SECTION_ID = "ai_derived"
AI_TITLE = {
    "zh": "AI 辅助分析结果（非病理医师判读）",
    "en": "AI-derived values — not the pathologist's determination",
}
AI_VERIFIED = {"zh": "AI，经 {name} 复核", "en": "AI, verified by {name}"}
AI_UNVERIFIED = {"zh": "AI，尚未复核", "en": "AI, not yet verified"}
OVERRIDE_NOTE = {
    "zh": "病理医师修改，计算结果为 {computed}：{reason}",
    "en": "set by the pathologist; computed: {computed} — {reason}",
}


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
    # Rows of the AI block: which model produced the value, or who verified it.
    note: str = ""


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
    notes = {
        element_id: OVERRIDE_NOTE[language].format(
            computed=display_value(element, computed, language), reason=reason
        )
        for element_id, (computed, reason) in overridden(dataset, values).items()
        if (element := dataset.element(element_id)) is not None
    }
    sections = []
    for section in dataset.sections:
        rows = tuple(
            replace(row, note=notes.get(e.id, ""))
            for e in section.elements
            if not e.model_sourced and (row := _row(e, values, applies[e.id], language)) is not None
        )
        if rows:
            sections.append(SynopticSection(section.id, section.title[language], rows))
    return sections


def _person(sources: list[Any]) -> str | None:
    """The name of the person who accepted a value, if a person did."""
    for source in sources:
        if isinstance(source, dict) and source.get("kind") == "person":
            name = source.get("name") or source.get("username") or f"user {source.get('user')}"
            return str(name)
    return None


def _models(sources: list[Any]) -> str:
    names = [
        " ".join(filter(None, [str(s.get("model_name", "")), str(s.get("model_version", ""))]))
        for s in sources
        if isinstance(s, dict) and s.get("kind") == "model"
    ]
    return "; ".join(dict.fromkeys(n for n in names if n))


def ai_note(element: Element, provenance: dict[str, Any], language: str) -> str:
    """How an AI row is marked: verified by whom, or not yet; and the model and version."""
    sources = provenance.get(element.id)
    sources = sources if isinstance(sources, list) else []
    if (name := _person(sources)) is not None:
        return AI_VERIFIED[language].format(name=name)
    models = _models(sources)
    if element.source == "model_confirmed":
        return " · ".join(filter(None, [AI_UNVERIFIED[language], models]))
    return models


def ai_section(
    dataset: Dataset,
    values: dict[str, Any],
    language: str,
    provenance: dict[str, Any] | None = None,
) -> SynopticSection | None:
    """The labelled block of model-sourced values (None when there is none to print)."""
    model_elements = [e for e in dataset.elements() if e.model_sourced]
    if not model_elements:
        return None
    values = with_derived(dataset, values)
    applies = assess(dataset, values).applies
    rows = []
    for element in model_elements:
        if element.source == "model" and element.id not in values:
            continue
        row = _row(element, values, applies[element.id], language)
        if row is not None:
            note = ai_note(element, provenance or {}, language) if row.filled else ""
            rows.append(replace(row, note=note))
    return SynopticSection(AI_SECTION_ID, AI_TITLE[language], tuple(rows)) if rows else None


def synoptic_text(
    dataset: Dataset,
    values: dict[str, Any],
    language: str,
    provenance: dict[str, Any] | None = None,
) -> str:
    """The report's synoptic content as plain text, one "Label: response" line per row under its
    section title, the AI block last: the expected rendered text a library template ships."""
    lines = [dataset.title[language]]
    sections = synoptic_sections(dataset, values, language)
    if (ai := ai_section(dataset, values, language, provenance)) is not None:
        sections.append(ai)
    for section in sections:
        lines.extend(["", section.title])
        lines.extend(
            f"{row.label}: {row.response}" + (f" ({row.note})" if row.note else "")
            for row in section.rows
        )
    return "\n".join(lines) + "\n"
