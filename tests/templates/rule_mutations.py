"""Mutations of a sample case that should break one cross-field rule, one generator per kind.

Each generator yields candidate value sets (small, readable changes to the sample); the test
keeps the first one that the dataset refuses naming the rule. A rule for which none is found is
a failure: either the rule can never be violated (a mistake in the rule) or the sample does not
reach it (e.g. the condition of a ``requires`` rule never holds for it).
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

from workflows.datasets import OVERRIDES, Dataset, Element, Rule, findings_problems
from workflows.datasets.model import FieldProblem
from workflows.expressions import referenced_variables

MAX_CANDIDATES = 20_000


def _numbers(element: Element, value: Any) -> list[Any]:
    base = value if isinstance(value, int | float) and not isinstance(value, bool) else 0
    step = 10**-element.precision if element.precision else 1
    found = [base + step, base - step, base + 1, base - 1, base * 2, base + 10, base + 100, 0]
    found += [b for b in (element.minimum, element.maximum) if b is not None]
    if element.maximum is not None:
        found.append(element.maximum - step)
    if element.minimum is not None:
        found.append(element.minimum + step)
    rounded = [round(n, element.precision) if element.precision else round(n) for n in found]
    return [n for n in dict.fromkeys(rounded) if n != value]


def alternatives(element: Element, value: Any) -> list[Any]:
    """Other answers an element could be given (valid ones first), the sample's own excluded."""
    if element.type == "single_select":
        return [a.code for a in element.answers if a.code != value]
    if element.type == "multi_select":
        codes = [a.code for a in element.answers]
        chosen = value if isinstance(value, list) else []
        singles = [[c] for c in codes if [c] != chosen]
        added = [[*chosen, c] for c in codes if c not in chosen]
        return singles + added
    if element.type == "number":
        return _numbers(element, value)
    if element.type == "boolean":
        return [not value] if isinstance(value, bool) else [True, False]
    if element.type == "date" and isinstance(value, str):
        day = dt.date.fromisoformat(value)
        return [(day + dt.timedelta(days=d)).isoformat() for d in (1, -1, 365, -365)]
    return [f"{value} (changed)"] if isinstance(value, str) else ["changed"]


def _changes(
    dataset: Dataset, sample: dict[str, Any], ids: tuple[str, ...]
) -> Iterator[dict[str, Any]]:
    """One element changed, then two together (an absent one is given each of its answers)."""
    options = {
        i: alternatives(e, sample.get(i)) for i in ids if (e := dataset.element(i)) is not None
    }
    for element_id, values in options.items():
        for value in values:
            yield {**sample, element_id: value}
    for (a, a_values), (b, b_values) in itertools.combinations(options.items(), 2):
        for va, vb in itertools.product(a_values, b_values):
            yield {**sample, a: va, b: vb}


def _enablers(dataset: Dataset, ids: tuple[str, ...]) -> tuple[str, ...]:
    """The elements the conditions of ``ids`` read, and those theirs read, nearest first."""
    found: list[str] = []
    queue = list(ids)
    while queue:
        element = dataset.element(queue.pop(0))
        condition = element.visible_if if element else ""
        for name in sorted(referenced_variables(condition)) if condition else ():
            if name not in ids and name not in found:
                found.append(name)
                queue.append(name)
    return tuple(found)


def _filled(
    dataset: Dataset, state: dict[str, Any], ids: tuple[str, ...], limit: int = 400
) -> Iterator[dict[str, Any]]:
    """``state`` with ``ids`` given each combination of their answers (the current one first)."""
    options = []
    for element_id in ids:
        element = dataset.element(element_id)
        current = [state[element_id]] if element_id in state else []
        options.append(current + (alternatives(element, state.get(element_id)) if element else []))
    for combo in itertools.islice(itertools.product(*options), limit):
        yield {**state, **dict(zip(ids, combo, strict=True))}


def _reachable(
    dataset: Dataset, sample: dict[str, Any], ids: tuple[str, ...], enable: tuple[str, ...] = ()
) -> Iterator[dict[str, Any]]:
    """States where ``ids`` vary: small changes to the sample first, then, for elements the
    sample leaves out because they do not apply (a TURBT has no node counts), the elements
    their conditions read changed so that they do, with ``ids`` filled in."""
    yield from _changes(dataset, sample, ids)
    for state in _changes(dataset, sample, _enablers(dataset, (*ids, *enable))):
        yield from _filled(dataset, state, ids)


def _constraint(dataset: Dataset, rule: Rule, sample: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from _reachable(dataset, sample, rule.elements)


def _derived(dataset: Dataset, rule: Rule, sample: dict[str, Any]) -> Iterator[dict[str, Any]]:
    base = {k: v for k, v in sample.items() if k != OVERRIDES}
    element = dataset.element(rule.element)
    if element is None:
        return
    states = itertools.chain([base], _reachable(dataset, base, rule.elements, (rule.element,)))
    for state in states:
        for value in alternatives(element, state.get(rule.element)):
            yield {**state, rule.element: value}


def _exclusive(dataset: Dataset, rule: Rule, sample: dict[str, Any]) -> Iterator[dict[str, Any]]:
    element = dataset.element(rule.element)
    if element is None:
        return
    codes = [a.code for a in element.answers]
    enabled = _changes(dataset, sample, _enablers(dataset, (rule.element,)))
    for state in itertools.chain([sample], enabled):
        chosen = state.get(rule.element)
        chosen = chosen if isinstance(chosen, list) else []
        for alone in rule.answers:
            if alone in chosen:
                for other in (c for c in codes if c not in chosen):
                    yield {**state, rule.element: [*chosen, other]}
            for other in (c for c in codes if c != alone):
                yield {**state, rule.element: [alone, other]}


def _requires(dataset: Dataset, rule: Rule, sample: dict[str, Any]) -> Iterator[dict[str, Any]]:
    def cleared(values: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for element_id in rule.elements:
            if element_id in values:
                yield {k: v for k, v in values.items() if k != element_id}
        yield {k: v for k, v in values.items() if k not in rule.elements}

    yield from cleared(sample)
    # The sample may not meet the condition: change what it reads, then clear.
    read = tuple(sorted(referenced_variables(rule.when)))
    for changed in _reachable(dataset, sample, read):
        yield from cleared(changed)


GENERATORS = {
    "constraint": _constraint,
    "derived": _derived,
    "exclusive": _exclusive,
    "requires": _requires,
}


def rule_problems(dataset: Dataset, values: dict[str, Any], rule: Rule) -> list[FieldProblem]:
    return [p for p in findings_problems(dataset, values, complete=True) if p.rule_id == rule.id]


def violating_mutation(
    dataset: Dataset, rule: Rule, sample: dict[str, Any]
) -> tuple[dict[str, Any], FieldProblem] | None:
    """The first mutation of ``sample`` refused for ``rule``, with the problem naming it."""
    candidates = GENERATORS[rule.kind](dataset, rule, copy.deepcopy(sample))
    for values in itertools.islice(candidates, MAX_CANDIDATES):
        if found := rule_problems(dataset, values, rule):
            return values, found[0]
    return None
