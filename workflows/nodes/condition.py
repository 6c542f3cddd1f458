"""Branch on an expression: only the edges leaving the chosen port carry on."""

from __future__ import annotations

from typing import Any

from workflows.context import RunContext
from workflows.errors import NodeError
from workflows.expressions import evaluate, is_undefined
from workflows.ports import PortType
from workflows.registry import NodeType, Port, register


@register
class Condition(NodeType):
    name = "condition"
    side_effect_free = True
    title = "Condition"
    description = "Evaluates an expression; continues on `true` or on `false`."
    config_schema = {
        "type": "object",
        "required": ["expression"],
        "properties": {
            "expression": {
                "type": "string",
                "minLength": 1,
                "title": "When",
                "description": "continue on Yes when this holds, e.g. "
                "nodes.fna.result.predict_proba[0][1] >= 0.5; a missing value fails the node",
            }
        },
        "additionalProperties": False,
    }
    inputs = (Port("in", PortType.ANY, required=True, multiple=True, title="After"),)
    outputs = (
        Port("true", PortType.BOOLEAN, title="Yes"),
        Port("false", PortType.BOOLEAN, title="No"),
    )

    def expressions(self, config: dict[str, Any]) -> list[tuple[str, str]]:
        return [("expression", config["expression"])]

    async def run(
        self, context: RunContext, inputs: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        value = evaluate(config["expression"], context.variables())
        if is_undefined(value):
            # A condition on a missing value must not silently choose a branch.
            raise NodeError(
                f"expression {config['expression']!r} has no value for this case", permanent=True
            )
        return {"true": True} if value else {"false": False}
