"""Report datasets: sections of typed elements, validation of filled data, synoptic rows.

(Differences between two versions of a dataset: ``workflows/dataset_diff.py``.)

A dataset is the *what* of a report template version (``dataset.json``)::

    {"schema_version": 1, "slug": "...", "title": {"zh": "...", "en": "..."},
     "sections": [{"id": "...", "title": {...}, "elements": [
        {"id": "tumour_size_mm", "type": "number", "label": {...}, "help": {...},
         "required": true, "unit": "mm", "min": 0, "max": 300, "precision": 0,
         "visible_if": "histologic_type != 'pTis'", "when_hidden": "omit"}, ...]}]}

Element types: ``single_select`` / ``multi_select`` (``answers``: ``system``, ``code``, zh/en
``label``), ``number`` (``unit``, ``min``, ``max``, ``precision`` = decimals allowed), ``text``,
``boolean`` and ``date`` (``YYYY-MM-DD``). Element ids are identifiers, because ``visible_if``
(a sandboxed Jinja2 expression) reads other answers by id; a condition may only read elements
that come *before* it, so conditions never form a cycle and one pass in dataset order decides
every element. ``parse_dataset`` lists every problem of a definition at once.

Filled data (``values``) maps element ids to answers. Validation lists every problem at once,
each naming its element; a draft may leave required elements empty, a report to sign may not.
Conditions see only *valid, applicable* answers: an invalid answer (``"no"`` for a boolean) never
decides whether another element applies. An element whose condition reads an invalid answer is
*undecided*: it is not required, not reported as "does not apply" (the reader fixes the answer it
depends on first) and not printed; so is an element whose condition reads an undecided one. An
answer not given or not applicable decides nothing either: a condition reading one holds only if
it holds whichever way each test of that answer comes out (``b != 'pos'`` and ``not b`` do not
hold while ``b`` is unanswered; ``a == 'x' or b == 'y'`` holds when ``a`` is ``'x'``).

Synoptic view ("Element: response" rows, in dataset order):
- an applicable element that is filled shows its formatted answer (labels, unit, precision);
- an applicable element left empty shows a dash "—", so the reviewer sees what is missing;
- an element whose ``visible_if`` is false is omitted by default (``"when_hidden": "omit"``),
  which keeps reports short; a template opts in with ``"when_hidden": "not_applicable"`` to print
  "Not applicable / 不适用" instead, for elements a reader expects to see answered either way;
- a section with no rows left is omitted.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from jinja2 import ChainableUndefined

from workflows.errors import ExpressionError
from workflows.expressions import (
    check_expression,
    evaluate,
    is_number,
    is_undefined,
    referenced_variables,
)

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


def _finite(value: int | float) -> bool:
    """Finite and within float range (an integer like 10**400 is neither inf nor a float)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _short(value: Any) -> str:
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


# --- parsing a definition -----------------------------------------------------------------------


def _labels(raw: Any, where: str, problems: list[str], what: str = "a label") -> dict[str, str]:
    if not isinstance(raw, dict) or any(
        not isinstance(raw.get(lang), str) or not raw[lang].strip() for lang in LANGUAGES
    ):
        missing = [lang for lang in LANGUAGES if not isinstance(raw, dict) or not raw.get(lang)]
        detail = f" (missing: {', '.join(missing)})" if missing else ""
        problems.append(f"{where}: needs {what} in zh and en{detail}")
        return {}
    return {lang: str(raw[lang]) for lang in LANGUAGES}


def _answers(raw: dict[str, Any], kind: Any, where: str, problems: list[str]) -> tuple[Answer, ...]:
    listed = raw.get("answers", [])
    if not isinstance(listed, list):
        problems.append(f"{where}: answers must be a list")
        return ()
    if listed and kind in ELEMENT_TYPES and kind not in SELECT_TYPES:
        problems.append(f"{where}: answers only apply to single_select and multi_select elements")
    answers: list[Answer] = []
    for index, item in enumerate(listed):
        if not isinstance(item, dict) or "code" not in item:
            problems.append(f"{where} answers[{index}]: needs a code")
            continue
        if not isinstance(item["code"], str) or not item["code"]:
            # A code 1 would be stored as "1": the answer 1 refused, `grade == 1` never true.
            problems.append(
                f"{where} answers[{index}]: code {item['code']!r} must be text in quotes "
                f'(e.g. "{item["code"]}")'
            )
            continue
        code = str(item["code"])
        label = _labels(item.get("label"), f"{where} answer {code!r}", problems)
        if any(a.code == code for a in answers):
            problems.append(f"{where}: answer code {code!r} is listed twice")
        answers.append(Answer(str(item.get("system", "pathflow")), code, label))
    if kind in SELECT_TYPES and not answers:
        problems.append(f"{where}: a select element needs answers")
    return tuple(answers)


