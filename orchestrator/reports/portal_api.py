"""The clinician portal's API: find a patient's cases, see their reports and what changed.

    GET portal/search?q=          cases whose accession or patient identifier is ``q``
    GET portal/cases/{id}/reports every version the user may read, newest first, each amended
                                  or corrected one with what changed (old → new) and why

Clinicians see signed versions only (a recalled sign-out never left, so it is not shown);
pathologists and admins see drafts too. PDFs are downloaded through ``reports/{id}/pdf``
(audited). Everything is department-scoped and audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestrator.accounts.models import User
from orchestrator.accounts.policy import Permission, PolicyPermission, enforce, role_allows, scoped
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.cases.models import Case
from orchestrator.designs.models import TemplateVersion
from orchestrator.reports.lifecycle import value_changes
from orchestrator.reports.models import SIGNED_STATUSES, Report

SEARCH_LIMIT = 50

# The answers are built in their serialized form (the serializers below document them in the
# schema): DRF's generic serializers cost more than the rest of the view's Python. Times are
# written by DRF's own field, so they read exactly as elsewhere in the API.
_TIME = serializers.DateTimeField()


def _time(value: datetime | None) -> str | None:
    return None if value is None else str(_TIME.to_representation(value))


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _visible(user: User, prefix: str = "") -> Q:
    """Which report versions ``user`` may read (``prefix`` reaches reports from another
    model): signed and not recalled for everyone; unsigned and recalled ones too for those
    who read drafts."""
    if role_allows(user.role, Permission.REPORT_READ_DRAFT):
        return Q()
    return Q(
        **{
            f"{prefix}status__in": SIGNED_STATUSES,
            f"{prefix}signature__recalled_at__isnull": True,
        }
    )


def _versions(user: User) -> QuerySet[Report]:
    # The template is not joined: its data set (tens of kilobytes) is only needed for the
    # labels of what an amendment changed, and read when there is a change (``_Labels``). The
    # provenance is not deferred: a deferral costs more to compile than its column to read.
    return (
        Report.objects.filter(_visible(user))
        .select_related("signature__signer")
        .order_by("-version_no")
    )


def case_with_versions(user: User, pk: int) -> tuple[Case | None, list[Report]]:
    """Case ``pk`` (with its department) and its versions that ``user`` may read, newest
    first, in one query when there is such a version (the versions bring their case along),
    two when there is none. Scoping is the caller's: check the case before answering."""
    versions = list(_versions(user).filter(case_id=pk).select_related("case__department"))
    if not versions:
        return Case.objects.select_related("department").filter(pk=pk).first(), []
    case = versions[0].case
    for report in versions:
        report.case = case  # one case object, as case.reports would give
    return case, versions


def _labels(dataset: dict[str, Any]) -> dict[str, dict[str, str]]:
    elements = [e for s in dataset.get("sections", []) for e in s.get("elements", [])]
    return {str(e.get("id")): dict(e.get("label", {})) for e in elements if isinstance(e, dict)}


class _Labels:
    """Element labels of the versions' templates, each data set read once and only when a
    change needs its labels."""

    def __init__(self) -> None:
        self._by_template: dict[int, dict[str, dict[str, str]]] = {}

    def of(self, report: Report) -> dict[str, dict[str, str]]:
        key = report.template_version_id
        if key not in self._by_template:
            dataset = (
                TemplateVersion.objects.filter(pk=key).values_list("dataset", flat=True).first()
            )
            self._by_template[key] = _labels(dataset or {})
        return self._by_template[key]


def version_entry(
    report: Report, previous_signed: Report | None, labels: _Labels | None = None
) -> dict[str, Any]:
    signature = getattr(report, "signature", None)
    changes: list[dict[str, Any]] = []
    if previous_signed is not None and report.is_signed:
        changed = value_changes(previous_signed.data, report.data)
        if changed:
            names = (labels or _Labels()).of(report)
            changes = [{**c, "label": names.get(c["element"], {})} for c in changed]
    return {
        "report_id": report.pk,
        "version": report.version_no,
        "status": report.status,
        "signed": report.is_signed,
        "recalled": signature is not None and signature.recalled_at is not None,
        "signed_by": str(signature.signer) if signature else None,
        "signed_at": _time(signature.signed_at) if signature else None,
        "reason": report.reason,
        "supersedes": report.supersedes_id,
        "replaces_version": previous_signed.version_no if previous_signed else None,
        "changes": changes,
        "pdf_url": f"/api/v1/reports/{report.pk}/pdf",
        "created_at": _time(report.created_at),
    }


