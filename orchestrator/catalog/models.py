"""The admin-managed catalog of model endpoints and delivery destinations: the only URLs the
engine may call. A ``webhook`` entry is a delivery destination: its URL receives reports and
its secret (by reference) signs each delivery instead of being sent."""

from __future__ import annotations

from django.db import models


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
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["department", "slug"], name="endpoint_slug_per_dept")
        ]

    def __str__(self) -> str:
        return f"{self.slug} ({self.get_protocol_display()})"
