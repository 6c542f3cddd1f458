"""Filled data judged against a dataset: what applies, each answer's problem, every problem."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from jinja2 import ChainableUndefined

from workflows.datasets.model import (
    _ISO_DATE,
    SELECT_TYPES,
    Dataset,
    Element,
    FieldProblem,
    finite,
    short,
)
from workflows.errors import ExpressionError
from workflows.expressions import evaluate, is_number, is_undefined, referenced_variables


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
    if not finite(value):
        if isinstance(value, int):
            return f"{short(value)} is too large a number"
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
