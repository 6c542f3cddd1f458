"""Every problem of filled data at once: each element's answer, then each violated rule."""

from __future__ import annotations

from typing import Any

from workflows.datasets.findings import assess
from workflows.datasets.model import OVERRIDES, Dataset, FieldProblem
from workflows.datasets.rules import override_problems, rule_problems, with_derived


def findings_problems(
    dataset: Dataset, values: dict[str, Any], *, complete: bool
) -> list[FieldProblem]:
    """Every problem with filled data; ``complete`` also requires every applicable required
    element (a report to be signed) and every element a ``requires`` rule asks for, otherwise
    missing answers are allowed (a draft). Empty derived elements count as filled with their
    computed value; violated rules come after the element problems, in rule order."""
    filled = with_derived(dataset, values)
    judged = assess(dataset, filled)
    known = {e.id for e in dataset.elements()}
    problems = [
        FieldProblem(k, "is not an element of this template")
        for k in values
        if k not in known and k != OVERRIDES
    ]
    for element in dataset.elements():
        applies = judged.applies[element.id]
        if element.id not in filled:
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
    problems.extend(override_problems(dataset, values))
    problems.extend(rule_problems(dataset, filled, judged, complete=complete))
    return problems
