"""The admin-managed catalog of model endpoints and delivery destinations: the only URLs the
engine may call. A ``webhook`` entry is a delivery destination: its URL receives reports and
its secret (by reference) signs each delivery instead of being sent."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

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


class Protocol(models.TextChoices):
    OPEN_INFERENCE_V2 = "open_inference_v2", "Open Inference Protocol v2 (Triton/KServe/MLServer)"
    OPENAI_CHAT = "openai_chat", "OpenAI-compatible chat (vision-language)"
    HTTP_JSON = "http_json", "Plain JSON over HTTP"
    WEBHOOK = "webhook", "Webhook (delivery destination)"


class ModelEndpoint(models.Model):
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="endpoints"
    )
    slug = models.SlugField()
    name = models.CharField(max_length=200)
    protocol = models.CharField(max_length=32, choices=Protocol.choices)
    base_url = models.URLField(
        help_text="e.g. http://127.0.0.1:8091; for a webhook, the full URL that receives reports"
    )
    model_name = models.CharField(
        max_length=200, blank=True, help_text="name on the server (not used by webhooks)"
    )
    # A reference (environment variable name) to the credential, never the secret itself.
    secret_ref = models.CharField(max_length=100, blank=True)
    timeout_s = models.FloatField(default=30.0)
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
        if problems := output_measures_problems(self.outputs):
            raise ValidationError({"outputs": problems})
