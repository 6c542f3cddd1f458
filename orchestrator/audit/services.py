"""Recording audit events. Callers pass identifiers, never patient data.

Every event is appended to the hash chain under a lock on the chain's head row, inside the
caller's transaction (so an event of a change that rolls back rolls back with it, and the
chain stays unbroken).

On PostgreSQL the append is one statement (lock the head, insert the event with its hash,
move the head), so an audited read costs one round trip and holds the head's lock only for
that statement when it is not inside a longer transaction; the event's hash is computed by
the database from the canonical text built here (``seq`` is the canonical text's last key, so
the text is ``prefix + seq + "}"``) and is the same hash ``orchestrator.audit.chain`` checks.
Elsewhere (SQLite) the head is locked, the event inserted and the head moved in three steps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from orchestrator.accounts.models import Department, User
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.chain import canonical, event_hash
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
    event = AuditEvent(
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
        detail=json.loads(json.dumps(detail)),
    )
    if connection.vendor == "postgresql" and _append_in_one_statement(event):
        return event
    with transaction.atomic():
        head = _head()
        event.seq, event.prev_hash = head.last_seq + 1, head.last_hash
        event.hash = event_hash(head.last_hash, _hashed(event))
        event.save()
        AuditChainHead.objects.filter(pk=1).update(last_seq=event.seq, last_hash=event.hash)
    return event


# Lock the head, insert the event chained to it, move the head: one statement. A waiting writer
# re-reads the head its predecessor committed (READ COMMITTED re-checks a locked row), so no two
# events claim the same predecessor.
_APPEND = """
WITH head AS (
    SELECT last_seq, last_hash FROM audit_auditchainhead WHERE id = 1 FOR UPDATE
), event AS (
    INSERT INTO audit_auditevent (seq, at, actor_id, actor_label, action, object_type,
                                  object_id, department_id, patient_ref, client_address,
                                  outcome, detail, prev_hash, hash)
    SELECT head.last_seq + 1, %(at)s, %(actor_id)s, %(actor_label)s, %(action)s,
           %(object_type)s, %(object_id)s, %(department_id)s, %(patient_ref)s,
           %(client_address)s, %(outcome)s, %(detail)s::jsonb, head.last_hash,
           encode(sha256(convert_to(
               head.last_hash || E'\\n' || %(prefix)s || (head.last_seq + 1)::text || '}',
               'UTF8')), 'hex')
    FROM head
    RETURNING id, seq, prev_hash, hash
)
UPDATE audit_auditchainhead SET last_seq = event.seq, last_hash = event.hash
FROM event WHERE audit_auditchainhead.id = 1
RETURNING event.id, event.seq, event.prev_hash, event.hash
"""
_SEQ_LAST = ',"seq":0}'


def _append_in_one_statement(event: AuditEvent) -> bool:
    """Append ``event`` with one statement; False when there is no chain head yet (a fresh or
    flushed database), which the three-step path creates."""
    text = canonical({**_hashed(event), "seq": 0})
    assert text.endswith(_SEQ_LAST), "seq must stay the canonical text's last key"
    params = {
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
        "detail": json.dumps(event.detail),
        "prefix": text[: -len("0}")],
    }
    with connection.cursor() as cursor:
        cursor.execute(_APPEND, params)
        row = cursor.fetchone()
    if row is None:
        return False
    event.pk, event.seq, event.prev_hash, event.hash = row
    event._state.adding = False
    return True


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
