"""Recording audit events. Callers pass identifiers, never patient data.

Every event is appended to the hash chain under a lock on the chain's head row, inside the
caller's transaction (so an event of a change that rolls back rolls back with it, and the
chain stays unbroken).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from orchestrator.accounts.models import Department, User
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.chain import event_hash
from orchestrator.audit.context import client_address
from orchestrator.audit.models import AuditChainHead, AuditEvent


def patient_reference(department_id: int | None, mrn: str) -> str:
    """A stable, non-identifying reference to one patient of one department: a keyed hash of
    the record number (the key is the server's secret, so it cannot be reversed by trying
    record numbers without it)."""
    if not mrn:
        return ""
    message = f"{department_id}:{mrn}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:24]


def _patient_of(obj: models.Model) -> str:
    """The patient reference of a case, or of an object that belongs to one (report, run)."""
    case = obj if obj._meta.label_lower == "cases.case" else getattr(obj, "case", None)
    mrn = getattr(case, "patient_mrn", "") if case is not None else ""
    return patient_reference(getattr(case, "department_id", None), str(mrn or ""))


def _head() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        AuditChainHead.objects.get_or_create(pk=1)
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


def record_event(
    action: AuditAction,
    obj: models.Model,
    *,
    actor: User | None = None,
    actor_label: str = "",
    department: Department | None = None,
    result: str | None = None,
    **detail: Any,
) -> AuditEvent:
    """Append one event: ``action`` on ``obj`` by ``actor`` (or the system ``actor_label``).
    ``result`` overrides the outcome the action's name implies; ``detail`` holds identifiers
    and counts only. The client address comes from the request being served, the patient
    reference from ``obj``'s case (if it has one)."""
    action = AuditAction(action)
    plain_detail = json.loads(json.dumps(detail))
    with transaction.atomic():
        head = _head()
        event = AuditEvent(
            seq=head.last_seq + 1,
            at=timezone.now(),
            action=action.value,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            actor=actor if actor is not None and actor.is_authenticated else None,
            actor_label=actor_label,
            department=department,
            patient_ref=_patient_of(obj),
            client_address=client_address.get(),
            outcome=result or action.outcome,
            detail=plain_detail,
            prev_hash=head.last_hash,
        )
        event.hash = event_hash(head.last_hash, _hashed(event))
        event.save()
        AuditChainHead.objects.filter(pk=1).update(last_seq=event.seq, last_hash=event.hash)
    return event


def _hashed(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "department_id": event.department_id,
        "patient_ref": event.patient_ref,
        "client_address": event.client_address,
        "outcome": event.outcome,
        "detail": event.detail,
    }
