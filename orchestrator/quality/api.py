"""The quality API: golden cases, tolerances, shadow runs and publish-gate verdicts of a workflow,
and the department's golden-case threshold. Department-scoped through the one policy: another
department's workflow or shadow run is answered 404."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestrator.accounts.models import User
from orchestrator.accounts.policy import Permission, PolicyPermission, enforce
from orchestrator.cases.models import Case
from orchestrator.designs.models import VersionStatus, Workflow, WorkflowVersion
from orchestrator.quality import services
from orchestrator.quality.gate import case_disagreements
from orchestrator.quality.models import (
    ElementTolerance,
    GoldenCase,
    PublishGate,
    ShadowRun,
)
from orchestrator.quality.serializers import (
    GateShape,
    GoldenCaseShape,
    GoldenFromReportShape,
    GoldenNoteSerializer,
    MarkGoldenSerializer,
    ShadowRunDetailShape,
    ShadowRunShape,
    StartShadowSerializer,
    ThresholdSerializer,
    ToleranceSerializer,
    ToleranceShape,
)
from orchestrator.reports.models import Report
from workflows.datasets import parse_dataset


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _workflow(request: Request, slug: str, permission: Permission) -> Workflow:
    user = _user(request)
    workflow: Workflow = get_object_or_404(
        Workflow.objects.filter(department_id=user.department_id or 0).select_related("department"),
        slug=slug,
    )
    enforce(user, permission, workflow, attempted=f"{request.method} quality of {slug}")
    return workflow


def _rejected(exc: services.QualityRejected) -> Response:
    return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)


def _valid(serializer_class: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- golden cases ---------------------------------------------------------------------------


def golden_body(golden: GoldenCase) -> dict[str, Any]:
    report = services.latest_signed(golden.case)
    return {
        "case": golden.case_id,
        "accession": golden.case.accession,
        "case_type": golden.case.case_type,
        "signed_version": report.version_no if report else None,
        "signed_at": report.signed_at if report else None,
        "marked_by": golden.marked_by.username if golden.marked_by else None,
        "marked_at": golden.marked_at,
        "note": golden.note,
    }


class GoldenCaseListView(APIView):
    permission_classes = [PolicyPermission]
    policy_by_action = {"GET": Permission.DESIGN_READ, "POST": Permission.GOLDEN_MARK}

    @extend_schema(operation_id="quality_golden_cases_list", responses=GoldenCaseShape(many=True))
    def get(self, request: Request, slug: str) -> Response:
        """The workflow's golden cases, each with the signed version its answers come from."""
        workflow = _workflow(request, slug, Permission.DESIGN_READ)
        rows = workflow.golden_cases.select_related("case", "marked_by")
        return Response([golden_body(g) for g in rows])

    @extend_schema(
        operation_id="quality_golden_cases_create",
        request=MarkGoldenSerializer,
        responses={201: GoldenCaseShape},
    )
    def post(self, request: Request, slug: str) -> Response:
        """Mark a signed case (by accession) as a golden case of the workflow."""
        workflow = _workflow(request, slug, Permission.GOLDEN_MARK)
        data = _valid(MarkGoldenSerializer, request.data)
        case = Case.objects.filter(
            department_id=workflow.department_id, accession=data["accession"]
        ).first()
        if case is None:
            return Response(
                {"detail": f"no case {data['accession']} in your department"}, status=400
            )
        try:
            golden = services.mark_golden(workflow, case, _user(request), data["note"])
        except services.QualityRejected as exc:
            return _rejected(exc)
        return Response(golden_body(golden), status=status.HTTP_201_CREATED)


class GoldenReportView(APIView):
    permission_classes = [PolicyPermission]
    policy = Permission.GOLDEN_MARK

    @extend_schema(
        operation_id="quality_golden_from_report",
        request=GoldenNoteSerializer,
        responses={201: GoldenFromReportShape},
    )
    def post(self, request: Request, id: int) -> Response:
        """Mark the case of a signed report version as a golden case of the workflow that
        drafted it (the review cockpit's button)."""
        user = _user(request)
        report = get_object_or_404(
            Report.objects.select_related("case__department"),
            pk=id,
            case__department_id=user.department_id or 0,
        )
        enforce(user, Permission.GOLDEN_MARK, report, attempted=f"POST {request.path}")
        if not report.is_signed:
            return Response({"detail": "only a signed report version can be golden"}, status=400)
        note = _valid(GoldenNoteSerializer, request.data).get("note", "")
        try:
            workflow = services.workflow_of_report(report)
            golden = services.mark_golden(workflow, report.case, user, note)
        except services.QualityRejected as exc:
            return _rejected(exc)
        body = {**golden_body(golden), "workflow": workflow.slug}
        return Response(body, status=status.HTTP_201_CREATED)