def version_entries(versions: list[Report]) -> list[dict[str, Any]]:
    """Each version with what changed since the signed version before it (oldest first in
    the walk, newest first in the answer)."""
    entries = []
    labels = _Labels()
    previous: Report | None = None
    for report in sorted(versions, key=lambda r: r.version_no):
        recalled = hasattr(report, "signature") and report.signature.recalled_at is not None
        entries.append(version_entry(report, previous if report.is_signed else None, labels))
        if report.is_signed and not recalled:
            previous = report
    return list(reversed(entries))


class ReportVersionSerializer(serializers.Serializer[Any]):
    report_id = serializers.IntegerField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    signed = serializers.BooleanField()
    recalled = serializers.BooleanField()
    signed_by = serializers.CharField(allow_null=True)
    signed_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    supersedes = serializers.IntegerField(allow_null=True)
    replaces_version = serializers.IntegerField(allow_null=True)
    changes = serializers.ListField(child=serializers.DictField())
    pdf_url = serializers.CharField()
    created_at = serializers.DateTimeField()


class PortalCaseSerializer(serializers.Serializer[Any]):
    case_id = serializers.IntegerField()
    accession = serializers.CharField()
    case_type = serializers.CharField()
    patient_name = serializers.CharField()
    patient_mrn = serializers.CharField()
    received_at = serializers.DateTimeField()
    reports = serializers.IntegerField(help_text="versions you may read")


class CaseReportsSerializer(serializers.Serializer[Any]):
    case = PortalCaseSerializer()
    versions = ReportVersionSerializer(many=True)


def _case_entry(case: Case, count: int) -> dict[str, Any]:
    return {
        "case_id": case.pk,
        "accession": case.accession,
        "case_type": case.case_type,
        "patient_name": case.patient_name,
        "patient_mrn": case.patient_mrn,
        "received_at": _time(case.created_at),
        "reports": count,
    }


class PortalSearchView(APIView):
    permission_classes = [PolicyPermission]
    policy = Permission.PORTAL_SEARCH

    @extend_schema(
        operation_id="portal_search",
        parameters=[OpenApiParameter("q", str, required=True, description="accession or MRN")],
        responses=PortalCaseSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        """Cases of your department whose accession or patient identifier is exactly ``q``
        (both indexed per department)."""
        user = _user(request)
        query = request.query_params.get("q", "").strip()
        if not query:
            return Response({"detail": "q: give an accession or a patient identifier"}, 400)
        cases = scoped(Case.objects.all(), user).filter(Q(accession=query) | Q(patient_mrn=query))
        # One query: the versions each case shows are counted with it (no query per case).
        found = list(
            cases.annotate(visible=Count("reports", filter=_visible(user, "reports__"))).order_by(
                "-created_at"
            )[:SEARCH_LIMIT]
        )
        entries = [_case_entry(c, c.visible) for c in found]
        department = user.department
        assert department is not None
        record_event(
            AuditAction.CASE_SEARCHED,
            department,
            actor=user,
            department=department,
            matches=len(found),
            cases=[c.pk for c in found],
        )
        return Response(entries)


class PortalCaseReportsView(APIView):
    permission_classes = [PolicyPermission]
    policy = Permission.REPORT_READ_SIGNED

    @extend_schema(operation_id="portal_case_reports", responses=CaseReportsSerializer)
    def get(self, request: Request, pk: int) -> Response:
        """A case's report versions you may read, newest first, with what each amendment or
        correction changed and why; every earlier version stays downloadable."""
        user = _user(request)
        case, versions = case_with_versions(user, pk)
        if case is None:
            raise NotFound("no such case")
        enforce(user, Permission.REPORT_READ_SIGNED, case, attempted=f"GET {request.path}")
        record_event(
            AuditAction.REPORT_LISTED,
            case,
            actor=user,
            department=case.department,
            versions=[r.version_no for r in versions],
        )
        answer = {"case": _case_entry(case, len(versions)), "versions": version_entries(versions)}
        return Response(answer)
