"""Webhook: the host's JSON body POSTed to the destination's URL.

Headers: ``Idempotency-Key`` (the same on every attempt of one delivery: a receiver drops a
repeat), ``X-Pathflow-Event`` and, when the destination has a secret, ``X-Pathflow-Signature:
sha256=<hex HMAC-SHA256 of the exact body bytes>`` — the secret signs, it is never sent."""

from __future__ import annotations

import hashlib
import hmac

import httpx

from workflows.channels.base import (
    Answer,
    DeliveryChannel,
    Destination,
    OutboundMessage,
    register_channel,
)
from workflows.channels.http_answer import post_once

SIGNATURE_HEADER = "X-Pathflow-Signature"
EVENT_HEADER = "X-Pathflow-Event"


def sign(key: bytes, body: bytes) -> str:
    """The signature header value a receiver recomputes over the raw body to check it."""
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


@register_channel
class WebhookChannel(DeliveryChannel):
    name = "webhook"
    title = "Webhook (JSON over HTTPS)"
    address_kind = "url"
    message_format = "webhook_json"

    async def send(
        self, http: httpx.AsyncClient, destination: Destination, message: OutboundMessage
    ) -> Answer:
        headers = {
            "Content-Type": message.content_type,
            "Idempotency-Key": message.idempotency_key,
            EVENT_HEADER: message.event,
        }
        if destination.signing_key:
            headers[SIGNATURE_HEADER] = sign(destination.signing_key, message.body)
        return await post_once(http, destination, message.body, headers)
