"""Render the run's report template version, filled with findings, as a draft PDF.

A model's value for an element that does not apply to the case is dropped by the host, never
printed; the node's ``report`` output then lists it under ``dropped`` and ``warnings``.

Optional ``figures`` print slide tiles the case references (e.g. the tile a Ki-67 model
analysed) with a caption. A figure whose tile expression has no value for a case (a specimen
without tiles) is left out: it illustrates the report, it is not one of its findings.
"""

from __future__ import annotations

from typing import Any

from workflows.context import RenderedReport, ReportFigure, RunContext
from workflows.errors import NodeError
from workflows.expressions import evaluate, is_undefined
from workflows.ports import PortType
from workflows.registry import NodeType, Port, register

MAX_FIGURES = 4


def report_outputs(rendered: RenderedReport) -> dict[str, Any]:
    """The node's outputs for a rendered report; also what the host stores as the node's
    outputs when the render ran on a render queue (the node parked its run meanwhile)."""
    report: dict[str, Any] = {
        "report_id": rendered.report_id,
        "sha256": rendered.sha256,
        "pages": rendered.pages,
    }
    if rendered.dropped:
        # Shown in the run: a model filled an element that does not apply to this case.
        report["dropped"] = [dict(d) for d in rendered.dropped]
        report["warnings"] = [
            f"{d['element_id']}: the model's value {d['value']!r} was dropped, not printed: "
            f"it {d['reason']}"
            for d in rendered.dropped
        ]
    return {"report": report}


@register
class RenderReport(NodeType):
    name = "render_report"
    title = "Render report"
    description = "Fills the pinned template version with the findings and renders a draft PDF."
    config_schema = {
        "type": "object",
        "required": ["language"],
        "properties": {
            "language": {"enum": ["zh", "en"], "title": "Report language"},
            "figures": {
                "type": "array",
                "maxItems": MAX_FIGURES,
                "title": "Figures",
                "description": "slide tiles printed in the report, each with a caption",
                "items": {
                    "type": "object",
                    "required": ["tile"],
                    "properties": {
                        "tile": {
                            "type": "string",
                            "minLength": 1,
                            "title": "Tile",
                            "description": "expression for a tile reference, e.g. "
                            "case.specimens[0].tiles[0]",
                        },
                        "caption": {"type": "string", "maxLength": 200, "title": "Caption"},
                    },
                    "additionalProperties": False,
                },
            },
        },
        "additionalProperties": False,
    }
    inputs = (Port("findings", PortType.FINDINGS, required=True, multiple=True, title="Fields"),)
    outputs = (Port("report", PortType.REPORT, title="Report"),)

    def expressions(self, config: dict[str, Any]) -> list[tuple[str, str]]:
        return [(f"figures[{i}].tile", f["tile"]) for i, f in enumerate(config.get("figures", []))]

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
        rendered = await context.services.render_report(
            values, provenance, config["language"], self._figures(context, config)
        )
        return report_outputs(rendered)

    @staticmethod
    def _figures(context: RunContext, config: dict[str, Any]) -> list[ReportFigure]:
        figures = []
        for index, figure in enumerate(config.get("figures", [])):
            reference = evaluate(figure["tile"], context.variables())
            if is_undefined(reference) or reference is None:
                continue
            if not isinstance(reference, dict):
                raise NodeError(
                    f"figures[{index}]: {figure['tile']!r} is not a tile reference",
                    permanent=True,
                )
            figures.append(ReportFigure(dict(reference), figure.get("caption", "")))
        return figures
