"""Report datasets: sections of typed elements, validation of filled data, synoptic rows.

A dataset is the *what* of a report template version. Filled data (``values``) maps element
ids to answers: select codes, numbers, text, booleans or ISO dates. Validation lists every
problem at once; a draft may leave required elements empty, a report to sign may not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from workflows.errors import ExpressionError
from workflows.expressions import check_expression, evaluate, is_undefined

ElementType = Literal["single_select", "multi_select", "number", "text", "boolean", "date"]
ELEMENT_TYPES: tuple[str, ...] = ElementType.__args__  # type: ignore[attr-defined]
LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class Answer:
    system: str
    code: str
    label: dict[str, str]


@dataclass(frozen=True)
class Element:
    id: str
    type: str
    label: dict[str, str]
    required: bool = False
    answers: tuple[Answer, ...] = ()
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    precision: int = 0
    visible_if: str = ""
    help: dict[str, str] | None = None

    def answer(self, code: Any) -> Answer | None:
        return next((a for a in self.answers if a.code == code), None)


@dataclass(frozen=True)
class Section:
    id: str
    title: dict[str, str]
    elements: tuple[Element, ...]


@dataclass(frozen=True)
class Dataset:
    slug: str
    title: dict[str, str]
    sections: tuple[Section, ...]

    def elements(self) -> list[Element]:
        return [e for s in self.sections for e in s.elements]

    def element(self, element_id: str) -> Element | None:
        return next((e for e in self.elements() if e.id == element_id), None)


@dataclass(frozen=True)
class FieldProblem:
    element_id: str
    reason: str

    def __str__(self) -> str:
        return f"{self.element_id}: {self.reason}"


class DatasetInvalid(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def _labels(raw: Any, where: str, problems: list[str]) -> dict[str, str]:
    if not isinstance(raw, dict) or any(not raw.get(lang) for lang in LANGUAGES):
        problems.append(f"{where}: needs a label in zh and en")
        return {}
    return {lang: str(raw[lang]) for lang in LANGUAGES}


def _element(raw: dict[str, Any], where: str, problems: list[str]) -> Element:
    element_id = str(raw.get("id", ""))
    kind = raw.get("type")
    if kind not in ELEMENT_TYPES:
        problems.append(f"{where}: type {kind!r} is not one of {', '.join(ELEMENT_TYPES)}")
    answers = tuple(
        Answer(
            str(a.get("system", "pathflow")),
            str(a.get("code")),
            _labels(a.get("label"), f"{where} answer {a.get('code')!r}", problems),
        )
        for a in raw.get("answers", [])
    )
    if kind in ("single_select", "multi_select") and not answers:
        problems.append(f"{where}: a select element needs answers")
    visible_if = str(raw.get("visible_if", ""))
    if visible_if and (reason := check_expression(visible_if)):
        problems.append(f"{where}: visible_if {visible_if!r} does not compile: {reason}")
    return Element(
        id=element_id,
        type=str(kind),
        label=_labels(raw.get("label"), where, problems),
        required=bool(raw.get("required", False)),
        answers=answers,
        unit=str(raw.get("unit", "")),
        minimum=raw.get("min"),
        maximum=raw.get("max"),
        precision=int(raw.get("precision", 0)),
        visible_if=visible_if,
        help=raw.get("help"),
    )


def parse_dataset(data: Any) -> Dataset:
    """Parse a dataset definition; raises DatasetInvalid listing every problem."""
    problems: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("sections"), list):
        raise DatasetInvalid(["the dataset needs a 'sections' list"])
    sections: list[Section] = []
    seen: set[str] = set()
    for s_index, raw_section in enumerate(data["sections"]):
        if not isinstance(raw_section, dict):
            problems.append(f"sections[{s_index}]: must be an object")
            continue
        where = f"section {raw_section.get('id', s_index)!r}"
        elements = []
        for e_index, raw in enumerate(raw_section.get("elements", [])):
            if not isinstance(raw, dict):
                problems.append(f"{where} elements[{e_index}]: must be an object")
                continue
            element = _element(raw, f"{where} element {raw.get('id', e_index)!r}", problems)
            if element.id in seen or not element.id:
                problems.append(f"{where}: element id {element.id!r} is empty or repeated")
            seen.add(element.id)
            elements.append(element)
        sections.append(
            Section(
                str(raw_section.get("id", s_index)),
                _labels(raw_section.get("title"), where, problems),
                tuple(elements),
            )
        )
    title = _labels(data.get("title"), "title", problems)
    if problems:
        raise DatasetInvalid(problems)
    return Dataset(str(data.get("slug", "")), title, tuple(sections))


def visibility(dataset: Dataset, values: dict[str, Any]) -> dict[str, bool]:
    """Which elements apply. A condition over answers not given yet counts as not applying."""
    shown: dict[str, bool] = {}
    for element in dataset.elements():
        if not element.visible_if:
            shown[element.id] = True
            continue
        try:
            result = evaluate(
                element.visible_if, {k: v for k, v in values.items() if shown.get(k, False)}
            )
        except ExpressionError:
            result = False
        shown[element.id] = bool(result) and not is_undefined(result)
    return shown


def _value_problem(element: Element, value: Any) -> str | None:
    kind = element.type
    if kind == "single_select":
        return None if element.answer(value) else f"{value!r} is not one of the listed answers"
    if kind == "multi_select":
        if not isinstance(value, list) or not value:
            return "needs a non-empty list of answer codes"
        unknown = [v for v in value if element.answer(v) is None]
        return f"{unknown!r} not among the listed answers" if unknown else None
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{value!r} is not a number"
        amount = f"{value} {element.unit}".strip()
        if element.minimum is not None and value < element.minimum:
            return f"{amount} is below the minimum {element.minimum}"
        if element.maximum is not None and value > element.maximum:
            return f"{amount} is above the maximum {element.maximum}"
        return None
    if kind == "boolean":
        return None if isinstance(value, bool) else f"{value!r} is not true or false"
    if kind == "date":
        try:
            dt.date.fromisoformat(str(value))
        except ValueError:
            return f"{value!r} is not a date (YYYY-MM-DD)"
        return None
    return None if isinstance(value, str) and value.strip() else "needs text"


def findings_problems(
    dataset: Dataset, values: dict[str, Any], *, complete: bool
) -> list[FieldProblem]:
    """Every problem with filled data; ``complete`` also requires every applicable required
    element (a report to be signed), otherwise missing answers are allowed (a draft)."""
    problems: list[FieldProblem] = []
    shown = visibility(dataset, values)
    known = {e.id for e in dataset.elements()}
    problems.extend(
        FieldProblem(k, "is not an element of this template") for k in values if k not in known
    )
    for element in dataset.elements():
        if element.id not in values:
            if complete and element.required and shown[element.id]:
                problems.append(FieldProblem(element.id, "is required"))
            continue
        if not shown[element.id]:
            problems.append(
                FieldProblem(
                    element.id, f"does not apply here ({element.visible_if}) but is filled"
                )
            )
            continue
        if reason := _value_problem(element, values[element.id]):
            problems.append(FieldProblem(element.id, reason))
    return problems


_BOOLEAN = {"zh": ("是", "否"), "en": ("Yes", "No")}


def display_value(element: Element, value: Any, language: str) -> str:
    """How an answer is printed in a synoptic row ("Element: response")."""
    if element.type == "single_select":
        answer = element.answer(value)
        return answer.label[language] if answer else str(value)
    if element.type == "multi_select":
        labels = [a.label[language] if (a := element.answer(v)) else str(v) for v in value]
        return ("、" if language == "zh" else ", ").join(labels)
    if element.type == "number":
        text = f"{float(value):.{element.precision}f}"
        return f"{text} {element.unit}".strip() if element.unit != "%" else f"{text}%"
    if element.type == "boolean":
        yes, no = _BOOLEAN[language]
        return yes if value else no
    return str(value)


@dataclass(frozen=True)
class SynopticRow:
    element_id: str
    label: str
    response: str
    filled: bool


@dataclass(frozen=True)
class SynopticSection:
    id: str
    title: str
    rows: tuple[SynopticRow, ...]


def synoptic_sections(
    dataset: Dataset, values: dict[str, Any], language: str
) -> list[SynopticSection]:
    """Applicable elements in dataset order; unfilled ones show a dash for the reviewer."""
    shown = visibility(dataset, values)
    sections = []
    for section in dataset.sections:
        rows = tuple(
            SynopticRow(
                e.id,
                e.label[language],
                display_value(e, values[e.id], language) if e.id in values else "—",
                e.id in values,
            )
            for e in section.elements
            if shown[e.id]
        )
        if rows:
            sections.append(SynopticSection(section.id, section.title[language], rows))
    return sections


def synoptic_text(dataset: Dataset, values: dict[str, Any], language: str) -> str:
    """The report's synoptic content as plain text, one "Label: response" line per applicable
    element under its section title: the expected rendered text a library template ships."""
    lines = [dataset.title[language]]
    for section in synoptic_sections(dataset, values, language):
        lines.extend(["", section.title])
        lines.extend(f"{row.label}: {row.response}" for row in section.rows)
    return "\n".join(lines) + "\n"
