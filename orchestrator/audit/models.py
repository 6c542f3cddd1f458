"""Append-only audit trail: every view, list, download, change, sign-out, recall, amendment and
denial, chained by hashes so that a changed, removed or inserted row is found (``verify_audit``).

Each event stores the hash of the event before it and the hash of its own canonical content
(``orchestrator.audit.chain``); ``AuditChainHead`` is the one row that every writer locks to
append, so the chain has one order even with many writers. On PostgreSQL, triggers refuse any
UPDATE or DELETE of an event (migration 0002); in Python, saving an existing event or deleting
one raises ``AuditEventImmutable``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class AuditEventImmutable(Exception):
    """Raised on any attempt to change or delete a recorded audit event."""


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    DENIED = "denied", "Denied"
    REFUSED = "refused", "Refused"


class AuditEvent(models.Model):
    # Position in the chain: 1, 2, 3, ... with no gaps (a missing number is a removed event).
    seq = models.BigIntegerField(unique=True, null=True)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    # For system actors (a worker, the CLI, the MLLP listener) that are not users.
    actor_label = models.CharField(max_length=100, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.PROTECT
    )
    # A keyed hash of the patient's record number: finds every access to one patient's records
    # without storing who the patient is (``orchestrator.audit.services.patient_reference``).
    patient_ref = models.CharField(max_length=32, blank=True, db_index=True)
    client_address = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    # Identifiers and outcomes only: never patient names or report values.
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditEventImmutable("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditEventImmutable("audit events are append-only")


class AuditChainHead(models.Model):
    """The newest event of the chain. Writers lock this single row (``select_for_update``) to
    append, so two events can never claim the same predecessor."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"audit chain at {self.last_seq}"