def _number_fields(
    raw: dict[str, Any], kind: Any, where: str, problems: list[str]
) -> tuple[float | None, float | None, int]:
    if kind != "number":
        given = [key for key in ("min", "max", "precision") if key in raw]
        if given and kind in ELEMENT_TYPES:  # an unknown type is reported once, by _element
            problems.append(f"{where}: {', '.join(given)} only apply to number elements")
        return None, None, 0
    bounds: list[float | None] = []
    for key in ("min", "max"):
        value = raw.get(key)
        if value is not None and (not is_number(value) or not _finite(value)):
            problems.append(f"{where}: {key} must be a number, not {_short(value)}")
            value = None
        bounds.append(value)
    minimum, maximum = bounds
    if minimum is not None and maximum is not None and minimum > maximum:
        problems.append(f"{where}: min {minimum} is greater than max {maximum}")
    precision = raw.get("precision", 0)
    if (
        isinstance(precision, bool)
        or not isinstance(precision, int)
        or not 0 <= precision <= MAX_PRECISION
    ):
        problems.append(
            f"{where}: precision (decimal places) must be 0 or more and at most {MAX_PRECISION}, "
            f"not {_short(precision)}"
        )
        precision = 0
    return minimum, maximum, precision


def _element(raw: dict[str, Any], where: str, problems: list[str]) -> Element:
    kind = raw.get("type")
    if kind not in ELEMENT_TYPES:
        problems.append(f"{where}: type {kind!r} is not one of {', '.join(ELEMENT_TYPES)}")
    label = _labels(raw.get("label"), where, problems)
    help_text = raw.get("help")
    if help_text is not None:
        help_text = _labels(help_text, where, problems, "help text") or None
    required = raw.get("required", False)
    if not isinstance(required, bool):
        problems.append(f"{where}: required must be true or false, not {required!r}")
    unit = raw.get("unit", "")
    if not isinstance(unit, str):
        problems.append(f"{where}: unit must be text, not {unit!r}")
    minimum, maximum, precision = _number_fields(raw, kind, where, problems)
    visible_if = raw.get("visible_if") or ""
    if not isinstance(visible_if, str):
        problems.append(f"{where}: visible_if must be an expression in text, not {visible_if!r}")
        visible_if = ""
    elif visible_if and (reason := check_expression(visible_if)):
        problems.append(f"{where}: visible_if {visible_if!r} does not compile: {reason}")
        visible_if = ""  # the order check below only looks at conditions that compile
    when_hidden = raw.get("when_hidden", "omit")
    if when_hidden not in WHEN_HIDDEN:
        problems.append(f"{where}: when_hidden {when_hidden!r} is not one of omit, not_applicable")
    elif when_hidden != "omit" and not raw.get("visible_if"):
        problems.append(f"{where}: when_hidden only applies to an element with visible_if")
    return Element(
        id=str(raw.get("id", "")),
        type=str(kind),
        label=label,
        required=required is True,
        answers=_answers(raw, kind, where, problems),
        unit=unit if isinstance(unit, str) else "",
        minimum=minimum,
        maximum=maximum,
        precision=precision,
        visible_if=visible_if,
        help=help_text,
        when_hidden=str(when_hidden),
    )


def _condition_problems(sections: list[Section], wheres: dict[str, str]) -> list[str]:
    """A condition may read only elements above it: this names unknown ids, self-reference and
    forward reads (which are what a cycle needs)."""
    ids = [e.id for s in sections for e in s.elements]
    problems = []
    for position, element in enumerate(e for s in sections for e in s.elements):
        if not element.visible_if:
            continue
        before = set(ids[:position])
        for name in sorted(referenced_variables(element.visible_if)):
            where = f"{wheres[element.id]}: visible_if {element.visible_if!r}"
            if name == element.id:
                problems.append(f"{where} reads the element itself")
            elif name not in ids:
                problems.append(f"{where} names {name!r}, which is not an element of this dataset")
            elif name not in before:
                problems.append(
                    f"{where} reads {name!r}, which comes after it; a condition may only read "
                    "elements above it (this also rules out cycles)"
                )
    return problems


