"""Comparing what a workflow version gave for a case with what was signed for it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workflows.datasets import OVERRIDES, Dataset, with_derived
from workflows.expressions import is_number

# Two numbers closer than this are the same number (a float printed and read back).
EPSILON = 1e-9


@dataclass(frozen=True)
class Difference:
    element: str
    expected: Any
    got: Any
    tolerance: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "element": self.element,
            "expected": self.expected,
            "got": self.got,
            "tolerance": self.tolerance,
        }


@dataclass
class Comparison:
    compared: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.differences


def printed_values(dataset: Dataset, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values as a report prints them: derived elements filled, override reasons left out."""
    plain = {k: v for k, v in values.items() if k != OVERRIDES}
    return {k: v for k, v in with_derived(dataset, plain).items() if v not in (None, "", [])}


def same_value(expected: Any, got: Any, tolerance: float | None) -> bool:
    """Whether ``got`` agrees with ``expected``: numbers within ``tolerance`` (exactly when it
    is None), lists as sets of answers, anything else equal."""
    if is_number(expected) and is_number(got):
        return abs(float(expected) - float(got)) <= (tolerance or 0.0) + EPSILON
    if isinstance(expected, list) and isinstance(got, list):
        return sorted(map(_key, expected)) == sorted(map(_key, got))
    # Python's True == 1; a yes/no answer is not a number.
    return _key(expected) == _key(got)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def compare_values(
    dataset: Dataset,
    expected: Mapping[str, Any],
    got: Mapping[str, Any],
    *,
    fills: Iterable[str],
    tolerances: Mapping[str, float],
) -> Comparison:
    """Compare, element by element in the template's order, the elements the workflow fills
    (``fills``, or any it gave a value for): an element the pathologist alone fills is not the
    workflow's answer to judge. ``expected`` and ``got`` are printed values."""
    judged = set(fills) | set(got)
    comparison = Comparison()
    for element in dataset.elements():
        if element.id not in judged:
            continue
        comparison.compared.append(element.id)
        want, have = expected.get(element.id), got.get(element.id)
        tolerance = tolerances.get(element.id)
        if not same_value(want, have, tolerance):
            comparison.differences.append(Difference(element.id, want, have, tolerance))
    return comparison


def agreement_figures(
    results: Iterable[tuple[bool, list[str], list[str]]],
) -> tuple[int, dict[str, dict[str, int]]]:
    """From (agrees, compared elements, differing elements) per compared case: how many cases
    agree fully, and per element how many cases compared it and agreed."""
    agreeing = 0
    elements: dict[str, dict[str, int]] = {}
    for agrees, compared, differing in results:
        agreeing += agrees
        for element in compared:
            counts = elements.setdefault(element, {"compared": 0, "agreed": 0})
            counts["compared"] += 1
            counts["agreed"] += element not in differing
    return agreeing, elements
