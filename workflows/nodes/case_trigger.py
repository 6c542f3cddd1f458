"""The entry node: hands the case to the graph."""

from __future__ import annotations

from typing import Any

from workflows.context import RunContext
from workflows.errors import NodeError
from workflows.ports import PortType
from workflows.registry import NodeType, Port, register


@register
class CaseTrigger(NodeType):
    name = "case_trigger"
    side_effect_free = True
    title = "Case arrives"
    description = "Starts the workflow for a case of the configured types."
    is_trigger = True
    config_schema = {
        "type": "object",
        "properties": {"case_types": {"type": "array", "items": {"type": "string"}}},
        "additionalProperties": False,
    }
    outputs = (Port("case", PortType.CASE, title="Case"),)

    async def run(
        self, context: RunContext, inputs: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        allowed = config.get("case_types")
        case_type = context.case.get("case_type")
        if allowed and case_type not in allowed:
            raise NodeError(
                f"case type '{case_type}' is not one this workflow accepts ({', '.join(allowed)})",
                permanent=True,
            )
        return {"case": context.case}
