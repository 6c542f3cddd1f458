"""FHIR R4 read and search of report versions, for users of the case's department.

GET /fhir/DiagnosticReport/pf-<id>                     one report version, Observations contained
GET /fhir/DiagnosticReport?identifier=<accession>      a searchset Bundle (also ``system|value``)
GET /fhir/DiagnosticReport?patient=<mrn>               (``_count`` up to 100, default 50)

Unsigned versions (AI drafts) only for those who review and sign them, as everywhere else.
Every read, search and denial is audited (parameter names and counts, never their values).
Errors are OperationOutcome resources.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, renderer_classes
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from orchestrator.accounts.models import User
from orchestrator.accounts.policy import Permission, audit_denial, can, role_allows
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.integrations.fhir.resources import (
    checked,
    diagnostic_report,
    observations,
    report_id,
)
from orchestrator.reports.models import SIGNED_STATUSES, Report

MAX_COUNT = 100


class FhirJSONRenderer(JSONRenderer):
    media_type = "application/fhir+json"
    format = "fhir"


_RESOURCE = inline_serializer(
    "FhirDiagnosticReport",
    {
        "resourceType": serializers.CharField(),
        "id": serializers.CharField(),
        "status": serializers.CharField(),
        "identifier": serializers.ListField(child=serializers.DictField()),
        "subject": serializers.DictField(),
        "contained": serializers.ListField(child=serializers.DictField()),
        "result": serializers.ListField(child=serializers.DictField()),
        "presentedForm": serializers.ListField(child=serializers.DictField()),
    },
)
_BUNDLE = inline_serializer(
    "FhirSearchBundle",
    {
        "resourceType": serializers.CharField(),
        "type": serializers.CharField(),
        "total": serializers.IntegerField(),
        "entry": serializers.ListField(child=serializers.DictField()),
    },
)
_OUTCOME = inline_serializer(
    "FhirOperationOutcome",
    {
        "resourceType": serializers.CharField(),
        "issue": serializers.ListField(child=serializers.DictField()),
    },
)


def outcome(status: int, code: str, text: str) -> Response:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    }
    return Response(body, status=status, content_type="application/fhir+json")


def _readable(user: User) -> QuerySet[Report]:
    if user.department_id is None:
        return Report.objects.none()
    reports = Report.objects.filter(case__department_id=user.department_id).select_related(
        "case__department", "template_version__template", "signed_by"
    )
    if not role_allows(user.role, Permission.REPORT_READ_DRAFT):
        reports = reports.filter(status__in=SIGNED_STATUSES)
    return reports


def as_resource(report: Report) -> dict[str, Any]:
    with report.pdf.open("rb") as stored:
        pdf = stored.read()
    return checked(diagnostic_report(report, pdf, observations(report), contained=True))


@extend_schema(
    operation_id="fhir_diagnostic_report_read",
    # 400: a query parameter refused by orchestrator.query_parameters (an OperationOutcome).
    responses={200: _RESOURCE, 400: _OUTCOME, 404: _OUTCOME},
)
@api_view(["GET"])
@renderer_classes([FhirJSONRenderer, JSONRenderer])
def read_diagnostic_report(request: Request, resource_id: str) -> Response:
    user = request.user
    assert isinstance(user, User)
    pk = resource_id.removeprefix("pf-")
    report = _readable(user).filter(pk=int(pk)).first() if pk.isdigit() else None
    if report is None or not report.pdf:
        stored = Report.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
        if stored is not None:  # another department's, or a draft this role may not read
            needed = (
                Permission.REPORT_READ_SIGNED if stored.is_signed else Permission.REPORT_READ_DRAFT
            )
            decision = can(user, needed, stored)
            if not decision:
                audit_denial(user, needed, stored, decision, "FHIR read")
        return outcome(404, "not-found", f"DiagnosticReport/{resource_id} is not known")
    record_event(AuditAction.FHIR_READ, report, actor=user, department=report.case.department)
    return Response(as_resource(report), content_type="application/fhir+json")


@extend_schema(
    operation_id="fhir_diagnostic_report_search",
    parameters=[
        OpenApiParameter("identifier", str, description="accession, or system|accession"),
        OpenApiParameter("patient", str, description="the patient's MRN"),
        OpenApiParameter(
            "_count",
            {"type": "integer", "minimum": 1, "maximum": MAX_COUNT},
            description=f"at most {MAX_COUNT} (default 50)",
        ),
    ],
    responses={200: _BUNDLE, 400: _OUTCOME},
)
@api_view(["GET"])
@renderer_classes([FhirJSONRenderer, JSONRenderer])
def search_diagnostic_reports(request: Request) -> Response:
    user = request.user
    assert isinstance(user, User)
    identifier = request.query_params.get("identifier", "")
    patient = request.query_params.get("patient", "").removeprefix("Patient/")
    count_text = request.query_params.get("_count", "50")
    if not (identifier or patient):
        return outcome(400, "required", "search by identifier (accession) or patient (MRN)")
    if not count_text.isdigit() or not 1 <= int(count_text) <= MAX_COUNT:
        return outcome(400, "value", f"_count must be a number from 1 to {MAX_COUNT}")
    reports = _readable(user)
    if identifier:
        reports = reports.filter(case__accession=identifier.rsplit("|", 1)[-1])
    if patient:
        reports = reports.filter(case__patient_mrn=patient)
    found = list(reports.filter(pdf__gt="").order_by("-created_at", "-id")[: int(count_text)])
    record_event(
        AuditAction.FHIR_SEARCHED,
        user.department or user,
        actor=user,
        department=user.department,
        parameters=sorted(k for k in ("identifier", "patient") if request.query_params.get(k)),
        results=len(found),
    )
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(found),
        "entry": [
            {
                "fullUrl": f"DiagnosticReport/{report_id(r)}",
                "resource": as_resource(r),
                "search": {"mode": "match"},
            }
            for r in found
        ],
    }
    return Response(bundle, content_type="application/fhir+json")
