"""Recording audit events. Callers pass identifiers, never patient data."""

from __future__ import annotations

from typing import Any

from django.db import models

from orchestrator.accounts.models import Department, User
from orchestrator.audit.models import AuditEvent


def record_event(
    action: str,
    obj: models.Model,
    *,
    actor: User | None = None,
    actor_label: str = "",
    department: Department | None = None,
    **detail: Any,
) -> AuditEvent:
    return AuditEvent.objects.create(
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor_label,
        department=department,
        detail=detail,
    )