class GoldenCaseDetailView(APIView):
    permission_classes = [PolicyPermission]
    policy = Permission.GOLDEN_MARK

    @extend_schema(operation_id="quality_golden_cases_destroy", responses={204: None})
    def delete(self, request: Request, slug: str, case: int) -> Response:
        """Take a case off the workflow's golden cases."""
        workflow = _workflow(request, slug, Permission.GOLDEN_MARK)
        golden = get_object_or_404(workflow.golden_cases, case_id=case)
        services.unmark_golden(golden, _user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- tolerances -----------------------------------------------------------------------------


def _tolerances(workflow: Workflow) -> list[dict[str, Any]]:
    dataset = services.workflow_dataset(workflow)
    set_ = dict(
        ElementTolerance.objects.filter(workflow=workflow).values_list("element", "tolerance")
    )
    return [
        {
            "element": e.id,
            "label": dict(e.label),
            "unit": e.unit,
            "tolerance": set_.get(e.id),
        }
        for e in dataset.elements()
        if e.type == "number"
    ]


class ToleranceListView(APIView):
    permission_classes = [PolicyPermission]
    policy = Permission.DESIGN_READ

    @extend_schema(operation_id="quality_tolerances_list", responses=ToleranceShape(many=True))
    def get(self, request: Request, slug: str) -> Response:
        """Every numeric element of the workflow's template with its tolerance (null: exact)."""
        return Response(_tolerances(_workflow(request, slug, Permission.DESIGN_READ)))


class ToleranceDetailView(APIView):
    permission_classes = [PolicyPermission]
    policy = Permission.DESIGN_CHANGE

    @extend_schema(
        operation_id="quality_tolerances_update",
        request=ToleranceSerializer,
        responses=ToleranceShape(many=True),
    )
    def put(self, request: Request, slug: str, element: str) -> Response:
        """Set the tolerance of a numeric element (null: the value must be equal)."""
        workflow = _workflow(request, slug, Permission.DESIGN_CHANGE)
        data = _valid(ToleranceSerializer, request.data)
        try:
            services.set_tolerance(workflow, element, data["tolerance"], _user(request))
        except services.QualityRejected as exc:
            return _rejected(exc)
        return Response(_tolerances(workflow))


# --- shadow runs ----------------------------------------------------------------------------


def shadow_body(shadow: ShadowRun) -> dict[str, Any]:
    counts = services.progress(shadow)
    total = counts["total"]
    return {
        "id": shadow.pk,
        "workflow": shadow.workflow_version.workflow.slug,
        "version": shadow.workflow_version.number,
        "version_status": shadow.workflow_version.status,
        "source": shadow.source,
        "case_type": shadow.case_type,
        "purpose": shadow.purpose,
        "status": shadow.status,
        "requested_by": shadow.requested_by.username if shadow.requested_by else None,
        "created_at": shadow.created_at,
        "finished_at": shadow.finished_at,
        **counts,
        "agreement": shadow.cases_agreeing / total if total and shadow.finished_at else None,
    }


def shadow_detail(shadow: ShadowRun) -> dict[str, Any]:
    dataset = parse_dataset(shadow.workflow_version.template_version.dataset)
    elements = []
    for element in dataset.elements():
        counts = shadow.element_agreement.get(element.id)
        if counts:
            elements.append(
                {
                    "element": element.id,
                    "label": dict(element.label),
                    **counts,
                    "agreement": counts["agreed"] / counts["compared"],
                }
            )
    cases = []
    for row in shadow.cases.select_related("case").order_by("id"):
        cases.append(
            {
                "case": row.case_id,
                "accession": row.case.accession,
                "status": row.status,
                "error": row.error,
                "duration_ms": row.duration_ms,
                "compared": row.compared,
                "expected": row.expected,
                "got": row.got,
                "differences": [
                    d for d in case_disagreements(row, dataset) if d["element"] or d["error"]
                ],
            }
        )
    return {**shadow_body(shadow), "elements": elements, "cases": cases}


def _shadow_runs(workflow: Workflow) -> QuerySet[ShadowRun]:
    return ShadowRun.objects.filter(workflow_version__workflow=workflow).select_related(
        "workflow_version__workflow", "workflow_version__template_version", "requested_by"
    )


class ShadowRunListView(APIView):
    permission_classes = [PolicyPermission]
    policy_by_action = {"GET": Permission.DESIGN_READ, "POST": Permission.DESIGN_CHANGE}

    @extend_schema(operation_id="quality_shadow_runs_list", responses=ShadowRunShape(many=True))
    def get(self, request: Request, slug: str) -> Response:
        """The workflow's latest shadow runs (50), newest first, with their progress."""
        workflow = _workflow(request, slug, Permission.DESIGN_READ)
        return Response([shadow_body(s) for s in _shadow_runs(workflow)[:50]])

    @extend_schema(
        operation_id="quality_shadow_runs_create",
        request=StartShadowSerializer,
        responses={201: ShadowRunShape},
    )
    def post(self, request: Request, slug: str) -> Response:
        """Start a shadow run of a version (default: the draft, else the latest published) over
        the golden cases or the last ``limit`` signed cases of a case type."""
        workflow = _workflow(request, slug, Permission.DESIGN_CHANGE)
        data = _valid(StartShadowSerializer, request.data)
        versions = workflow.versions.select_related("workflow", "template_version")
        version: WorkflowVersion | None
        if data.get("version"):
            version = versions.filter(number=data["version"]).first()
        else:
            version = (
                versions.filter(status=VersionStatus.DRAFT).first()
                or versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()
            )
        if version is None:
            return Response({"detail": "the workflow has no such version"}, status=400)
        try:
            shadow = services.start_shadow_run(
                version,
                source=data["source"],
                user=_user(request),
                case_type=data["case_type"],
                limit=data.get("limit", 20),
            )
        except services.QualityRejected as exc:
            return _rejected(exc)
        return Response(shadow_body(shadow), status=status.HTTP_201_CREATED)


class ShadowRunDetailView(APIView):
    permission_classes = [PolicyPermission]
    policy = Permission.DESIGN_READ

    @extend_schema(operation_id="quality_shadow_runs_retrieve", responses=ShadowRunDetailShape)
    def get(self, request: Request, id: int) -> Response:
        """A shadow run: progress, agreement per element, and per case the signed and the
        version's values side by side with the elements that differ."""
        user = _user(request)
        shadow = get_object_or_404(
            ShadowRun.objects.select_related(
                "workflow_version__workflow__department",
                "workflow_version__template_version",
                "requested_by",
            ),
            pk=id,
            workflow_version__workflow__department_id=user.department_id,
        )
        enforce(user, Permission.DESIGN_READ, shadow.workflow_version.workflow)
        return Response(shadow_detail(shadow))


# --- publish gates and the department threshold ----------------------------------------------


class GateListView(APIView):
    permission_classes = [PolicyPermission]
    policy = Permission.DESIGN_READ

    @extend_schema(operation_id="quality_publish_gates_list", responses=GateShape(many=True))
    def get(self, request: Request, slug: str) -> Response:
        """The golden-case verdict of every version offered for publishing: passed, or refused,
        or overridden with a reason."""
        workflow = _workflow(request, slug, Permission.DESIGN_READ)
        gates = PublishGate.objects.filter(workflow_version__workflow=workflow).select_related(
            "workflow_version", "decided_by"
        )
        return Response(
            [
                {
                    "version": g.workflow_version.number,
                    "version_status": g.workflow_version.status,
                    "shadow_run": g.shadow_run_id,
                    "passed": g.passed,
                    "agreement": g.agreement,
                    "threshold": g.threshold,
                    "overridden": g.overridden,
                    "override_reason": g.override_reason,
                    "decided_by": g.decided_by.username if g.decided_by else None,
                    "decided_at": g.decided_at,
                }
                for g in gates.order_by("-workflow_version__number")
            ]
        )


class ThresholdView(APIView):
    permission_classes = [PolicyPermission]
    policy_by_action = {"GET": Permission.DESIGN_READ, "PUT": Permission.DESIGN_CHANGE}

    @extend_schema(operation_id="quality_settings_retrieve", responses=ThresholdSerializer)
    def get(self, request: Request) -> Response:
        """The department's golden-case threshold (fraction of golden cases that must agree)."""
        department = _user(request).department
        assert department is not None  # the policy refuses users without one
        return Response({"golden_threshold": services.golden_threshold(department)})

    @extend_schema(
        operation_id="quality_settings_update",
        request=ThresholdSerializer,
        responses=ThresholdSerializer,
    )
    def put(self, request: Request) -> Response:
        user = _user(request)
        assert user.department is not None
        data = _valid(ThresholdSerializer, request.data)
        try:
            value = services.set_golden_threshold(user.department, data["golden_threshold"], user)
        except services.QualityRejected as exc:
            return _rejected(exc)
        return Response({"golden_threshold": value})


urlpatterns = [
    path("quality/settings", ThresholdView.as_view(), name="quality-settings"),
    path("quality/shadow-runs/<int:id>", ShadowRunDetailView.as_view(), name="shadow-run"),
    path("reports/<int:id>/golden", GoldenReportView.as_view(), name="report-golden"),
    path(
        "workflows/<slug:slug>/golden-cases",
        GoldenCaseListView.as_view(),
        name="workflow-golden-cases",
    ),
    path(
        "workflows/<slug:slug>/golden-cases/<int:case>",
        GoldenCaseDetailView.as_view(),
        name="workflow-golden-case",
    ),
    path(
        "workflows/<slug:slug>/tolerances", ToleranceListView.as_view(), name="workflow-tolerances"
    ),
    path(
        "workflows/<slug:slug>/tolerances/<str:element>",
        ToleranceDetailView.as_view(),
        name="workflow-tolerance",
    ),
    path(
        "workflows/<slug:slug>/shadow-runs",
        ShadowRunListView.as_view(),
        name="workflow-shadow-runs",
    ),
    path("workflows/<slug:slug>/publish-gates", GateListView.as_view(), name="workflow-gates"),
]