def _section(
    raw_section: dict[str, Any],
    index: int,
    seen: set[str],
    wheres: dict[str, str],
    problems: list[str],
) -> Section:
    section_id = str(raw_section.get("id") or "")
    where = f"section {raw_section.get('id', index)!r}"
    if not section_id:
        problems.append(f"sections[{index}]: needs an id")
    raw_elements = raw_section.get("elements", [])
    if not isinstance(raw_elements, list) or not raw_elements:
        problems.append(f"{where}: needs a non-empty 'elements' list")
        raw_elements = []
    elements = []
    for e_index, raw in enumerate(raw_elements):
        if not isinstance(raw, dict):
            problems.append(f"{where} elements[{e_index}]: must be an object")
            continue
        element_where = f"{where} element {raw.get('id', e_index)!r}"
        element = _element(raw, element_where, problems)
        if element.id in seen or not element.id:
            problems.append(f"{where}: element id {element.id!r} is empty or repeated")
        elif not _IDENTIFIER.match(element.id):
            problems.append(
                f"{element_where}: an element id must be letters, digits and underscores, "
                "not starting with a digit, so that conditions can name it"
            )
        seen.add(element.id)
        wheres.setdefault(element.id, element_where)
        elements.append(element)
    title = _labels(raw_section.get("title"), where, problems, "a title")
    return Section(section_id, title, tuple(elements))


def parse_dataset(data: Any) -> Dataset:
    """Parse a dataset definition; raises DatasetInvalid listing every problem."""
    if not isinstance(data, dict) or not isinstance(data.get("sections"), list):
        raise DatasetInvalid(["the dataset needs a 'sections' list"])
    problems: list[str] = []
    version = data.get("schema_version", DATASET_SCHEMA_VERSION)
    if version != DATASET_SCHEMA_VERSION:
        problems.append(
            f"schema_version {version!r} is not supported; this Pathflow reads dataset "
            f"schema_version {DATASET_SCHEMA_VERSION}"
        )
    slug = data.get("slug", "")
    if slug and (not isinstance(slug, str) or not _SLUG.match(slug)):
        problems.append(f"slug {slug!r}: use letters, digits, hyphens and underscores only")
    sections: list[Section] = []
    seen: set[str] = set()
    wheres: dict[str, str] = {}
    for s_index, raw_section in enumerate(data["sections"]):
        if not isinstance(raw_section, dict):
            problems.append(f"sections[{s_index}]: must be an object")
            continue
        section = _section(raw_section, s_index, seen, wheres, problems)
        if section.id and any(s.id == section.id for s in sections):
            problems.append(f"section {section.id!r}: section id is repeated")
        sections.append(section)
    if not sections:
        problems.append("the dataset needs at least one section")
    title = _labels(data.get("title"), "title", problems)
    problems.extend(_condition_problems(sections, wheres))
    if problems:
        raise DatasetInvalid(problems)
    return Dataset(str(slug), title, tuple(sections))


def definition_problems(data: Any) -> list[str]:
    """Every problem of a dataset definition; empty when it parses."""
    try:
        parse_dataset(data)
    except DatasetInvalid as exc:
        return exc.problems
    return []


# --- filled data --------------------------------------------------------------------------------


def decimal_places(value: float) -> int:
    """Decimals a number is written with (18.0 has none, 3.50 one): the shortest repr."""
    try:
        exponent = Decimal(repr(value)).normalize().as_tuple().exponent
    except InvalidOperation:
        return 0
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _number_problem(element: Element, value: Any) -> str | None:
    if not is_number(value):
        return f"{value!r} is not a number"
    if not _finite(value):
        if isinstance(value, int):
            return f"{_short(value)} is too large a number"
        return f"{value!r} is not a finite number"
    amount = f"{value} {element.unit}".strip()
    if element.minimum is not None and value < element.minimum:
        return f"{amount} is below the minimum {element.minimum}"
    if element.maximum is not None and value > element.maximum:
        return f"{amount} is above the maximum {element.maximum}"
    if (places := decimal_places(value)) > element.precision:
        allowed = f"at most {element.precision}" if element.precision else "none"
        return f"{amount} has {places} decimal places; {allowed} allowed"
    return None


def _select_problem(element: Element, value: Any) -> str | None:
    if element.type == "single_select":
        if isinstance(value, list | dict):
            return f"needs one answer code, not {value!r}"
        return None if element.answer(value) else f"{value!r} is not one of the listed answers"
    if not isinstance(value, list) or not value:
        return "needs a non-empty list of answer codes"
    unknown = [v for v in value if element.answer(v) is None]
    if unknown:
        return f"{unknown!r} not among the listed answers"
    counts = Counter(value)  # answers are codes (text): hashable, checked above
    repeated = sorted({str(v) for v, n in counts.items() if n > 1})
    return f"{repeated!r} chosen more than once" if repeated else None


