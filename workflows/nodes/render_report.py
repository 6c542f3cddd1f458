"""Render the run's report template version, filled with findings, as a draft PDF."""

from __future__ import annotations

from typing import Any

from workflows.context import RunContext
from workflows.errors import NodeError
from workflows.ports import PortType
from workflows.registry import NodeType, Port, register


@register
class RenderReport(NodeType):
    name = "render_report"
    title = "Render report"
    description = "Fills the pinned template version with the findings and renders a draft PDF."
    config_schema = {
        "type": "object",
        "required": ["language"],
        "properties": {"language": {"enum": ["zh", "en"]}},
        "additionalProperties": False,
    }
    inputs = (Port("findings", PortType.FINDINGS, required=True, multiple=True, title="Fields"),)
    outputs = (Port("report", PortType.REPORT, title="Report"),)

    async def run(
        self, context: RunContext, inputs: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        provenance: dict[str, Any] = {}
        for findings in inputs.get("findings", []):
            if not isinstance(findings, dict) or "values" not in findings:
                raise NodeError("input 'findings' is not a findings value", permanent=True)
            values.update(findings["values"])
            provenance.update(findings.get("provenance", {}))
        rendered = await context.services.render_report(values, provenance, config["language"])
        return {
            "report": {
                "report_id": rendered.report_id,
                "sha256": rendered.sha256,
                "pages": rendered.pages,
            }
        }
