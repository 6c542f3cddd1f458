"""Sign-in events that belong in the audit trail: a username locked out after repeated failures."""

from __future__ import annotations

from typing import Any

from orchestrator.accounts.models import User
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event


def audit_lockout(sender: Any, request: Any = None, username: str = "", **kwargs: Any) -> None:
    """django-axes locked ``username`` out (from the request's address): audit it on the user,
    when one has that name (an unknown name has no object to hang an event on)."""
    user = User.objects.filter(username=username).select_related("department").first()
    if user is not None:
        record_event(
            AuditAction.LOGIN_LOCKED_OUT, user, department=user.department, username_known=True
        )
