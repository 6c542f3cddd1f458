"""The message a delivery sends, built by its channel's ``message_format`` at the first attempt
(and stored, so that every later attempt sends the same bytes):

- ``webhook_json``: ``{"event", "run", "report": {"id", "version", "sha256", "pages",
  "status"}, "data"?, "pdf_base64"?}``
- ``hl7v2_oru_r01``: the ORU^R01 of ``hl7/oru.py``
- ``fhir_r4_bundle``: the transaction Bundle of ``fhir/resources.py``, validated first

Every format checks that the stored PDF still has the SHA-256 it was rendered with: a report
whose file changed is never sent (the delivery stops, naming the report)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from pypdf import PdfReader

from orchestrator.integrations.fhir.resources import FhirInvalid, checked, transaction_bundle
from orchestrator.integrations.hl7.oru import build_oru
from orchestrator.integrations.outbox_models import Delivery
from workflows.channels import CHANNELS


class MessageRefused(Exception):
    """The delivery's message cannot be built; sending it again cannot help."""


@dataclass(frozen=True)
class BuiltMessage:
    text: str
    content_type: str


def stored_pdf(delivery: Delivery) -> bytes:
    report = delivery.report
    if not report.pdf:
        raise MessageRefused(f"report {report.pk} has no PDF")
    with report.pdf.open("rb") as stored:
        pdf: bytes = stored.read()
    if hashlib.sha256(pdf).hexdigest() != report.pdf_sha256:
        raise MessageRefused(
            f"the stored PDF of report {report.pk} does not match the SHA-256 it was rendered "
            "with; it was not sent"
        )
    return pdf


def _webhook(delivery: Delivery, pdf: bytes, at: dt.datetime) -> BuiltMessage:
    report = delivery.report
    body: dict[str, object] = {
        "event": delivery.event,
        "run": str(delivery.run_id or report.run_id or ""),
        "report": {
            "id": report.pk,
            "version": report.version_no,
            "sha256": report.pdf_sha256,
            "pages": len(PdfReader(io.BytesIO(pdf)).pages),
            "status": report.status,
        },
    }
    if delivery.data:
        body["data"] = delivery.data
    if delivery.include_pdf:
        body["pdf_base64"] = base64.b64encode(pdf).decode("ascii")
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return BuiltMessage(text, "application/json")


def _oru(delivery: Delivery, pdf: bytes, at: dt.datetime) -> BuiltMessage:
    text = build_oru(
        delivery.report,
        pdf,
        control_id=delivery.control_id,
        at=at,
        sending_application=settings.HL7_SENDING_APPLICATION,
        receiving_application=delivery.destination.model_name,
    )
    return BuiltMessage(text, "application/hl7-v2; charset=utf-8")


def _fhir(delivery: Delivery, pdf: bytes, at: dt.datetime) -> BuiltMessage:
    try:
        bundle = checked(transaction_bundle(delivery.report, pdf, delivery.idempotency_key))
    except FhirInvalid as exc:
        raise MessageRefused(f"the FHIR resources are not valid: {exc}") from None
    return BuiltMessage(json.dumps(bundle, ensure_ascii=False), "application/fhir+json")


BUILDERS: dict[str, Callable[[Delivery, bytes, dt.datetime], BuiltMessage]] = {
    "webhook_json": _webhook,
    "hl7v2_oru_r01": _oru,
    "fhir_r4_bundle": _fhir,
}


def build_message(delivery: Delivery, at: dt.datetime) -> BuiltMessage:
    """The message for ``delivery`` (its report, case, department, template version and signer
    loaded); raises MessageRefused naming what is wrong."""
    channel = CHANNELS.get(delivery.channel)
    if channel is None:
        raise MessageRefused(f"channel {delivery.channel!r} is not installed")
    builder = BUILDERS.get(channel.message_format)
    if builder is None:
        raise MessageRefused(f"no message builder for format {channel.message_format!r}")
    return builder(delivery, stored_pdf(delivery), at)
