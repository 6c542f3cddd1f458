"""The one permission policy: which role may do what, to which department's objects.

Every API decides here, through ``can(user, permission, target)``, never by comparing roles
itself. Two rules:

1. **Role**: ``ROLE_PERMISSIONS`` lists what each role may do. A role that may not is a 403
   (the person is told which roles may).
2. **Department**: a user acts only on their own department's objects. Another department's
   object is answered as if it did not exist (404), so ids leak nothing; a user without a
   department may do nothing.

``PolicyPermission`` is the DRF permission class that applies both and records every denial
as an audit event (``access.denied``); views name what they need in ``policy`` (one
permission) or ``policy_by_action`` (per viewset action or HTTP method).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import models
from django.db.models import QuerySet
from rest_framework.exceptions import MethodNotAllowed, NotFound, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from orchestrator.accounts.models import Department, Role, User


class Permission(StrEnum):
    DESIGN_READ = "design.read"  # templates, workflows, their versions and previews
    DESIGN_CHANGE = "design.change"
    RUN_READ = "run.read"  # statuses, timings, errors
    RUN_ACT = "run.act"  # start, cancel, review, re-run; node inputs and outputs (case data)
    REPORT_READ_SIGNED = "report.read_signed"
    REPORT_READ_DRAFT = "report.read_draft"  # unsigned AI drafts
    REPORT_REVIEW = "report.review"  # the review queue, per-field overrides
    REPORT_SIGN = "report.sign"  # sign-out, recall, amendment: an electronic signature
    PORTAL_SEARCH = "portal.search"  # find a patient's reports by accession or patient id
    AUDIT_READ = "audit.read"
    INTEGRATION_MANAGE = "integration.manage"  # message console, outbox, destinations
    # Inbound messages without their raw content, and the routing table (read only).
    MESSAGE_READ = "message.read"
    INTEGRATION_CONFIGURE = "integration.configure"  # the routing table, API tokens
    SLIDE_VIEW = "slide.view"  # whole-slide images and the AI overlay on them
    GOLDEN_MARK = "golden.mark"  # mark a signed case as a golden case of a workflow
    # The dashboard: turnaround, throughput, review queue, AI agreement, failures (aggregates).
    ANALYTICS_READ = "analytics.read"


_ALL_STAFF = {Permission.RUN_READ, Permission.REPORT_READ_SIGNED}
_READ_DESIGNS = {Permission.DESIGN_READ}
_HANDLES_CASES = {
    Permission.RUN_ACT,
    Permission.REPORT_READ_DRAFT,
    Permission.PORTAL_SEARCH,
    Permission.SLIDE_VIEW,
}

ROLE_PERMISSIONS: Mapping[str, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        _ALL_STAFF
        | _READ_DESIGNS
        | _HANDLES_CASES
        | {Permission.DESIGN_CHANGE, Permission.AUDIT_READ, Permission.INTEGRATION_MANAGE}
        | {Permission.MESSAGE_READ, Permission.INTEGRATION_CONFIGURE, Permission.GOLDEN_MARK}
        | {Permission.ANALYTICS_READ}
    ),
    # Pathologists review and sign; they read designs (to see what a template asks for).
    Role.PATHOLOGIST: frozenset(
        _ALL_STAFF
        | _READ_DESIGNS
        | _HANDLES_CASES
        | {Permission.REPORT_REVIEW, Permission.REPORT_SIGN, Permission.MESSAGE_READ}
        | {Permission.GOLDEN_MARK, Permission.ANALYTICS_READ}
    ),
    # Clinicians receive signed reports (never unsigned AI drafts) and find them in the portal.
    Role.CLINICIAN: frozenset(_ALL_STAFF | {Permission.PORTAL_SEARCH}),
    Role.INTEGRATION: frozenset(
        _ALL_STAFF | {Permission.INTEGRATION_MANAGE, Permission.MESSAGE_READ}
    ),
    Role.MODEL_TEAM: frozenset(_ALL_STAFF),
}


def role_allows(role: str, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


def roles_allowed(permission: Permission) -> list[str]:
    return [
        str(Role(r).label).lower() for r, perms in ROLE_PERMISSIONS.items() if permission in perms
    ]


@dataclass(frozen=True)
class Decision:
    """The policy's answer. ``hidden`` denials are answered 404 (another department's object:
    its existence is not revealed), the others 403 with ``reason``."""

    allowed: bool
    reason: str = ""
    hidden: bool = False

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Decision(True)


def department_id_of(target: Any) -> int | None:
    """The department an object belongs to: itself, its ``department``, or its case's."""
    if target is None:
        return None
    if isinstance(target, Department):
        return target.pk
    for path in ("department_id", "case"):
        value = getattr(target, path, None)
        if path == "department_id" and value is not None:
            return int(value)
        if path == "case" and value is not None:
            return department_id_of(value)
    for attr in ("template", "workflow", "workflow_version", "run"):
        related = getattr(target, attr, None)
        if isinstance(related, models.Model):
            return department_id_of(related)
    return None


