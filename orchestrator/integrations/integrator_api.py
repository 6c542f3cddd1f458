"""REST for integrating clients (API token or session; admins and integration engineers).

POST integration/cases/                 submit a case: JSON case document, or multipart with a
                                        ``document`` part and image ``files`` that its tiles
                                        name as ``upload:<file name>``; idempotent on accession
GET  integration/cases/                 filter by accession, mrn, created_after/before, status
GET  integration/cases/{id}/            the case, its specimens, runs and readable reports
GET  integration/cases/{id}/reports/    its report versions as JSON (signed ones for
                                        integration engineers; drafts too for admins)
GET  integration/reports/{id}/pdf       a report version's PDF
GET  integration/tokens/                admins: the department's API tokens
POST integration/tokens/                admins: a new token (its secret is shown once)
POST integration/tokens/{id}/revoke     admins: revoke a token
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import api_view, authentication_classes, parser_classes
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from orchestrator.accounts.policy import Permission, enforce
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.cases.models import Case, Specimen
from orchestrator.cases.services import CaseDocumentInvalid
from orchestrator.integrations.access import (
    department_id,
    do_create_token,
    do_revoke_token,
    user_of,
)
from orchestrator.integrations.filters import QueryFilters
from orchestrator.integrations.inbound_api import AUTHENTICATION
from orchestrator.integrations.inbound_models import ApiToken
from orchestrator.integrations.submissions import SubmissionConflict, submit_case
from orchestrator.reports.models import Report, ReportStatus
from orchestrator.runs.models import Run, RunStatus

NO_RUN = "no_run"


class ReportSerializer(serializers.ModelSerializer[Report]):
    status = serializers.CharField(read_only=True, help_text=", ".join(ReportStatus.values))
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "version_no",
            "status",
            "language",
            "data",
            "pdf_sha256",
            "pdf_url",
            "created_at",
            "signed_at",
        ]

    def get_pdf_url(self, obj: Report) -> str | None:
        return f"/api/v1/integration/reports/{obj.pk}/pdf" if obj.pdf else None


class SpecimenSerializer(serializers.ModelSerializer[Specimen]):
    class Meta:
        model = Specimen
        fields = ["label", "site", "procedure", "data", "tiles"]


class RunSummarySerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text=", ".join(RunStatus.values))
    error = serializers.CharField()


class ReportSummarySerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    version_no = serializers.IntegerField()
    status = serializers.CharField()
    pdf_url = serializers.CharField(allow_null=True)


class CaseSerializer(serializers.ModelSerializer[Case]):
    status = serializers.SerializerMethodField(help_text=f"the latest run's status, or {NO_RUN}")
    run = serializers.SerializerMethodField()
    reports = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "accession",
            "case_type",
            "patient_name",
            "patient_mrn",
            "patient_sex",
            "patient_birth_date",
            "source",
            "created_at",
            "status",
            "run",
            "reports",
        ]

    def get_status(self, obj: Case) -> str:
        return str(getattr(obj, "latest_status", NO_RUN))

    @staticmethod
    def _latest(obj: Case) -> Run | None:
        runs = list(obj.runs.all())
        return max(runs, key=lambda r: r.pk) if runs else None

    @extend_schema_field(RunSummarySerializer(allow_null=True))
    def get_run(self, obj: Case) -> dict[str, Any] | None:
        run = self._latest(obj)
        return {"id": run.pk, "status": run.status, "error": run.error} if run else None

    @extend_schema_field(ReportSummarySerializer(many=True))
    def get_reports(self, obj: Case) -> list[dict[str, Any]]:
        role = self.context["request"].user.role
        readable = [r for r in obj.reports.all() if r.readable_by_role(role)]
        fields = ["id", "version_no", "status", "pdf_url"]
        data = ReportSerializer(readable, many=True).data
        return [{k: item[k] for k in fields} for item in data]


class CaseDetailSerializer(CaseSerializer):
    specimens = SpecimenSerializer(many=True, read_only=True)

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "clinical_info", "ordering_physician", "specimens"]


class SubmittedSerializer(serializers.Serializer[dict[str, Any]]):
    created = serializers.BooleanField(help_text="false: the accession existed (idempotent)")
    case = CaseDetailSerializer()


class SubmissionProblemsSerializer(serializers.Serializer[dict[str, Any]]):
    problems = serializers.ListField(child=serializers.CharField())


class TokenSerializer(serializers.ModelSerializer[ApiToken]):
    created_by: serializers.StringRelatedField[Any] = serializers.StringRelatedField()
    revoked = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_by", "created_at", "last_used_at", "revoked"]

    def get_revoked(self, obj: ApiToken) -> bool:
        return obj.revoked_at is not None


class NewTokenSerializer(TokenSerializer):
    token = serializers.SerializerMethodField(help_text="the secret: shown this once only")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]

    def get_token(self, obj: ApiToken) -> str:
        return str(self.context["secret"])


_SUBMISSION = inline_serializer(
    "CaseSubmission",
    {
        "document": serializers.DictField(help_text="a case document (demo/cases/*.json)"),
        "files": serializers.ListField(child=serializers.FileField(), required=False),
        "workflow": serializers.CharField(required=False, help_text="workflow slug"),
        "start_run": serializers.BooleanField(required=False, default=True),
    },
)


def _cases(user: Any) -> QuerySet[Case]:
    latest = Run.objects.filter(case=OuterRef("pk")).order_by("-pk").values("status")[:1]
    return (
        Case.objects.filter(department_id=department_id(user))
        .annotate(latest_status=Coalesce(Subquery(latest), Value(NO_RUN)))
        .prefetch_related("runs", Prefetch("reports", Report.objects.order_by("version_no")))
    )


def _case_filters(cases: QuerySet[Case], params: Any) -> QuerySet[Case]:
    query = QueryFilters(params)
    cases = query.exact(cases, [("accession", "accession"), ("mrn", "patient_mrn")])
    cases = query.one_of(cases, "status", "latest_status", [*RunStatus.values, NO_RUN])
    cases = query.between(cases, "created_at", "created_after", "created_before")
    return query.done(cases)


@extend_schema(
    parameters=[
        OpenApiParameter("accession", str, description="accession (exact)"),
        OpenApiParameter("mrn", str, description="patient MRN (exact)"),
        OpenApiParameter("status", str, description=f"latest run status, or {NO_RUN}"),
        OpenApiParameter("created_after", str, description="ISO 8601 date-time"),
        OpenApiParameter("created_before", str, description="ISO 8601 date-time"),
    ]
)
class CaseViewSet(viewsets.ReadOnlyModelViewSet[Case]):
    """Cases of your department, newest first."""

    authentication_classes = AUTHENTICATION
    serializer_class = CaseSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Case]:
        user = user_of(self.request)
        enforce(user, Permission.INTEGRATION_MANAGE, attempted="list cases")
        cases = _cases(user)
        if self.action == "list":
            cases = _case_filters(cases, self.request.query_params)
        return cases

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Case]]:
        return CaseDetailSerializer if self.action != "list" else CaseSerializer

    def get_object(self) -> Case:
        user = user_of(self.request)
        enforce(user, Permission.INTEGRATION_MANAGE, attempted="read a case")
        case = _cases(user).prefetch_related("specimens").filter(pk=self.kwargs["pk"]).first()
        if case is None:
            other = Case.objects.filter(pk=self.kwargs["pk"]).first()
            if other is not None:
                enforce(user, Permission.INTEGRATION_MANAGE, other, attempted="read a case")
            raise Http404("no such case")
        record_event(
            AuditAction.CASE_VIEWED, case, actor=user, department=user.department, via="api"
        )
        return case


def _document(request: Request) -> tuple[Any, list[Any]]:
    body: Any = request.data
    if request.content_type.startswith("multipart/"):
        raw = body.get("document")
        try:
            document = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError:
            raise CaseDocumentInvalid(["document: must be a JSON case document"]) from None
        return document, list(request.FILES.getlist("files"))
    data = request.data
    return (data.get("document", data) if isinstance(data, dict) else data), []


@extend_schema(
    request={"multipart/form-data": _SUBMISSION, "application/json": _SUBMISSION},
    responses={
        201: SubmittedSerializer,
        200: SubmittedSerializer,
        400: SubmissionProblemsSerializer,
        409: SubmissionProblemsSerializer,
    },
)
@api_view(["POST"])
@authentication_classes(AUTHENTICATION)
@parser_classes([MultiPartParser, JSONParser])
def submit(request: Request) -> Response:
    """Submit a case; the same accession again answers the existing case (200)."""
    user = user_of(request)
    enforce(user, Permission.INTEGRATION_MANAGE, attempted="submit a case")
    options: Any = request.data if hasattr(request.data, "get") else {}
    start = str(options.get("start_run", "true")).lower() not in ("false", "0", "no")
    try:
        document, files = _document(request)
        done = submit_case(
            user, document, files, workflow=options.get("workflow") or None, start=start
        )
    except CaseDocumentInvalid as exc:
        return Response({"problems": exc.problems}, status=status.HTTP_400_BAD_REQUEST)
    except SubmissionConflict as exc:
        return Response({"problems": [str(exc)]}, status=status.HTTP_409_CONFLICT)
    case = _cases(user).prefetch_related("specimens").get(pk=done.case.pk)
    body = {
        "created": done.created,
        "case": CaseDetailSerializer(case, context={"request": request}).data,
    }
    return Response(body, status=status.HTTP_201_CREATED if done.created else status.HTTP_200_OK)


@extend_schema(responses=ReportSerializer(many=True))
@api_view(["GET"])
@authentication_classes(AUTHENTICATION)
def case_reports(request: Request, pk: int) -> Response:
    """The case's report versions you may read, oldest first, with their data."""
    user = user_of(request)
    case = Case.objects.filter(pk=pk).first()
    if case is None:
        raise Http404("no such case")
    enforce(user, Permission.INTEGRATION_MANAGE, case, attempted="read a case's reports")
    reports = [r for r in case.reports.order_by("version_no") if r.readable_by_role(user.role)]
    record_event(AuditAction.REPORT_LISTED, case, actor=user, department=user.department, via="api")
    return Response(ReportSerializer(reports, many=True).data)


@extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
@api_view(["GET"])
@authentication_classes(AUTHENTICATION)
def report_pdf(request: Request, pk: int) -> FileResponse:
    """A report version's PDF (signed versions for integration engineers); audited."""
    user = user_of(request)
    report = Report.objects.select_related("case").filter(pk=pk).first()
    if report is None:
        raise Http404("no such report")
    enforce(user, Permission.INTEGRATION_MANAGE, report, attempted="download a report")
    if not report.readable_by_role(user.role) or not report.pdf:
        record_event(
            AuditAction.REPORT_DOWNLOAD_DENIED, report, actor=user, department=user.department
        )
        raise Http404("no such report")
    record_event(
        AuditAction.REPORT_DOWNLOADED, report, actor=user, department=user.department, via="api"
    )
    return FileResponse(
        report.pdf.open("rb"),
        content_type="application/pdf",
        filename=f"{report.case.accession}-v{report.version_no}.pdf",
    )


class TokenViewSet(viewsets.ReadOnlyModelViewSet[ApiToken]):
    """Your department's API tokens (admins)."""

    authentication_classes = AUTHENTICATION
    serializer_class = TokenSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[ApiToken]:
        user = user_of(self.request)
        enforce(user, Permission.INTEGRATION_CONFIGURE, attempted="list API tokens")
        return ApiToken.objects.filter(department_id=department_id(user)).select_related(
            "created_by"
        )

    @extend_schema(
        request=inline_serializer(
            "NewTokenRequest", {"name": serializers.CharField(max_length=100)}
        ),
        responses={201: NewTokenSerializer},
    )
    def create(self, request: Request) -> Response:
        user = user_of(request)
        enforce(user, Permission.INTEGRATION_CONFIGURE, attempted="issue an API token")
        body: Any = request.data
        name = body.get("name") if isinstance(body, dict) else None
        name = name.strip() if isinstance(name, str) else ""
        if not name or len(name) > 100:
            raise serializers.ValidationError({"name": ["a name of 1 to 100 characters"]})
        token, secret = do_create_token(user, name)
        data = NewTokenSerializer(token, context={"secret": secret}).data
        return Response(data, status=status.HTTP_201_CREATED)


@extend_schema(request=None, responses=TokenSerializer)
@api_view(["POST"])
@authentication_classes(AUTHENTICATION)
def revoke_token(request: Request, pk: int) -> Response:
    user = user_of(request)
    token = ApiToken.objects.filter(pk=pk).first()
    if token is None:
        raise Http404("no such API token")
    enforce(user, Permission.INTEGRATION_CONFIGURE, token, attempted="revoke an API token")
    return Response(TokenSerializer(do_revoke_token(token, user)).data)
