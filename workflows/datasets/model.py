"""The shapes of a report dataset: elements, sections, answers, and the problems found in one.

Constants and small helpers shared by parsing (``definition``), findings (``findings``) and the
synoptic view (``synoptic``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
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


def finite(value: int | float) -> bool:
    """Finite and within float range (an integer like 10**400 is neither inf nor a float)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}…({len(text)} characters)"


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