def can(user: Any, permission: Permission, target: Any = None) -> Decision:
    """May ``user`` do ``permission`` (to ``target``, a department or an object of one)?"""
    if not isinstance(user, User) or not user.is_authenticated:
        return Decision(False, "sign in first")
    if user.department_id is None:
        return Decision(False, "your account belongs to no department")
    if target is not None:
        owner = department_id_of(target)
        if owner is None or owner != user.department_id:
            return Decision(False, "not found in your department", hidden=True)
    if not role_allows(user.role, permission):
        return Decision(
            False,
            f"only {', '.join(roles_allowed(permission)) or 'nobody'} may {permission.value}; "
            f"your role is {Role(user.role).label.lower()}",
        )
    return ALLOWED


def scoped(queryset: QuerySet[Any], user: Any, path: str = "department") -> QuerySet[Any]:
    """``queryset`` narrowed to ``user``'s department (``path`` leads to the department)."""
    department_id = getattr(user, "department_id", None)
    if department_id is None:
        return queryset.none()
    return queryset.filter(**{f"{path}_id": department_id})


def audit_denial(
    user: Any, permission: Permission | str, target: Any, decision: Decision, attempted: str
) -> None:
    """Record a refused access (``access.denied``): who, what they tried, on what."""
    from orchestrator.audit.actions import AuditAction
    from orchestrator.audit.services import record_event

    actor = user if isinstance(user, User) and user.is_authenticated else None
    department = actor.department if actor is not None else None
    obj = target if isinstance(target, models.Model) else (department or actor)
    if obj is None:
        return  # an anonymous request: DRF answers 403 before any object is read
    record_event(
        AuditAction.ACCESS_DENIED,
        obj,
        actor=actor,
        department=department,
        permission=str(permission),
        attempted=attempted,
        reason="another department" if decision.hidden else decision.reason,
    )


def enforce(user: Any, permission: Permission, target: Any = None, *, attempted: str = "") -> None:
    """Raise (and audit) unless ``can``: 404 for another department's object, else 403."""
    decision = can(user, permission, target)
    if decision:
        return
    audit_denial(user, permission, target, decision, attempted or permission.value)
    if decision.hidden:
        raise NotFound("not found")
    raise PermissionDenied(decision.reason)


class PolicyPermission(BasePermission):
    """The audited DRF permission class: the view's ``policy`` (or ``policy_by_action[action
    or method]``) for the request, the object's department for ``get_object``."""

    def _permission(self, request: Request, view: APIView) -> Permission:
        by_action: Mapping[str, Permission] = getattr(view, "policy_by_action", {})
        method = (request.method or "").upper()
        action = getattr(view, "action", None) or method
        found = by_action.get(action) or by_action.get(method)
        if found is None and method in ("OPTIONS", "HEAD") and by_action:
            # Describing an operation (OPTIONS: DRF's metadata) or its headers is reading it:
            # the view's read permission, else the first it names.
            read = ("GET", "list", "retrieve")
            found = next((by_action[k] for k in read if k in by_action), None)
            found = found or next(iter(by_action.values()))
        found = found or getattr(view, "policy", None)
        if found is None:
            if method not in view.allowed_methods:
                # A method the view has no handler for (TRACE, say): 405, as DRF answers it.
                raise MethodNotAllowed(request.method or "")
            raise RuntimeError(f"{type(view).__name__} names no policy for {action!r}")
        return Permission(found)

    def _attempted(self, request: Request, view: APIView) -> str:
        action = getattr(view, "action", None)
        return f"{request.method} {type(view).__name__}{'.' + action if action else ''}"

    def has_permission(self, request: Request, view: APIView) -> bool:
        permission = self._permission(request, view)
        decision = can(request.user, permission)
        if not decision:
            audit_denial(request.user, permission, None, decision, self._attempted(request, view))
            raise PermissionDenied(decision.reason)
        return True

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        permission = self._permission(request, view)
        decision = can(request.user, permission, obj)
        if not decision:
            audit_denial(request.user, permission, obj, decision, self._attempted(request, view))
            if decision.hidden:
                raise NotFound("not found")
            raise PermissionDenied(decision.reason)
        return True
