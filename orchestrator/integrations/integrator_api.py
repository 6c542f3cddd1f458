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
from dataclasses import dataclass, field
from typing import Any

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
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
from orchestrator.api_schema import ApiErrorSerializer
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.cases.models import Case, Specimen
from orchestrator.cases.services import CaseDocumentInvalid, parse_case_document
from orchestrator.integrations.access import (
    department_id,
    do_create_token,
    do_revoke_token,
    user_of,
)
from orchestrator.integrations.filters import QueryFilters
from orchestrator.integrations.inbound_api import AUTHENTICATION
from orchestrator.integrations.inbound_models import ApiToken
from orchestrator.integrations.submissions import NoWorkflow, SubmissionConflict, submit_case
from orchestrator.reports.errors import error_body
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


# The request body is described in full by orchestrator.api_schema (CaseSubmission,
# CaseSubmissionUpload and CaseDocument); this placeholder gives the operation its body.
_SUBMISSION = inline_serializer(
    "CaseSubmission",
    {
        "document": serializers.DictField(help_text="a case document (demo/cases/*.json)"),
        "workflow": serializers.CharField(required=False, help_text="workflow slug"),
        "start_run": serializers.BooleanField(required=False, default=True),
    },
)
SUBMISSION_FIELDS = ("document", "workflow", "start_run")
UPLOAD_FIELD = "files"


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
        OpenApiParameter(
            "status",
            str,
            enum=[*RunStatus.values, NO_RUN],
            description=f"latest run status, or {NO_RUN}",
        ),
        OpenApiParameter("created_after", OpenApiTypes.DATETIME, description="ISO 8601 date-time"),
        OpenApiParameter("created_before", OpenApiTypes.DATETIME, description="ISO 8601 date-time"),
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


@dataclass
class _Submission:
    document: Any
    files: list[Any] = field(default_factory=list)
    workflow: str | None = None
    start: bool = True
    problems: list[str] = field(default_factory=list)


def _json_submission(data: Any) -> _Submission:
    """A JSON body: ``{"document": {...}, "workflow": ..., "start_run": ...}`` or a bare case
    document (then its workflow is the one published for its case type)."""
    if not isinstance(data, dict):
        return _Submission(None, problems=["the body must be a JSON object"])
    if "document" not in data:
        return _Submission(data)
    problems = [f"{key}: unknown field" for key in data if key not in SUBMISSION_FIELDS]
    workflow, start = data.get("workflow"), data.get("start_run", True)
    if workflow is not None and not isinstance(workflow, str):
        problems.append("workflow: must be a workflow slug (text)")
    if not isinstance(start, bool):
        problems.append("start_run: must be true or false")
    return _Submission(
        data["document"],
        workflow=workflow if isinstance(workflow, str) and workflow else None,
        start=start is not False,
        problems=problems,
    )


def _multipart_submission(request: Request) -> _Submission:
    """A multipart body: a ``document`` part (the case document as JSON), ``files`` (the
    uploaded images its tiles name) and the ``workflow`` and ``start_run`` fields."""
    fields, uploads = request.POST, request.FILES
    problems = [
        f"{key}: unknown field"
        for key in [*fields.keys(), *uploads.keys()]
        if key not in (*SUBMISSION_FIELDS, UPLOAD_FIELD)
    ]
    if UPLOAD_FIELD in fields:
        problems.append(f"{UPLOAD_FIELD}: must be uploaded files")
    problems += [
        f"{key}: must be a form field, not a file" for key in SUBMISSION_FIELDS if key in uploads
    ]
    document: Any = None
    raw = fields.get("document")
    if raw is None:
        problems.append("document: required (the case document as JSON)")
    else:
        try:
            document = json.loads(raw)
        except json.JSONDecodeError:
            problems.append("document: must be a JSON case document")
    start = fields.get("start_run", "true")
    if start not in ("true", "false"):
        problems.append("start_run: must be true or false")
    return _Submission(
        document,
        list(uploads.getlist(UPLOAD_FIELD)),
        fields.get("workflow") or None,
        start != "false",
        problems=problems,
    )


def _refused(problems: list[str], code: int) -> Response:
    return Response(error_body(problems), status=code)


@extend_schema(
    request={"multipart/form-data": _SUBMISSION, "application/json": _SUBMISSION},
    responses={
        201: SubmittedSerializer,
        200: SubmittedSerializer,
        400: OpenApiResponse(
            ApiErrorSerializer,
            description="the submission is invalid: every problem is listed, each prefixed "
            "with its field (unknown fields too)",
        ),
        404: OpenApiResponse(
            ApiErrorSerializer,
            description="the named workflow does not exist in your department, or no "
            "workflow is published for the case type",
        ),
        409: OpenApiResponse(
            ApiErrorSerializer,
            description="the accession is already the case of another patient",
        ),
    },
)
@api_view(["POST"])
@authentication_classes(AUTHENTICATION)
@parser_classes([MultiPartParser, JSONParser])
def submit(request: Request) -> Response:
    """Submit a case; the same accession again answers the existing case (200)."""
    user = user_of(request)
    enforce(user, Permission.INTEGRATION_MANAGE, attempted="submit a case")
    if request.content_type.startswith("multipart/"):
        submission = _multipart_submission(request)
    else:
        submission = _json_submission(request.data)
    try:
        if submission.problems:
            try:
                parse_case_document(submission.document)
            except CaseDocumentInvalid as exc:
                submission.problems += exc.problems
            raise CaseDocumentInvalid(submission.problems)
        done = submit_case(
            user,
            submission.document,
            submission.files,
            workflow=submission.workflow,
            start=submission.start,
        )
    except NoWorkflow as exc:
        return _refused(exc.problems, status.HTTP_404_NOT_FOUND)
    except CaseDocumentInvalid as exc:
        return _refused(exc.problems, status.HTTP_400_BAD_REQUEST)
    except SubmissionConflict as exc:
        return _refused([str(exc)], status.HTTP_409_CONFLICT)
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
