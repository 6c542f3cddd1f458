"""Reports API: a report version's PDF, and the template designer's live preview.

GET  reports/{id}/pdf      the PDF of one report version (department-scoped, audited)
POST templates/preview     a template version — saved, or unsaved dataset + layout — filled
                           with sample values, as HTML or PDF from the sandboxed renderer
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from orchestrator.accounts.models import User
from orchestrator.accounts.policy import Permission, can, role_allows
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.designs.models import TemplateVersion
from orchestrator.reports.models import Report, ReportSignature
from orchestrator.reports.services import PreviewRejected, preview_report

# The preview HTML is the designer's own layout: show it, but never let it run scripts, load
# anything or reach our origin (the designer's page frames it).
PREVIEW_HTML_POLICY = (
    "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"
)


def _recalled(report: Report) -> bool:
    return ReportSignature.objects.filter(report=report, recalled_at__isnull=False).exists()


@extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
@api_view(["GET"])
def report_pdf(request: Request, pk: int) -> FileResponse:
    """The PDF of one report version, for users of the case's department; audited."""
    user = request.user
    assert isinstance(user, User)
    report = Report.objects.select_related("case").filter(pk=pk).first()
    readable = (
        report is not None
        and can(user, Permission.REPORT_READ_SIGNED, report).allowed
        and report.readable_by_role(user.role)
        # A recalled sign-out never left: only those who read drafts see it.
        and (not _recalled(report) or role_allows(user.role, Permission.REPORT_READ_DRAFT))
    )
    if report is None or not readable or not report.pdf:
        if report is not None:
            record_event(
                AuditAction.REPORT_DOWNLOAD_DENIED,
                report,
                actor=user,
                department=user.department,
                status=report.status,
            )
        raise Http404("no such report")
    record_event(
        AuditAction.REPORT_DOWNLOADED, report, actor=user, department=report.case.department
    )
    response = FileResponse(
        report.pdf.open("rb"),
        content_type="application/pdf",
        filename=f"{report.case.accession}-v{report.version_no}.pdf",
    )
    response["Content-Disposition"] = response["Content-Disposition"].replace(
        "attachment", "inline"
    )
    return response


class PreviewSerializer(serializers.Serializer[dict[str, Any]]):
    template_version = serializers.IntegerField(
        required=False, help_text="id of a saved template version of your department"
    )
    dataset = serializers.DictField(
        required=False, help_text="an unsaved dataset definition (instead of template_version)"
    )
    layout_html = serializers.CharField(required=False, allow_blank=True, default="")
    layout_css = serializers.CharField(required=False, allow_blank=True, default="")
    layout_spec = serializers.JSONField(
        required=False, allow_null=True, default=None, help_text="an unsaved designed layout"
    )
    values = serializers.DictField(default=dict, help_text="sample values by element id")
    language = serializers.ChoiceField(choices=["zh", "en"], default="zh")
    format = serializers.ChoiceField(choices=["html", "pdf"], default="pdf")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("template_version" in attrs) == ("dataset" in attrs):
            raise serializers.ValidationError(
                "give either template_version (a saved version) or dataset (+ layout_html, "
                "layout_css) for an unsaved one"
            )
        return attrs


_PROBLEMS = inline_serializer(
    "PreviewProblems", {"problems": serializers.ListField(child=serializers.CharField())}
)


def _problems(problems: list[str]) -> Response:
    return Response({"problems": problems}, status=status.HTTP_400_BAD_REQUEST)


@extend_schema(
    request=PreviewSerializer,
    responses={
        (200, "application/pdf"): OpenApiTypes.BINARY,
        (200, "text/html"): OpenApiTypes.STR,
        400: _PROBLEMS,
    },
)
@api_view(["POST"])
def template_preview(request: Request) -> HttpResponse | Response:
    """Render a template version with sample values, exactly as a report would be rendered."""
    user = request.user
    assert isinstance(user, User)
    department = user.department
    if department is None or not role_allows(user.role, Permission.DESIGN_READ):
        # Audited like every other refused template action (``template.denied``).
        record_event(
            AuditAction.TEMPLATE_DENIED,
            department or user,
            actor=user,
            department=department,
            attempted="POST template_preview",
            slug="",
        )
        raise PermissionDenied("only admins and pathologists of a department may preview")
    serializer = PreviewSerializer(data=request.data)
    if not serializer.is_valid():
        return _problems(
            [
                f"{field}: {message}"
                for field, messages in serializer.errors.items()
                for message in messages
            ]
        )
    body = serializer.validated_data
    if "template_version" in body:
        version = (
            TemplateVersion.objects.select_related("template")
            .filter(pk=body["template_version"])
            .first()
        )
        if version is None or version.template.department_id != department.pk:
            if version is not None:
                record_event(
                    AuditAction.TEMPLATE_PREVIEW_DENIED, version, actor=user, department=department
                )
            raise Http404("no such template version")
        audited: Any = version
    else:
        version = TemplateVersion(
            dataset=body["dataset"],
            layout_html=body["layout_html"],
            layout_css=body["layout_css"],
            layout_spec=body["layout_spec"],
        )
        audited = department
    detail = {"format": body["format"], "language": body["language"], "unsaved": version.pk is None}
    try:
        preview = preview_report(
            department, version, body["values"], body["language"], body["format"]
        )
    except PreviewRejected as exc:
        record_event(
            AuditAction.TEMPLATE_PREVIEW_REFUSED,
            audited,
            actor=user,
            department=department,
            problems=len(exc.problems),
            **detail,
        )
        return _problems(exc.problems)
    record_event(
        AuditAction.TEMPLATE_PREVIEWED, audited, actor=user, department=department, **detail
    )
    response = HttpResponse(preview.content, content_type=preview.content_type)
    if body["format"] == "html":
        response["Content-Security-Policy"] = PREVIEW_HTML_POLICY
    else:
        response["Content-Disposition"] = 'inline; filename="preview.pdf"'
        response["X-Report-Pages"] = str(preview.pages)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
