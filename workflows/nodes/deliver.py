"""Deliver a rendered report to a destination from the catalog over a delivery channel.

One small class per channel, found through ``CHANNELS`` (the config's ``channel`` enum is built
from it, so HL7 and FHIR channels are a new class each). The webhook channel POSTs

    {"event", "run", "report": {"id", "sha256", "pages", "status"}, "data"?, "pdf_base64"?}

as JSON to the destination's catalog URL with ``Idempotency-Key: <run>:<node>`` (a receiver
drops a delivery repeated after a worker crash) and, when the destination has a secret, the
header ``X-Pathflow-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>``. No redirects,
the destination's timeout, a small answer cap; any answer but 2xx fails the node naming the
destination. A run the host withholds from delivery (a test run of a draft) checks and
builds everything and records ``status: "not sent"`` with the reason instead of sending.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from abc import ABC, abstractmethod
from typing import Any, ClassVar, TypeVar

import httpx

from workflows.context import Endpoint, RunContext
from workflows.errors import EndpointError, NodeError
from workflows.expressions import evaluate
from workflows.http import post
from workflows.ports import PortType
from workflows.protocols.base import has_missing_part
from workflows.registry import NodeType, Port, register

SIGNATURE_HEADER = "X-Pathflow-Signature"
EVENT_HEADER = "X-Pathflow-Event"
# A receiver acknowledges; it has no reason to send more than this back.
MAX_ACK_BYTES = 64 * 1024


class DeliveryChannel(ABC):
    name: ClassVar[str]
    # The catalog protocol a destination must have to be used on this channel.
    destination_protocol: ClassVar[str]

    @abstractmethod
    async def deliver(
        self, context: RunContext, destination: Endpoint, message: dict[str, Any], key: str
    ) -> dict[str, Any]:
        """Send ``message``; return what to record about the delivery. Raise EndpointError
        naming the destination when it is not accepted."""


C = TypeVar("C", bound=type[DeliveryChannel])
CHANNELS: dict[str, DeliveryChannel] = {}


def register_channel(channel: C) -> C:
    CHANNELS[channel.name] = channel()
    return channel


def sign(key: bytes, body: bytes) -> str:
    """The signature header value a receiver recomputes over the raw body to check it."""
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


@register_channel
class WebhookChannel(DeliveryChannel):
    name = "webhook"
    destination_protocol = "webhook"

    async def deliver(
        self, context: RunContext, destination: Endpoint, message: dict[str, Any], key: str
    ) -> dict[str, Any]:
        body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            **destination.headers,
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            EVENT_HEADER: str(message["event"]),
        }
        secret = context.services.signing_key(destination.slug)
        if secret:
            headers[SIGNATURE_HEADER] = sign(secret, body)
        status = await _post(context.http, destination, body, headers)
        return {"status": status, "signed": bool(secret)}


async def _post(
    client: httpx.AsyncClient, destination: Endpoint, body: bytes, headers: dict[str, str]
) -> int:
    where = f"destination '{destination.slug}' ({destination.base_url})"
    # Only the first bytes of an answer are shown in an error; the rest is not needed.
    response, answer = await post(
        client,
        destination.base_url,
        body,
        headers,
        where=where,
        timeout_s=destination.timeout_s,
        cap=min(destination.max_response_bytes, MAX_ACK_BYTES),
        truncate=True,
    )
    if not 200 <= response.status_code < 300:
        detail = answer[:300].decode("utf-8", "replace")
        raise EndpointError(
            f"{where}: did not accept the delivery: HTTP {response.status_code}: {detail}",
            permanent=400 <= response.status_code < 500 and response.status_code not in {408, 429},
        )
    return response.status_code


@register
class Deliver(NodeType):
    name = "deliver"
    title = "Deliver report"
    description = (
        "Sends the rendered report to a destination registered in the catalog (a webhook now; "
        "HL7 and FHIR channels later)."
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
                "description": "send the PDF as pdf_base64 in the body",
            },
            "data": {
                "type": "object",
                "title": "Extra data",
                "description": "name → expression over case.* and nodes.<id>.*, sent as data",
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
        if destination.protocol != channel.destination_protocol:
            raise NodeError(
                f"destination '{destination.slug}' is not a {channel.destination_protocol} "
                f"destination (its catalog protocol is {destination.protocol})",
                permanent=True,
            )
        message = await self._message(context, inputs.get("report"), config)
        key = f"{context.run_id}:{context.node_id}"
        withheld = context.services.delivery_withheld()
        if withheld:
            receipt: dict[str, Any] = {"status": "not sent", "reason": withheld}
        else:
            receipt = await channel.deliver(context, destination, message, key)
        return {
            "delivery": {
                "channel": channel.name,
                "destination": destination.slug,
                "event": config["event"],
                "report_id": message["report"]["id"],
                "idempotency_key": key,
                **receipt,
            }
        }

    async def _message(
        self, context: RunContext, report: Any, config: dict[str, Any]
    ) -> dict[str, Any]:
        if not isinstance(report, dict) or not {"report_id", "sha256"} <= report.keys():
            raise NodeError(
                "input 'report' is not a rendered report (connect a render node's report port)",
                permanent=True,
            )
        message: dict[str, Any] = {
            "event": config["event"],
            "run": context.run_id,
            "report": {
                "id": report["report_id"],
                "sha256": report["sha256"],
                "pages": report.get("pages"),
                "status": report.get("status", "draft"),
            },
        }
        if config.get("data"):
            message["data"] = self._data(context, config["data"])
        if config.get("include_pdf"):
            pdf = await context.services.load_report_pdf(report["report_id"])
            if hashlib.sha256(pdf).hexdigest() != report["sha256"]:
                raise NodeError(
                    f"the stored PDF of report {report['report_id']} does not match the SHA-256 "
                    "it was rendered with; it was not sent",
                    permanent=True,
                )
            message["pdf_base64"] = base64.b64encode(pdf).decode("ascii")
        return message

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
