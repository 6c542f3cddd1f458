"""The shapes of a report dataset: elements, sections, answers, and the problems found in one.

Constants and small helpers shared by parsing (``definition``), findings (``findings``) and the
synoptic view (``synoptic``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

ElementType = Literal["single_select", "multi_select", "number", "text", "boolean", "date"]
ELEMENT_TYPES: tuple[str, ...] = ElementType.__args__  # type: ignore[attr-defined]
SELECT_TYPES = ("single_select", "multi_select")
LANGUAGES = ("zh", "en")
DATASET_SCHEMA_VERSION = 1
WHEN_HIDDEN = ("omit", "not_applicable")
NOT_APPLICABLE = {"zh": "不适用", "en": "Not applicable"}
UNFILLED = "—"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
SLUG_PATTERN = re.compile(r"[-a-zA-Z0-9_]+\Z")
_SLUG = SLUG_PATTERN
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
# Decimal places a number may be printed with (a huge precision formats gigabytes of zeros).
MAX_PRECISION = 10
# Who determines an element's value: the pathologist, a model, or a model whose value a person
# then confirms. Model values print apart from the pathologist's determinations.
SOURCES = ("pathologist", "model", "model_confirmed")
MODEL_SOURCES = ("model", "model_confirmed")
MEASURE_KEYS = ("marker", "stain", "unit")
RULE_KINDS = ("constraint", "derived", "exclusive", "requires")
# Reserved key of filled values: ``{"<element id>": {"reason": "<text>"}}``, a pathologist's
# override of a derived element's computed value.
OVERRIDES = "_overrides"


def finite(value: int | float) -> bool:
    """Finite and within float range (an integer like 10**400 is neither inf nor a float)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}…({len(text)} characters)"


def labels(raw: Any, where: str, problems: list[str], what: str = "a label") -> dict[str, str]:
    if not isinstance(raw, dict) or any(
        not isinstance(raw.get(lang), str) or not raw[lang].strip() for lang in LANGUAGES
    ):
        missing = [lang for lang in LANGUAGES if not isinstance(raw, dict) or not raw.get(lang)]
        detail = f" (missing: {', '.join(missing)})" if missing else ""
        problems.append(f"{where}: needs {what} in zh and en{detail}")
        return {}
    return {lang: str(raw[lang]) for lang in LANGUAGES}


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
    when_hidden: str = "omit"
    source: str = "pathologist"
    # What a model-filled element measures: any of marker, stain and unit.
    measures: dict[str, str] | None = None

    @property
    def model_sourced(self) -> bool:
        return self.source in MODEL_SOURCES

    def answer(self, code: Any) -> Answer | None:
        return next((a for a in self.answers if a.code == code), None)


@dataclass(frozen=True)
class Section:
    id: str
    title: dict[str, str]
    elements: tuple[Element, ...]


@dataclass(frozen=True)
class Rule:
    """A cross-field rule (``rules`` in dataset.json); which fields apply depends on ``kind``:
    constraint (``elements``, ``check``), derived (``element`` computed by ``value`` from
    ``elements``), exclusive (``element``, ``answers``), requires (``when``, ``elements``)."""

    id: str
    kind: str
    message: dict[str, str]
    elements: tuple[str, ...] = ()
    element: str = ""
    check: str = ""
    value: str = ""
    answers: tuple[str, ...] = ()
    when: str = ""

    def concerns(self) -> tuple[str, ...]:
        """The elements the rule is about, its target first."""
        return tuple(
            dict.fromkeys([self.element, *self.elements] if self.element else self.elements)
        )


@dataclass(frozen=True)
class Dataset:
    slug: str
    title: dict[str, str]
    sections: tuple[Section, ...]
    rules: tuple[Rule, ...] = ()

    def elements(self) -> list[Element]:
        return [e for s in self.sections for e in s.elements]

    def element(self, element_id: str) -> Element | None:
        return next((e for e in self.elements() if e.id == element_id), None)


@dataclass(frozen=True)
class FieldProblem:
    """A problem with filled data: one element's answer, or a violated rule (``rule_id`` set,
    ``elements`` it concerns, its zh/en ``message``; ``element_id`` is the first of them)."""

    element_id: str
    reason: str
    rule_id: str = ""
    elements: tuple[str, ...] = ()
    message: dict[str, str] = field(default_factory=dict)

    def text(self, language: str = "en") -> str:
        """The problem in ``language``: a rule's own message, or the reason (English)."""
        if self.rule_id and language in self.message:
            detail = self.reason.removeprefix(self.message.get("en", ""))
            return self.message[language] + detail
        return self.reason

    def describe(self, language: str = "en") -> str:
        if self.rule_id:
            return f"rule {self.rule_id} ({', '.join(self.elements)}): {self.text(language)}"
        return f"{self.element_id}: {self.reason}"

    def as_dict(self, language: str = "en") -> dict[str, Any]:
        return {
            "element_id": self.element_id,
            "reason": self.text(language),
            "rule_id": self.rule_id or None,
            "elements": list(self.elements or (self.element_id,)),
        }

    def __str__(self) -> str:
        return self.describe()


class DatasetInvalid(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))
