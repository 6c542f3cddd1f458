"""The outbox: delivery routes (what goes where), deliveries (one report version to one
destination), every attempt with the receiver's answer, and alert incidents per destination.

A delivery is written in the same transaction as what it delivers (a signed report version, or
the checkpoint of a deliver node) and sent later by the dispatcher (``dispatcher.py``); see
``docs/integration-outbox.md`` for the guarantees."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

__all__ = [
    "AttemptVerdict",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryIncident",
    "DeliveryRoute",
    "DeliveryStatus",
    "IncidentKind",
]


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    # No attempt left (PATHFLOW_DELIVERY_MAX_ATTEMPTS): holds the destination like ``stopped``.
    FAILED = "failed", "Failed"
    # The receiver rejected it (HL7 AR, HTTP 4xx): later deliveries to it are held.
    STOPPED = "stopped", "Stopped"
    # Never sent: the sign-out it carries was recalled inside its recall window.
    WITHDRAWN = "withdrawn", "Withdrawn"


PENDING_STATUSES = frozenset({DeliveryStatus.QUEUED, DeliveryStatus.SENDING})
HOLDING_STATUSES = frozenset({DeliveryStatus.FAILED, DeliveryStatus.STOPPED})


class DeliveryRoute(models.Model):
    """Which signed report versions of the department go to a destination: case types (none
    listed = every case type) and report statuses. Admins manage them through the API."""

    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="delivery_routes"
    )
    destination = models.ForeignKey(
        "catalog.ModelEndpoint", on_delete=models.PROTECT, related_name="delivery_routes"
    )
    case_types = models.JSONField(default=list, blank=True)
    report_statuses = models.JSONField(default=list)
    # Webhook destinations: send the PDF in the body (HL7 and FHIR always carry it).
    include_pdf = models.BooleanField(default=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"route {self.pk} → {self.destination_id}"

    def matches(self, case_type: str, status: str) -> bool:
        return status in self.report_statuses and (
            not self.case_types or case_type in self.case_types
        )


class Delivery(models.Model):
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="deliveries"
    )
    destination = models.ForeignKey(
        "catalog.ModelEndpoint", on_delete=models.PROTECT, related_name="deliveries"
    )
    channel = models.CharField(max_length=32)
    report = models.ForeignKey(
        "reports.Report", on_delete=models.PROTECT, related_name="deliveries"
    )
    # Where it came from: a route (a report was signed) or a deliver node of a run.
    route = models.ForeignKey(
        DeliveryRoute, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    run = models.ForeignKey(
        "runs.Run", null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries"
    )
    node_id = models.CharField(max_length=255, blank=True)
    resend_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="resends"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Webhook body options: the event name, extra data computed by the node, the PDF or not.
    event = models.CharField(max_length=64)
    include_pdf = models.BooleanField(default=True)
    data = models.JSONField(default=dict, blank=True)
    # The same on every attempt: receivers drop a repeat by it (Idempotency-Key, MSH-10).
    idempotency_key = models.CharField(max_length=200, unique=True)
    control_id = models.CharField(max_length=20, unique=True)
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    # Per-destination order: deliveries go out by (queued_at, id).
    queued_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # The exact message, built at the first attempt and sent unchanged on every later one.
    message = models.TextField(blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    last_error = models.TextField(blank=True)
    # A stopped/failed delivery that was resent no longer holds its destination.
    released = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-queued_at", "-id"]
        constraints = [
            # A report version goes to a destination once; a resend is the only second copy.
            models.UniqueConstraint(
                fields=["destination", "report"],
                condition=Q(resend_of__isnull=True),
                name="delivery_once_per_destination_and_report",
            )
        ]
        indexes = [
            models.Index(fields=["destination", "status", "queued_at"], name="delivery_queue"),
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.status})"


class AttemptVerdict(models.TextChoices):
    SENDING = "sending", "Sending"
    ACCEPTED = "accepted", "Accepted"
    RETRY = "retry", "Retry"
    REJECTED = "rejected", "Rejected"
    # The dispatcher sending it stopped before the answer was recorded.
    INTERRUPTED = "interrupted", "Interrupted"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    worker = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    verdict = models.CharField(
        max_length=20, choices=AttemptVerdict.choices, default=AttemptVerdict.SENDING
    )
    summary = models.CharField(max_length=400, blank=True)
    # The receiver's answer as received (an ACK message, a response body), capped.
    answer = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="delivery_attempt_once")
        ]

    def __str__(self) -> str:
        return f"delivery {self.delivery_id} attempt {self.number} ({self.verdict})"


class IncidentKind(models.TextChoices):
    STOPPED = "stopped", "A delivery was rejected; the destination is held"
    FAILING = "failing", "Deliveries keep failing"
    BACKLOG = "backlog", "The oldest undelivered message is too old"


class DeliveryIncident(models.Model):
    """One alert per incident: opened by the first problem of a destination (a rejection,
    repeated failures, a backlog), closed when it delivers again with nothing held. While one
    is open, further problems of that destination raise no new alert."""

    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT)
    destination = models.ForeignKey(
        "catalog.ModelEndpoint", on_delete=models.PROTECT, related_name="delivery_incidents"
    )
    kind = models.CharField(max_length=20, choices=IncidentKind.choices)
    summary = models.CharField(max_length=400)
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.SET_NULL)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["destination"],
                condition=Q(closed_at__isnull=True),
                name="one_open_incident_per_destination",
            )
        ]

    def __str__(self) -> str:
        return f"incident {self.pk} ({self.kind})"
