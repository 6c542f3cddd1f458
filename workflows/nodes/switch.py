"""Branch many ways: the first case whose expression holds chooses the port that carries on.

Output ports depend on the config: one per case, named by the admin, plus ``default``. The class
attribute ``outputs`` lists only ``default``; ``output_ports(config)`` gives every port of a
configured node (validation and the editor ask it). Cases are tried in order and evaluation
stops at the first that holds, so a later case may read values only an earlier branch lacks;
a case evaluated without a value fails the node rather than silently falling through.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from workflows.context import RunContext
from workflows.errors import NodeError
from workflows.expressions import evaluate, is_undefined
from workflows.ports import PortType
from workflows.registry import NodeType, Port, register

DEFAULT_PORT = "default"
# Port names with a meaning of their own elsewhere (``error`` is the error-branch port).
RESERVED_PORTS = frozenset({DEFAULT_PORT, "error", "in"})


@register
class Switch(NodeType):
    name = "switch"
    side_effect_free = True
    title = "Switch"
    description = (
        "Tries each case's expression in order and continues on the port of the first that "
        "holds, or on `default` when none does."
    )
    config_schema = {
        "type": "object",
        "required": ["cases"],
        "properties": {
            "cases": {
                "type": "array",
                "minItems": 1,
                "maxItems": 32,
                "title": "Cases",
                "description": "tried in order; the first whose expression holds wins",
                "items": {
                    "type": "object",
                    "required": ["port", "expression"],
                    "properties": {
                        "port": {
                            "type": "string",
                            "pattern": "^[a-z][a-z0-9_]*$",
                            "maxLength": 40,
                            "title": "Port",
                            "description": "name of the output port, e.g. high",
                        },
                        "expression": {
                            "type": "string",
                            "minLength": 1,
                            "title": "When",
                            "description": "e.g. nodes.ihc.result.positive_fraction >= 0.2",
                        },
                        "title": {"type": "string", "title": "Label shown on the port"},
                    },
                    "additionalProperties": False,
                },
            },
            "default_title": {"type": "string", "title": "Label of the default port"},
        },
        "additionalProperties": False,
    }
    inputs = (Port("in", PortType.ANY, required=True, multiple=True, title="After"),)
    outputs = (Port(DEFAULT_PORT, PortType.BOOLEAN, title="Otherwise"),)

    def output_ports(self, config: dict[str, Any]) -> tuple[Port, ...]:
        """The ports of a node with this config: one per case, then ``default``."""
        cases = config.get("cases") if isinstance(config, dict) else None
        ports = [
            Port(case["port"], PortType.BOOLEAN, title=str(case.get("title") or case["port"]))
            for case in cases or []
            if isinstance(case, dict) and isinstance(case.get("port"), str)
        ]
        default_title = str(config.get("default_title") or "Otherwise") if config else "Otherwise"
        return (*ports, Port(DEFAULT_PORT, PortType.BOOLEAN, title=default_title))

    def config_problems(self, config: dict[str, Any]) -> list[str]:
        problems = super().config_problems(config)
        ports = [port.name for port in self.output_ports(config)[:-1]]
        problems += [
            f"cases: {count} cases use port '{port}'"
            for port, count in Counter(ports).items()
            if count > 1
        ]
        problems += [
            f"cases[{i}].port: '{port}' is reserved; choose another name"
            for i, port in enumerate(ports)
            if port in RESERVED_PORTS
        ]
        return problems

    def expressions(self, config: dict[str, Any]) -> list[tuple[str, str]]:
        return [
            (f"cases[{i}].expression", case["expression"]) for i, case in enumerate(config["cases"])
        ]

    async def run(
        self, context: RunContext, inputs: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        variables = context.variables()
        for case in config["cases"]:
            value = evaluate(case["expression"], variables)
            if is_undefined(value):
                raise NodeError(
                    f"case '{case['port']}': expression {case['expression']!r} has no value for "
                    "this case",
                    permanent=True,
                )
            if value:
                return {case["port"]: True}
        return {DEFAULT_PORT: True}
