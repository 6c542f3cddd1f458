"""Deliver a rendered report to a destination from the catalog over a delivery channel.

The node does not send: it checks the destination, the report and the extra data, and asks the
host to queue a delivery in its outbox (``Services.queue_delivery``), which the host writes in
the same transaction as the node's checkpoint and a dispatcher sends later with retries, in
order per destination, exactly once. The channels (``workflows/channels/``) are the registry
the config's ``channel`` enum comes from. The delivery's idempotency key is ``<run>:<node>``.
A run the host withholds from delivery (a test run of a draft) checks everything and records
``status: "not sent"`` with the reason instead of queueing.
"""

from __future__ import annotations

import json
from typing import Any

from workflows.channels import CHANNELS
from workflows.context import DeliveryRequest, RunContext
from workflows.errors import NodeError
from workflows.expressions import evaluate
from workflows.ports import PortType
from workflows.protocols.base import has_missing_part
from workflows.registry import NodeType, Port, register


@register
class Deliver(NodeType):
    name = "deliver"
    title = "Deliver report"
    description = (
        "Queues the report for delivery to a destination registered in the catalog (webhook, "
        "HL7 v2 ORU^R01 over MLLP, FHIR R4); the outbox sends it with retries, in order, once."
    )
    config_schema = {
        "type": "object",
        "required": ["channel", "destination", "event"],
        "properties": {
            "channel": {
                "enum": sorted(CHANNELS),
                "title": "Channel",
                "description": "how the report is delivered",
            },
            "destination": {
                "type": "string",
                "minLength": 1,
                "title": "Destination",
                "description": "slug of a delivery destination in the department's catalog",
            },
            "event": {
                "type": "string",
                "pattern": "^[a-z][a-z0-9_.-]*$",
                "maxLength": 64,
                "title": "Event name",
                "description": "tells the receiver what happened, e.g. report.drafted",
            },
            "include_pdf": {
                "type": "boolean",
                "default": False,
                "title": "Attach the PDF",
                "description": "webhook: send the PDF as pdf_base64 in the body (HL7 and FHIR "
                "always carry it)",
            },
            "data": {
                "type": "object",
                "title": "Extra data",
                "description": "webhook: name → expression over case.* and nodes.<id>.*, sent "
                "as data",
                "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
                "additionalProperties": {"type": "string", "minLength": 1},
            },
        },
        "additionalProperties": False,
    }
    inputs = (Port("report", PortType.REPORT, required=True, title="Report"),)
    outputs = (Port("delivery", PortType.JSON, title="Delivery receipt"),)

    def expressions(self, config: dict[str, Any]) -> list[tuple[str, str]]:
        return [(f"data.{name}", source) for name, source in config.get("data", {}).items()]

    async def run(
        self, context: RunContext, inputs: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        channel = CHANNELS[config["channel"]]
        destination = context.services.resolve_destination(config["destination"])
        if destination.protocol != channel.name:
            raise NodeError(
                f"destination '{destination.slug}' is not a {channel.name} destination (its "
                f"catalog kind is {destination.protocol})",
                permanent=True,
            )
        report = inputs.get("report")
        if not isinstance(report, dict) or not {"report_id", "sha256"} <= report.keys():
            raise NodeError(
                "input 'report' is not a rendered report (connect a render node's report port)",
                permanent=True,
            )
        request = DeliveryRequest(
            node_id=context.node_id,
            channel=channel.name,
            destination=destination.slug,
            report_id=int(report["report_id"]),
            idempotency_key=f"{context.run_id}:{context.node_id}",
            event=config["event"],
            include_pdf=bool(config.get("include_pdf", False)),
            data=self._data(context, config.get("data", {})),
        )
        withheld = context.services.delivery_withheld()
        if withheld:
            receipt: dict[str, Any] = {"status": "not sent", "reason": withheld}
        else:
            receipt = await context.services.queue_delivery(request)
        return {
            "delivery": {
                "channel": channel.name,
                "destination": destination.slug,
                "event": request.event,
                "report_id": request.report_id,
                "idempotency_key": request.idempotency_key,
                **receipt,
            }
        }

    @staticmethod
    def _data(context: RunContext, mapping: dict[str, str]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        variables = context.variables()
        for name, source in mapping.items():
            value = evaluate(source, variables)
            if has_missing_part(value):
                raise NodeError(
                    f"data.{name}: {source!r} has no value for this case", permanent=True
                )
            data[name] = value
        # Jinja may hand back tuples; the receiver gets plain JSON.
        plain: dict[str, Any] = json.loads(json.dumps(data, default=str))
        return plain
