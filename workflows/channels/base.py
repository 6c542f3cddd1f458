"""The base class every delivery channel implements, and the registry of channels.

A channel is a transport: it gets the exact bytes the host built for it (an ORU^R01 message, a
FHIR transaction Bundle, a webhook's JSON) and one catalog destination, sends them once, and
says how the receiver answered. Retries, ordering and idempotency are the outbox's (the host's)
business; a channel never retries by itself, so that every attempt is recorded.
"""

from __future__ import annotations

import ipaddress
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, Literal, TypeVar
from urllib.parse import urlsplit

import httpx

AddressKind = Literal["url", "host_port"]
# A receiver acknowledges; it has no reason to send more than this back.
MAX_ANSWER_BYTES = 64 * 1024
# What a console shows of an answer; the rest is not needed to judge it.
ANSWER_SHOWN = 4000
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")


class Verdict(StrEnum):
    """How the receiver took one attempt: ``accepted`` (done), ``retry`` (a transient failure:
    try again later) or ``rejected`` (it will never accept this message: stop)."""

    ACCEPTED = "accepted"
    RETRY = "retry"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Answer:
    """One attempt's outcome: the verdict, a short ``summary`` a person reads in the console
    (``HTTP 202``, ``AA``, ``AR: unknown patient``, ``cannot connect``) and the ``raw`` answer
    as received (capped; an ACK message, a response body)."""

    verdict: Verdict
    summary: str
    raw: str = ""


@dataclass(frozen=True)
class Destination:
    """A catalog destination resolved for one attempt. ``address`` is a URL or ``host:port``
    (the channel's ``address_kind``); ``signing_key`` signs bodies where the channel does so."""

    slug: str
    channel: str
    address: str
    timeout_s: float
    headers: dict[str, str] = field(default_factory=dict)
    signing_key: bytes | None = None
    max_answer_bytes: int = MAX_ANSWER_BYTES

    @property
    def where(self) -> str:
        return f"destination '{self.slug}' ({self.address})"


@dataclass(frozen=True)
class OutboundMessage:
    """The bytes to send and what identifies them: ``idempotency_key`` (the same for every
    attempt of one delivery, so a receiver can drop a repeat) and ``control_id`` (the message's
    own id, e.g. MSH-10, echoed by an HL7 ACK)."""

    body: bytes
    content_type: str
    idempotency_key: str
    control_id: str
    event: str = ""


class DeliveryChannel(ABC):
    name: ClassVar[str]
    title: ClassVar[str]
    # What a destination's address is: an http(s) URL or host:port.
    address_kind: ClassVar[AddressKind]
    # What the host builds for this channel (webhook_json, hl7v2_oru_r01, fhir_r4_bundle).
    message_format: ClassVar[str]

    @abstractmethod
    async def send(
        self, http: httpx.AsyncClient, destination: Destination, message: OutboundMessage
    ) -> Answer:
        """Send ``message`` once and judge the answer. Transport failures (refused, timeout)
        are an Answer with verdict ``retry``, never an exception."""

    def address_problems(self, address: str) -> list[str]:
        """What is wrong with ``address`` as a destination of this channel (empty when fine)."""
        if self.address_kind == "url":
            return url_problems(address)
        return host_port_problems(address)


def url_problems(address: str) -> list[str]:
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"{address!r} is not an http(s) URL"]
    if parts.username or parts.password:
        return ["a URL must not carry credentials; use a secret reference"]
    return []


def split_host_port(address: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` → (host, port); raises ValueError saying what is wrong."""
    if "://" in address or "/" in address:
        raise ValueError(f"{address!r} is not host:port (no scheme or path: e.g. 10.1.2.3:2575)")
    host, sep, port_text = address.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValueError(f"{address!r} is not host:port (e.g. lis.hospital.local:2575)")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is not between 1 and 65535")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{host!r} is not an IPv6 address") from None
        return host, port
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        if not all(_HOST_LABEL.match(label) for label in host.rstrip(".").split(".")):
            raise ValueError(f"{host!r} is not a host name or IP address") from None
    return host, port


def host_port_problems(address: str) -> list[str]:
    try:
        split_host_port(address)
    except ValueError as exc:
        return [str(exc)]
    return []


def shown(raw: bytes) -> str:
    """An answer as the console shows it: decoded leniently, cut to ANSWER_SHOWN characters."""
    return raw[: ANSWER_SHOWN * 4].decode("utf-8", "replace")[:ANSWER_SHOWN]


C = TypeVar("C", bound=type[DeliveryChannel])
CHANNELS: dict[str, DeliveryChannel] = {}


def register_channel(channel: C) -> C:
    if channel.name in CHANNELS:
        raise ValueError(f"delivery channel {channel.name} is registered twice")
    CHANNELS[channel.name] = channel()
    return channel
