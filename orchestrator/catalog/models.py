"""The admin-managed catalog of model endpoints and delivery destinations: the only addresses
the engine and the outbox may reach.

An entry's ``protocol`` is its *kind*: a model protocol (``workflows/protocols/``) or a delivery
channel (``workflows/channels/``). The choices are computed from those two registries, so a new
protocol or channel is one engine module — no choices list here and no migration per kind. A
destination's address is what its channel takes: a URL (webhook, FHIR base URL) or ``host:port``
(HL7 over MLLP); its secret (by reference) signs deliveries instead of being sent."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from workflows.channels import CHANNELS
from workflows.channels.base import url_problems
from workflows.protocols import PROTOCOLS

MEASURE_KEYS = ("marker", "stain", "unit")


def output_measures_problems(outputs: Any) -> list[str]:
    """Every problem of an ``outputs`` declaration: ``{name: {marker, stain, unit}}``."""
    if not isinstance(outputs, dict):
        return ["outputs must map output names to what each measures"]
    problems = []
    for name, measures in outputs.items():
        if not isinstance(measures, dict):
            problems.append(f"output {name!r}: must be an object with marker, stain and/or unit")
            continue
        for key, value in measures.items():
            if key not in MEASURE_KEYS:
                problems.append(f"output {name!r}: {key!r} is not one of marker, stain, unit")
            elif not isinstance(value, str) or not value.strip():
                problems.append(f"output {name!r}: {key} must be text")
    return problems


def endpoint_kinds() -> list[tuple[str, str]]:
    """(name, title) of every model protocol and delivery channel, as the catalog offers them."""
    kinds = [(name, p.title or name) for name, p in sorted(PROTOCOLS.items())]
    kinds += [(name, f"{c.title} (delivery destination)") for name, c in sorted(CHANNELS.items())]
    return kinds


def is_destination_kind(kind: str) -> bool:
    return kind in CHANNELS


def address_problems(kind: str, address: str) -> list[str]:
    """What is wrong with ``address`` for an entry of ``kind`` (empty when it fits)."""
    channel = CHANNELS.get(kind)
    if channel is not None:
        return channel.address_problems(address)
    return url_problems(address)


class ModelEndpoint(models.Model):
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="endpoints"
    )
    slug = models.SlugField()
    name = models.CharField(max_length=200)
    protocol = models.CharField(max_length=32, choices=endpoint_kinds)
    base_url = models.CharField(
        max_length=500,
        help_text="a model server's URL, e.g. http://127.0.0.1:8091; for a webhook the URL that "
        "receives reports, for FHIR the server's base URL, for HL7 MLLP host:port",
    )
    model_name = models.CharField(
        max_length=200, blank=True, help_text="name on the server (not used by destinations)"
    )
    # A reference (environment variable name) to the credential, never the secret itself.
    secret_ref = models.CharField(max_length=100, blank=True)
    timeout_s = models.FloatField(default=30.0)
    # A delivery destination's attempts before a delivery to it fails (and holds the
    # destination for someone to resend it); None: PATHFLOW_DELIVERY_MAX_ATTEMPTS. Stored with
    # the destination, so that every dispatcher, whatever its settings, stops at the same one.
    max_attempts = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="a destination's attempts before a delivery fails; "
        "empty: PATHFLOW_DELIVERY_MAX_ATTEMPTS",
    )
    # What each output measures, e.g. {"ki67_index": {"marker": "Ki-67", "stain": "IHC",
    # "unit": "%"}}: validation warns when an output fills a report element measuring another.
    outputs = models.JSONField(
        default=dict,
        blank=True,
        help_text='what each output measures: {"<output name>": {"marker", "stain", "unit"}}',
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["department", "slug"], name="endpoint_slug_per_dept")
        ]

    def __str__(self) -> str:
        return f"{self.slug} ({self.get_protocol_display()})"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list[str]] = {}
        if problems := address_problems(self.protocol, self.base_url):
            errors["base_url"] = problems
        if problems := output_measures_problems(self.outputs):
            errors["outputs"] = problems
        if errors:
            raise ValidationError(errors)

    @property
    def is_destination(self) -> bool:
        return is_destination_kind(self.protocol)
