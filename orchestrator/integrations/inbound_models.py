"""Inbound integration: raw messages as received, the routing table that picks a workflow for
an order, and the API tokens of integrating clients."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class InboundStatus(models.TextChoices):
    # Stored and acknowledged AA; the case and run are made by the listener's processor.
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    # Acknowledged AE: stored, understood, not acted on (no route, missing field, ...).
    ERROR = "error", "Application error"
    # Acknowledged AR, or unreadable (no header, bad framing, truncated, too large).
    REJECTED = "rejected", "Rejected"
    # Acknowledged AA, but making the case failed every attempt: needs a person (reprocess).
    FAILED = "failed", "Processing failed"


class InboundMessage(models.Model):
    """One message exactly as received (``raw`` holds the frame's bytes, unchanged), stored and
    committed before it is acknowledged. A resend of an accepted (AA) or erroneous (AE) message
    (same sending application, facility and MSH-10) is not stored again: ``duplicates`` counts
    it and it gets ``ack`` again.
    A reprocessing is a new row pointing at the original (``reprocess_of``)."""

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    channel = models.CharField(max_length=20)
    peer = models.CharField(max_length=64, blank=True)
    raw = models.BinaryField()
    # Bytes received in the frame; larger than len(raw) only for a frame over the size limit.
    size = models.PositiveIntegerField(default=0)
    codec = models.CharField(max_length=32, blank=True)
    message_type = models.CharField(max_length=16, blank=True)
    version = models.CharField(max_length=12, blank=True)
    sending_application = models.CharField(max_length=227, blank=True)
    sending_facility = models.CharField(max_length=227, blank=True)
    control_id = models.CharField(max_length=199, blank=True)
    accession = models.CharField(max_length=64, blank=True, db_index=True)
    patient_mrn = models.CharField(max_length=64, blank=True, db_index=True)
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    ack_code = models.CharField(max_length=2, blank=True)
    ack = models.BinaryField(blank=True, default=b"")
    # What the ACK's ERR segments said: [{segment, sequence, field, component, code, text}].
    problems = models.JSONField(default=list, blank=True)
    # Why processing after the ACK failed (no patient data), and how often it was tried.
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    workflow = models.ForeignKey(
        "designs.Workflow", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    routing_rule = models.ForeignKey(
        "integrations.RoutingRule",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_messages",
    )
    run = models.ForeignKey(
        "runs.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    duplicates = models.PositiveIntegerField(default=0)
    last_duplicate_at = models.DateTimeField(null=True, blank=True)
    reprocess_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reprocessed_as"
    )
    reprocessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sending_application", "sending_facility", "control_id"],
                condition=models.Q(reprocess_of__isnull=True, ack_code__in=["AA", "AE"])
                & ~models.Q(control_id=""),
                name="inbound_message_once",
            )
        ]
        indexes = [
            models.Index(fields=["status", "id"], name="inbound_status_idx"),
            models.Index(fields=["control_id"], name="inbound_control_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} message {self.pk} ({self.status})"


class RoutingRule(models.Model):
    """Orders of a department whose order code (OBR-4.1) and specimen type (SPM-4.1 or
    OBR-15.1) match start the latest published version of ``workflow``. An empty criterion
    matches anything; the lowest ``priority``, then the most specific rule, wins."""

    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="routing_rules"
    )
    order_code = models.CharField(max_length=64, blank=True)
    specimen_type = models.CharField(max_length=64, blank=True)
    workflow = models.ForeignKey(
        "designs.Workflow", on_delete=models.PROTECT, related_name="routing_rules"
    )
    priority = models.PositiveIntegerField(default=100)
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["department", "priority", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "order_code", "specimen_type"],
                condition=models.Q(active=True),
                name="one_active_route_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_code or '*'} / {self.specimen_type or '*'} → {self.workflow_id}"

    def matches(self, order_code: str, specimen_type: str) -> bool:
        return (not self.order_code or self.order_code.upper() == order_code.upper()) and (
            not self.specimen_type or self.specimen_type.upper() == specimen_type.upper()
        )


class ApiToken(models.Model):
    """A client's key to the integration API. Only its SHA-256 is stored; ``prefix`` (shown in
    lists) finds it. The token acts as its own service user (role integration) of the
    department, so every permission and audit rule applies to it as to a person."""

    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_token"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
