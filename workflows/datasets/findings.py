"""Filled data judged against a dataset: what applies, each answer's problem, every problem."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from workflows.datasets.conditions import condition_holds
from workflows.datasets.model import (
    _ISO_DATE,
    SELECT_TYPES,
    Dataset,
    Element,
    finite,
    short,
)
from workflows.expressions import is_number


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


def value_problem(element: Element, value: Any) -> str | None:
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


def assess(dataset: Dataset, values: dict[str, Any]) -> Assessment:
    """Judge every element in dataset order; conditions see only valid, applicable answers."""
    applies: dict[str, bool | None] = {}
    problems: dict[str, str] = {}
    valid: dict[str, Any] = {}
    doubtful: set[str] = set()  # given answers a condition must not rely on
    for element in dataset.elements():
        applies[element.id] = holds = condition_holds(element.visible_if, valid, doubtful)
        if holds is None:
            doubtful.add(element.id)  # undecided: what reads it is undecided too
        if element.id not in values:
            continue
        if reason := value_problem(element, values[element.id]):
            problems[element.id] = reason
            doubtful.add(element.id)
        elif holds:
            valid[element.id] = values[element.id]
    return Assessment(applies, problems, valid)


def visibility(dataset: Dataset, values: dict[str, Any]) -> dict[str, bool]:
    """Which elements apply. A condition over answers not given yet (or not valid) does not."""
    return {k: v is True for k, v in assess(dataset, values).applies.items()}


@dataclass(frozen=True)
class Dropped:
    """A model's value left out of a report because its element does not apply to the case."""

    element_id: str
    value: Any
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"element_id": self.element_id, "value": self.value, "reason": self.reason}


def _from_models_only(sources: Any) -> bool:
    return (
        isinstance(sources, list)
        and bool(sources)
        and all(isinstance(s, dict) and s.get("kind") == "model" for s in sources)
    )


def drop_inapplicable_model_values(
    dataset: Dataset, values: dict[str, Any], provenance: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], list[Dropped]]:
    """Leave out the values a model gave for elements that do not apply to this case.

    A workflow whose model fills a conditional element (an AI PD-L1 score where PD-L1 was not
    tested) must not fail the case, and the value must never print: it is dropped with the
    reason, and its provenance becomes ``[{"kind": "dropped", "value", "reason", "sources"}]``
    so the report keeps what was left out and why. A value is a model's when its element is
    model-sourced or every recorded source of the value is a model; anything else a person or
    the lab entered where it does not apply stays a problem for them to fix.
    Returns the kept values, the provenance and what was dropped."""
    applies = assess(dataset, values).applies
    dropped: list[Dropped] = []
    for element in dataset.elements():
        if element.id not in values or applies[element.id] is not False:
            continue
        if element.model_sourced or _from_models_only(provenance.get(element.id)):
            reason = f"does not apply here ({element.visible_if})"
            dropped.append(Dropped(element.id, values[element.id], reason))
    if not dropped:
        return values, provenance, []
    gone = {d.element_id: d for d in dropped}
    kept = {k: v for k, v in values.items() if k not in gone}
    marked = dict(provenance)
    for element_id, item in gone.items():
        marked[element_id] = [
            {
                "kind": "dropped",
                "value": item.value,
                "reason": item.reason,
                "sources": provenance.get(element_id, []),
            }
        ]
    return kept, marked, dropped


def dropped_values(provenance: dict[str, Any]) -> list[Dropped]:
    """What ``drop_inapplicable_model_values`` left out of a report, read back from its
    provenance."""
    found = []
    for element_id, sources in provenance.items():
        first = sources[0] if isinstance(sources, list) and sources else None
        if isinstance(first, dict) and first.get("kind") == "dropped":
            found.append(Dropped(element_id, first.get("value"), str(first.get("reason", ""))))
    return found
