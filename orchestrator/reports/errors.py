"""The API's exception handler: a signed report changed through any path is a 409, audited;
every error answer has ``detail`` and ``problems`` (orchestrator.api_schema.ApiErrorSerializer).
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from orchestrator.accounts.models import User
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.reports.models import SignedReportImmutable

# A ValidationError with this code (every problem) answers 409: the request conflicts with an
# object that exists. Views that raise it set ``documents_conflict`` (orchestrator.api_schema).
CONFLICT = "conflict"


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
    if response is None:
        return None
    if isinstance(exc, ValidationError) and _codes(exc.get_codes()) == {"does_not_exist"}:
        # Every problem is an object the body names that does not exist (or is another
        # department's): 422 — well-formed, but naming nothing there is. Not 404, which says the
        # object of the path is gone (a PUT to a route that exists would read as its deletion).
        response.status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    elif isinstance(exc, ValidationError) and _codes(exc.get_codes()) == {CONFLICT}:
        # The body clashes with an object that exists (views that raise it document 409).
        response.status_code = status.HTTP_409_CONFLICT
    response.data = error_body(response.data)
    return response


def _codes(codes: Any) -> set[str]:
    if isinstance(codes, dict):
        return {c for inner in codes.values() for c in _codes(inner)}
    if isinstance(codes, list):
        return {c for inner in codes for c in _codes(inner)}
    return {str(codes)}


def _messages(value: Any, field: str = "") -> list[str]:
    if isinstance(value, dict):
        return [m for key, inner in value.items() for m in _messages(inner, _join(field, key))]
    if isinstance(value, list):
        return [m for inner in value for m in _messages(inner, field)]
    return [f"{field}: {value}" if field else str(value)]


def _join(field: str, key: Any) -> str:
    key = "" if key in ("non_field_errors", "detail") else str(key)
    return ".".join(part for part in (field, key) if part)


def error_body(data: Any) -> dict[str, Any]:
    """Every error answer as ``orchestrator.api_schema.ApiErrorSerializer`` documents it:
    ``detail`` (one line), ``problems`` (each problem, prefixed with its field) and, for a
    refused body, each field's own problems as DRF lists them."""
    problems = _messages(data)
    body = dict(data) if isinstance(data, dict) else {}
    body.setdefault("detail", "; ".join(problems) or "the request was refused")
    body.setdefault("problems", problems)
    return body
