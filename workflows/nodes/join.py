"""Fan-in: combine the values that reach the node over its edges.

Modes:
- ``list``: the values in edge order (only edges that carried a value: a skipped branch adds
  nothing).
- ``merge``: objects merged, later edges winning. When every input is a findings value
  (``{"values": ..., "provenance": ...}``, as a transform or review gives), values and their
  per-field provenance are merged together and the ``findings`` port is active, ready for a
  render node. Plain objects merge into ``result`` only; a mix of both fails the node.
- ``reduce``: ``mean|min|max|sum|count`` of ``expression`` (default ``item``) over the elements
  of the inputs, an input that is a list contributing its elements (e.g. a map node's
  ``results``). ``None`` elements (items a map skipped) are left out; an element for which the
  expression has no value fails the node, naming its index.
"""

from __future__ import annotations

import math
from typing import Any

from workflows.context import RunContext
from workflows.errors import NodeError
from workflows.expressions import evaluate, is_number, is_undefined
from workflows.ports import PortType
from workflows.registry import NodeType, Port, register

OPERATIONS = ("mean", "min", "max", "sum", "count")


def is_findings(value: Any) -> bool:
    """Whether ``value`` is a findings value: ``{"values": {...}, "provenance": {...}}``."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("values"), dict)
        and isinstance(value.get("provenance", {}), dict)
        and set(value) <= {"values", "provenance"}
    )


@register
class Join(NodeType):
    name = "join"
    side_effect_free = True
    title = "Join"
    description = (
        "Combines what reaches it over several edges: a list, merged fields (keeping where each "
        "came from), or the mean/min/max/sum/count of a value over a list."
    )
    config_schema = {
        "type": "object",
        "required": ["mode"],
        "properties": {
            "mode": {
                "enum": ["list", "merge", "reduce"],
                "title": "Combine as",
                "description": "list: values in edge order; merge: objects or findings merged "
                "(later edges win); reduce: one number over a list",
            },
            "operation": {
                "enum": list(OPERATIONS),
                "title": "Reduce with",
                "description": "only for mode reduce",
            },
            "expression": {
                "type": "string",
                "minLength": 1,
                "title": "Value of each element",
                "description": "only for mode reduce; reads item and index, e.g. "
                "item.positive_fraction (default: the element itself)",
            },
        },
        "allOf": [
            {
                "if": {"properties": {"mode": {"const": "reduce"}}},
                "then": {"required": ["operation"]},
                "else": {
                    "not": {"anyOf": [{"required": ["operation"]}, {"required": ["expression"]}]}
                },
            }
        ],
        "additionalProperties": False,
    }
    inputs = (Port("in", PortType.ANY, required=True, multiple=True, title="Values"),)
    outputs = (
        Port("result", PortType.ANY, title="Combined"),
        Port("findings", PortType.FINDINGS, title="Report fields (merged findings)"),
    )

    def config_problems(self, config: dict[str, Any]) -> list[str]:
        problems = super().config_problems(config)
        # The schema's `else` branch gives an unreadable message; say it plainly.
        return [
            "config: operation and expression are only for mode reduce"
            if "should not be valid under" in problem
            else problem
            for problem in problems
        ]

    def expressions(self, config: dict[str, Any]) -> list[tuple[str, str]]:
        return [("expression", config["expression"])] if "expression" in config else []

    async def run(
        self, context: RunContext, inputs: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        values = list(inputs.get("in", []))
        if config["mode"] == "list":
            return {"result": values}
        if config["mode"] == "merge":
            return self._merge(values)
        return {"result": self._reduce(context, config, values)}

    @staticmethod
    def _merge(values: list[Any]) -> dict[str, Any]:
        findings = [is_findings(v) for v in values]
        if values and all(findings):
            merged: dict[str, Any] = {}
            provenance: dict[str, Any] = {}
            for value in values:
                merged.update(value["values"])
                for key in value["values"]:
                    # A later value without provenance for a field must not keep the earlier
                    # source: the value came from somewhere else.
                    provenance.pop(key, None)
                provenance.update(value.get("provenance", {}))
            return {"result": merged, "findings": {"values": merged, "provenance": provenance}}
        if any(findings):
            first = findings.index(False) if findings[0] else findings.index(True)
            raise NodeError(
                f"merge: input {first + 1} is {'not ' if findings[0] else ''}a findings value "
                f"while input 1 is{'' if findings[0] else ' not'}; merge findings with findings "
                "and objects with objects",
                permanent=True,
            )
        result: dict[str, Any] = {}
        for position, value in enumerate(values, start=1):
            if not isinstance(value, dict):
                raise NodeError(
                    f"merge: input {position} is a {type(value).__name__}, not an object",
                    permanent=True,
                )
            result.update(value)
        return {"result": result}

    @staticmethod
    def _reduce(context: RunContext, config: dict[str, Any], values: list[Any]) -> float | int:
        elements = [e for v in values for e in (v if isinstance(v, list | tuple) else [v])]
        source = config.get("expression", "item")
        numbers: list[float] = []
        for index, element in enumerate(elements):
            if element is None:
                continue
            value = evaluate(source, {**context.variables(), "item": element, "index": index})
            if is_undefined(value) or value is None:
                raise NodeError(
                    f"reduce: {source!r} has no value for element {index}", permanent=True
                )
            if config["operation"] != "count" and not is_number(value):
                raise NodeError(
                    f"reduce: {source!r} is {value!r} for element {index}, not a number",
                    permanent=True,
                )
            numbers.append(value)
        operation = config["operation"]
        if operation == "count":
            return len(numbers)
        if operation == "sum":
            return sum(numbers) if all(isinstance(n, int) for n in numbers) else math.fsum(numbers)
        if not numbers:
            raise NodeError(
                f"reduce: there are no values to take the {operation} of", permanent=True
            )
        if operation == "mean":
            return math.fsum(numbers) / len(numbers)
        return min(numbers) if operation == "min" else max(numbers)