def _value_problem(element: Element, value: Any) -> str | None:
    kind = element.type
    if kind in SELECT_TYPES:
        return _select_problem(element, value)
    if kind == "number":
        return _number_problem(element, value)
    if kind == "boolean":
        return None if isinstance(value, bool) else f"{value!r} is not true or false"
    if kind == "date":
        if isinstance(value, str) and _ISO_DATE.match(value):
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                return f"{value!r} is not a real date"
            return None
        return f"{value!r} is not a date (YYYY-MM-DD)"
    return None if isinstance(value, str) and value.strip() else "needs text"


@dataclass(frozen=True)
class Assessment:
    """Filled data judged element by element: whether each applies (``None`` = undecided, its
    condition reads an invalid answer), each given answer's problem, and the valid answers."""

    applies: dict[str, bool | None]
    problems: dict[str, str]
    valid: dict[str, Any]


def _condition_holds(element: Element, valid: dict[str, Any], doubtful: set[str]) -> bool | None:
    if not element.visible_if:
        return True
    read = referenced_variables(element.visible_if)
    if read & doubtful:
        return None
    missing = read - valid.keys()
    if not missing:
        return _holds(element.visible_if, valid)
    # An answer not given, invalid or not applicable decides nothing: the condition holds only
    # if it holds whichever way every test of such an answer comes out (`a == 'x' or b == 'y'`
    # with `a` 'x' holds, `b != 'pos'` and `not b` do not; `b != 'pos'` used to hold).
    return all(
        _holds(element.visible_if, {**valid, **{name: unknown(name=name) for name in missing}})
        for unknown in (_Unknown, _UnknownTrue)
    )


class _Unknown(ChainableUndefined):
    """An answer a condition reads that it may not rely on: ``==``, ``!=``, ``in`` and truth
    tests all come out ``False`` (``_UnknownTrue``: all ``True``); ordering fails. Still an
    undefined value, so ``is defined`` is false and a bare unknown never makes a condition hold."""

    __slots__ = ()
    verdict = False

    def __eq__(self, other: object) -> bool:
        return self.verdict

    def __ne__(self, other: object) -> bool:
        return self.verdict

    def __bool__(self) -> bool:
        return self.verdict

    def __contains__(self, item: object) -> bool:
        return self.verdict

    __hash__ = ChainableUndefined.__hash__


class _UnknownTrue(_Unknown):
    __slots__ = ()
    verdict = True


def _holds(condition: str, variables: dict[str, Any]) -> bool:
    try:
        result = evaluate(condition, variables)
    except ExpressionError:
        return False  # e.g. an ordering comparison with an unknown answer: it does not apply
    return bool(result) and not is_undefined(result)


def assess(dataset: Dataset, values: dict[str, Any]) -> Assessment:
    """Judge every element in dataset order; conditions see only valid, applicable answers."""
    applies: dict[str, bool | None] = {}
    problems: dict[str, str] = {}
    valid: dict[str, Any] = {}
    doubtful: set[str] = set()  # given answers a condition must not rely on
    for element in dataset.elements():
        applies[element.id] = holds = _condition_holds(element, valid, doubtful)
        if holds is None:
            doubtful.add(element.id)  # undecided: what reads it is undecided too
        if element.id not in values:
            continue
        if reason := _value_problem(element, values[element.id]):
            problems[element.id] = reason
            doubtful.add(element.id)
        elif holds:
            valid[element.id] = values[element.id]
    return Assessment(applies, problems, valid)


def visibility(dataset: Dataset, values: dict[str, Any]) -> dict[str, bool]:
    """Which elements apply. A condition over answers not given yet (or not valid) does not."""
    return {k: v is True for k, v in assess(dataset, values).applies.items()}


def findings_problems(
    dataset: Dataset, values: dict[str, Any], *, complete: bool
) -> list[FieldProblem]:
    """Every problem with filled data; ``complete`` also requires every applicable required
    element (a report to be signed), otherwise missing answers are allowed (a draft)."""
    judged = assess(dataset, values)
    known = {e.id for e in dataset.elements()}
    problems = [
        FieldProblem(k, "is not an element of this template") for k in values if k not in known
    ]
    for element in dataset.elements():
        applies = judged.applies[element.id]
        if element.id not in values:
            if complete and element.required and applies is True:
                problems.append(FieldProblem(element.id, "is required"))
        elif applies is False:
            problems.append(
                FieldProblem(
                    element.id, f"does not apply here ({element.visible_if}) but is filled"
                )
            )
        elif reason := judged.problems.get(element.id):
            problems.append(FieldProblem(element.id, reason))
    return problems


# --- the synoptic view --------------------------------------------------------------------------

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
    if kind == "number" and is_number(value) and _finite(value):
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
