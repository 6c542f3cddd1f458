"""The API's exception handler: a signed report changed through any path is a 409, audited;
every error answer is an object (orchestrator.api_schema.ApiErrorSerializer)."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from orchestrator.accounts.models import User
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.reports.models import SignedReportImmutable


def signed_conflict(exc: SignedReportImmutable, user: Any, attempted: str) -> Response:
    """Audit an attempt to change a signed version and answer 409 saying how to change it."""
    report = exc.report
    if report is not None:
        actor = user if isinstance(user, User) else None
        record_event(
            AuditAction.REPORT_EDIT_REFUSED,
            report,
            actor=actor,
            department=report.case.department,
            attempted=attempted,
        )
    return Response(
        {"detail": "a signed report version is never changed: amend, correct or add an addendum"},
        status=status.HTTP_409_CONFLICT,
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, SignedReportImmutable):
        request = context.get("request")
        view = context.get("view")
        attempted = f"{getattr(request, 'method', '')} {type(view).__name__}"
        return signed_conflict(exc, getattr(request, "user", None), attempted)
    response = drf_exception_handler(exc, context)
    if response is not None and not isinstance(response.data, dict):
        # ValidationError("...") outside a serializer: one documented shape for every error.
        problems = response.data if isinstance(response.data, list) else [response.data]
        response.data = {"detail": "; ".join(str(p) for p in problems)}
    return response
