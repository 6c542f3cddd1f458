"""FHIR REST: the host's FHIR R4 transaction Bundle POSTed to the server's base URL.

The Bundle's entries are PUTs to ids the host derives from the report version, so sending it
again updates the same resources instead of creating copies; ``Idempotency-Key`` and the
Bundle's identifier carry the delivery's key as well."""

from __future__ import annotations

import httpx

from workflows.channels.base import (
    Answer,
    DeliveryChannel,
    Destination,
    OutboundMessage,
    register_channel,
)
from workflows.channels.http_answer import post_once


@register_channel
class FhirRestChannel(DeliveryChannel):
    name = "fhir_rest"
    title = "FHIR R4 server (REST)"
    address_kind = "url"
    message_format = "fhir_r4_bundle"

    async def send(
        self, http: httpx.AsyncClient, destination: Destination, message: OutboundMessage
    ) -> Answer:
        headers = {
            "Content-Type": message.content_type,
            "Accept": "application/fhir+json",
            "Idempotency-Key": message.idempotency_key,
        }
        return await post_once(http, destination, message.body, headers)
