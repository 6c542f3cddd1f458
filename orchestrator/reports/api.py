from __future__ import annotations

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request

from orchestrator.accounts.models import User
from orchestrator.audit.services import record_event
from orchestrator.reports.models import Report


@extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
@api_view(["GET"])
def report_pdf(request: Request, pk: int) -> FileResponse:
    """The PDF of one report version, for users of the case's department; audited."""
    user = request.user
    assert isinstance(user, User)
    report = Report.objects.select_related("case").filter(pk=pk).first()
    if report is None or report.case.department_id != user.department_id or not report.pdf:
        if report is not None:
            record_event("report.download_denied", report, actor=user, department=user.department)
        raise Http404("no such report")
    record_event("report.downloaded", report, actor=user, department=report.case.department)
    response = FileResponse(
        report.pdf.open("rb"),
        content_type="application/pdf",
        filename=f"{report.case.accession}-v{report.version_no}.pdf",
    )
    response["Content-Disposition"] = response["Content-Disposition"].replace(
        "attachment", "inline"
    )
    return response
