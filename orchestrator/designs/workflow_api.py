"""The workflows REST API for the editor: workflows, drafts, validation, versions, rollback,
diff, export and import.

Scoping: a user sees the workflows of their own department only; any other department's
workflow answers 404, as if it did not exist. Admins change; pathologists read (as for
templates); other roles get 403. Views parse the request, call one service in
``orchestrator.designs.workflows`` (which validates, changes and audits) and answer; a graph
with problems answers 400 with every problem, each naming its node, edge, port or element.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.db.models import Max, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestrator.accounts.models import User
from orchestrator.accounts.policy import Permission, role_allows
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.designs import workflow_shapes as shapes
from orchestrator.designs.models import TemplateVersion, VersionStatus, Workflow, WorkflowVersion
from orchestrator.designs.workflow_files import (
    export_workflow,
    import_workflow_file,
    version_to_export,
)
from orchestrator.designs.workflows import (
    DraftConflict,
    PublishBlocked,
    Validation,
    WorkflowError,
    WorkflowInvalid,
    check_version,
    check_workflow_graph,
    create_workflow,
    diff_versions,
    draft_of,
    problem_dict,
    publish_draft,
    rollback_to,
    save_draft,
)

# Path segments under workflows/ that are routes, not slugs.
RESERVED_SLUGS = frozenset({"import"})


# --- access ---------------------------------------------------------------------------------


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsAuthenticated runs first
    return user


def _workflows(request: Request) -> QuerySet[Workflow]:
    """The workflows this user may read: their department's, if their role reads designs."""
    user = _user(request)
    if not role_allows(user.role, Permission.DESIGN_READ):
        raise PermissionDenied("your role cannot see workflow designs")
    if user.department_id is None:
        return Workflow.objects.none()
    return Workflow.objects.filter(department_id=user.department_id).select_related("department")


def _workflow(request: Request, slug: str) -> Workflow:
    workflow: Workflow = get_object_or_404(_workflows(request), slug=slug)
    return workflow


def _require_admin(request: Request, action: str, workflow: Workflow | None = None) -> User:
    user = _user(request)
    if not role_allows(user.role, Permission.DESIGN_CHANGE):
        if workflow is not None:
            record_event(
                AuditAction.WORKFLOW_DENIED,
                workflow,
                actor=user,
                department=workflow.department,
                attempted=action,
            )
        raise PermissionDenied("only a department admin can change workflows")
    return user


def _workflow_to_change(request: Request, slug: str, action: str) -> tuple[Workflow, User]:
    """The workflow ``slug`` and the admin changing it; anyone else's attempt is audited."""
    workflow = _workflow(request, slug)
    return workflow, _require_admin(request, action, workflow)


def _latest_template_version(request: Request, slug: str) -> TemplateVersion:
    """The department template ``slug``'s latest published version, else its draft."""
    department_id = _user(request).department_id
    versions = TemplateVersion.objects.filter(
        template__slug=slug, template__department_id=department_id or 0
    ).select_related("template")
    version = (
        versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()
        or versions.order_by("-number").first()
    )
    if version is None:
        raise WorkflowError(f"template '{slug}' does not exist in this department")
    return version


def _template_version(request: Request, pk: Any) -> TemplateVersion | None:
    department_id = _user(request).department_id
    if pk is None or department_id is None:
        return None
    version = (
        TemplateVersion.objects.filter(pk=pk, template__department_id=department_id)
        .select_related("template")
        .first()
    )
    if version is None:
        raise WorkflowError(f"template version {pk} does not exist in this department")
    return version


# --- responses ------------------------------------------------------------------------------


def version_summary(version: WorkflowVersion) -> dict[str, Any]:
    template_version = version.template_version
    return {
        "number": version.number,
        "status": version.status,
        "created_at": version.created_at,
        "updated_at": version.updated_at,
        "updated_by": str(version.updated_by) if version.updated_by else None,
        "published_at": version.published_at,
        "created_by": version.created_by.username if version.created_by else None,
        "published_from": version.published_from.number if version.published_from else None,
        "publish_note": version.publish_note,
        "template": {
            "id": template_version.pk,
            "slug": template_version.template.slug,
            "version": template_version.number,
        },
    }


def version_detail(
    version: WorkflowVersion, validation: Validation | None = None
) -> dict[str, Any]:
    body = {**version_summary(version), "graph": version.spec}
    if validation is not None:
        body.update(validation.as_dict())
    return body


def _versions(workflow: Workflow) -> QuerySet[WorkflowVersion]:
    return workflow.versions.select_related(
        "template_version__template", "published_from", "created_by", "updated_by"
    ).order_by("-number")


def _invalid(exc: WorkflowInvalid) -> Response:
    return Response(
        {
            "detail": f"the workflow has {len(exc.problems)} problem(s)",
            "problems": [problem_dict(p) for p in exc.problems],
            "warnings": [*exc.notes, *(problem_dict(w) for w in exc.warnings)],
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


def _error(exc: WorkflowError) -> Response:
    return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)


def _new_version(publish: Callable[[], WorkflowVersion]) -> Response:
    """201 with the summary of the version ``publish`` made, or 400 with why it made none."""
    try:
        version = publish()
    except WorkflowInvalid as exc:
        return _invalid(exc)
    except PublishBlocked as exc:
        return Response({"detail": str(exc), **exc.body}, status=status.HTTP_409_CONFLICT)
    except WorkflowError as exc:
        return _error(exc)
    return Response(version_summary(version), status=status.HTTP_201_CREATED)


def workflow_body(workflow: Workflow) -> dict[str, Any]:
    return {
        "slug": workflow.slug,
        "name": workflow.name,
        "case_type": workflow.case_type,
        "description": workflow.description,
    }


# --- request bodies -------------------------------------------------------------------------


class WorkflowCreateSerializer(serializers.Serializer[Any]):
    slug = serializers.SlugField(max_length=50)
    name = serializers.CharField(max_length=200)
    case_type = serializers.SlugField(max_length=64)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    template_version = serializers.IntegerField(
        required=False, help_text="id of the template version (or give `template`)"
    )
    template = serializers.SlugField(
        required=False,
        help_text="slug of a department template: its latest published version (else its draft)",
    )
    graph = serializers.JSONField(required=False, help_text="graph spec; default: a trigger")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("template_version" in attrs) == ("template" in attrs):
            raise serializers.ValidationError(
                "give either 'template_version' (an id) or 'template' (a slug)"
            )
        return attrs


class DraftSerializer(serializers.Serializer[Any]):
    graph = serializers.JSONField(help_text="the graph spec (workflows/spec.py)")
    template_version = serializers.IntegerField(required=False, help_text="template version id")
    base_updated_at = serializers.DateTimeField(
        required=False,
        help_text="updated_at of the draft you edited: if it was saved since, 409 (no overwrite)",
    )

    def validate_graph(self, value: Any) -> Any:
        # A draft may have problems, but it must be a graph document the editor can reopen.
        if not isinstance(value, dict):
            raise serializers.ValidationError("the graph must be a JSON object")
        return value


class ValidateSerializer(serializers.Serializer[Any]):
    graph = serializers.JSONField(required=False, help_text="default: the saved draft")
    template_version = serializers.IntegerField(required=False, help_text="template version id")


class PublishSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="publish although the golden cases disagree (audited, shown in the history)",
    )


class RollbackSerializer(serializers.Serializer[Any]):
    version = serializers.IntegerField(min_value=1, help_text="the published version to restore")


class ImportSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(required=False, help_text="an export file (JSON)")


def _valid(serializer_class: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- views ----------------------------------------------------------------------------------


class WorkflowListView(APIView):
    @extend_schema(operation_id="workflows_list", responses=shapes.WorkflowSummaryShape(many=True))
    def get(self, request: Request) -> Response:
        """The department's workflows with their latest published and draft numbers."""
        rows = _workflows(request).annotate(
            published=Max("versions__number", filter=Q(versions__status=VersionStatus.PUBLISHED)),
            draft=Max("versions__number", filter=Q(versions__status=VersionStatus.DRAFT)),
        )
        return Response(
            [
                {
                    **workflow_body(w),
                    "published_version": w.published,
                    "draft_version": w.draft,
                }
                for w in rows.order_by("slug")
            ]
        )

    @extend_schema(
        request=WorkflowCreateSerializer,
        responses={201: shapes.WorkflowCreatedShape, 400: shapes.DetailShape},
    )
    def post(self, request: Request) -> Response:
        """Create a workflow and its first draft."""
        user = _require_admin(request, "create")
        data = _valid(WorkflowCreateSerializer, request.data)
        if data["slug"] in RESERVED_SLUGS:
            return Response({"detail": f"'{data['slug']}' cannot be a workflow slug"}, status=400)
        try:
            template_version = (
                _template_version(request, data["template_version"])
                if "template_version" in data
                else _latest_template_version(request, data["template"])
            )
            if template_version is None or user.department is None:
                raise WorkflowError("a template version of your department is needed")
            workflow, validation = create_workflow(
                user.department,
                slug=data["slug"],
                name=data["name"],
                case_type=data["case_type"],
                description=data["description"],
                template_version=template_version,
                spec=data.get("graph"),
                user=user,
            )
        except WorkflowError as exc:
            return _error(exc)
        draft = draft_of(workflow)
        assert draft is not None
        body = {**workflow_body(workflow), "draft": version_detail(draft, validation)}
        return Response(body, status=status.HTTP_201_CREATED)


class WorkflowDetailView(APIView):
    @extend_schema(responses=shapes.WorkflowDetailShape)
    def get(self, request: Request, slug: str) -> Response:
        """A workflow with its draft (graph, problems, warnings) and its published versions."""
        workflow = _workflow(request, slug)
        versions = list(_versions(workflow))
        draft = next((v for v in versions if v.status == VersionStatus.DRAFT), None)
        published = [v for v in versions if v.status == VersionStatus.PUBLISHED]
        return Response(
            {
                **workflow_body(workflow),
                "draft": version_detail(draft, check_version(draft)) if draft else None,
                "published": [version_summary(v) for v in published],
            }
        )


class DraftView(APIView):
    @extend_schema(
        request=DraftSerializer,
        responses={
            200: shapes.DraftShape,
            400: shapes.DetailShape,
            409: shapes.DraftConflictShape,
        },
    )
    def put(self, request: Request, slug: str) -> Response:
        """Save the draft, even with problems; every problem and warning comes back."""
        workflow, user = _workflow_to_change(request, slug, "save_draft")
        data = _valid(DraftSerializer, request.data)
        try:
            template_version = _template_version(request, data.get("template_version"))
            draft, validation = save_draft(
                workflow,
                data["graph"],
                template_version=template_version,
                user=user,
                expected_updated_at=data.get("base_updated_at"),
            )
        except DraftConflict as exc:
            return Response(
                {"detail": str(exc), "updated_by": exc.updated_by, "updated_at": exc.updated_at},
                status=status.HTTP_409_CONFLICT,
            )
        except WorkflowError as exc:
            return _error(exc)
        return Response(version_detail(draft, validation))


class ValidateView(APIView):
    @extend_schema(
        request=ValidateSerializer,
        responses={200: shapes.ValidationShape, 400: shapes.DetailShape},
    )
    def post(self, request: Request, slug: str) -> Response:
        """Problems and warnings of a graph (default: the draft), without saving anything."""
        workflow = _workflow(request, slug)
        data = _valid(ValidateSerializer, request.data)
        draft = draft_of(workflow)
        latest = draft or workflow.published_version()
        try:
            template_version = _template_version(request, data.get("template_version")) or (
                latest.template_version if latest else None
            )
        except WorkflowError as exc:
            return _error(exc)
        if "graph" in data:
            graph = data["graph"]
        elif draft is not None:
            graph = draft.spec
        else:
            return Response({"detail": f"workflow '{slug}' has no draft to validate"}, status=400)
        validation = check_workflow_graph(
            workflow.department, graph, template_version, slug=workflow.slug
        )
        return Response(validation.as_dict())


class PublishView(APIView):
    @extend_schema(
        request=PublishSerializer,
        responses={
            201: shapes.VersionSummaryShape,
            400: shapes.WorkflowInvalidShape,
            409: shapes.GoldenGateRefusalShape,
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        """Publish the draft with a note; 400 with every problem when it has any."""
        workflow, user = _workflow_to_change(request, slug, "publish")
        data = _valid(PublishSerializer, request.data)
        return _new_version(
            lambda: publish_draft(
                workflow,
                user=user,
                note=data["note"],
                override_reason=data.get("override_reason", ""),
            )
        )


class VersionListView(APIView):
    @extend_schema(
        operation_id="workflows_versions_list", responses=shapes.VersionSummaryShape(many=True)
    )
    def get(self, request: Request, slug: str) -> Response:
        """Every version, newest first."""
        workflow = _workflow(request, slug)
        return Response([version_summary(v) for v in _versions(workflow)])


class VersionDetailView(APIView):
    @extend_schema(responses=shapes.VersionDetailShape)
    def get(self, request: Request, slug: str, number: int) -> Response:
        """One version with its graph."""
        workflow = _workflow(request, slug)
        version = get_object_or_404(_versions(workflow), number=number)
        return Response(version_detail(version))


class DiffView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("from", int, required=True, description="older version number"),
            OpenApiParameter("to", int, required=True, description="newer version number"),
        ],
        responses={200: shapes.VersionDiffShape, 400: shapes.DetailShape, 404: shapes.DetailShape},
    )
    def get(self, request: Request, slug: str) -> Response:
        """Nodes and edges added, removed or changed between two versions."""
        workflow = _workflow(request, slug)
        numbers = {}
        for key in ("from", "to"):
            raw = request.query_params.get(key, "")
            if not raw.isdigit():
                return Response({"detail": f"'{key}' must be a version number"}, status=400)
            numbers[key] = int(raw)
        versions = {v.number: v for v in _versions(workflow).filter(number__in=numbers.values())}
        missing = [str(n) for n in numbers.values() if n not in versions]
        if missing:
            return Response(
                {"detail": f"workflow '{slug}' has no version {', '.join(missing)}"}, status=404
            )
        return Response(diff_versions(versions[numbers["from"]], versions[numbers["to"]]))


class RollbackView(APIView):
    @extend_schema(
        request=RollbackSerializer,
        responses={201: shapes.VersionSummaryShape, 400: shapes.WorkflowInvalidShape},
    )
    def post(self, request: Request, slug: str) -> Response:
        """Publish an older version again as a new version."""
        workflow, user = _workflow_to_change(request, slug, "rollback")
        data = _valid(RollbackSerializer, request.data)
        return _new_version(lambda: rollback_to(workflow, data["version"], user=user))


class ExportView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("version", int, description="default: latest published")],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        """The export file of a version, as a JSON download."""
        workflow = _workflow(request, slug)
        raw = request.query_params.get("version")
        if raw is not None and not raw.isdigit():
            return Response({"detail": "'version' must be a version number"}, status=400)
        try:
            number = version_to_export(workflow, int(raw) if raw else None).number
            document = export_workflow(workflow, number, user=_user(request))
        except WorkflowError as exc:
            return Response({"detail": str(exc)}, status=404)
        response = HttpResponse(
            json.dumps(document, ensure_ascii=False, indent=2),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{slug}-v{number}.json"'
        return response


class ImportView(APIView):
    @extend_schema(
        request={"multipart/form-data": ImportSerializer, "application/json": OpenApiTypes.OBJECT},
        parameters=[OpenApiParameter("draft", bool, description="save as the draft instead")],
        responses={201: shapes.ImportedShape, 400: shapes.WorkflowInvalidShape},
    )
    def post(self, request: Request) -> Response:
        """Import an export file (uploaded as `file`, or as the JSON body): a new published
        version, or with `?draft=true` the draft."""
        user = _require_admin(request, "import")
        upload = request.FILES.get("file")
        if upload is not None:
            try:
                document = json.loads(upload.read().decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                return Response({"detail": f"the file is not valid JSON: {exc}"}, status=400)
        else:
            document = request.data
        draft = request.query_params.get("draft", "").lower() in ("1", "true", "yes")
        assert user.department is not None
        try:
            result = import_workflow_file(user.department, document, user=user, publish=not draft)
        except WorkflowInvalid as exc:
            return _invalid(exc)
        except WorkflowError as exc:
            return _error(exc)
        return Response(
            {
                "workflow": workflow_body(result.version.workflow),
                "version": version_summary(result.version),
                "warnings": result.warnings,
                **{k: v for k, v in result.validation.as_dict().items() if k != "warnings"},
            },
            status=status.HTTP_201_CREATED,
        )


# Added to orchestrator/api_urls.py after the explicit workflows/<slug>/... routes of runs.
urlpatterns = [
    path("workflows", WorkflowListView.as_view(), name="workflow-list"),
    path("workflows/import", ImportView.as_view(), name="workflow-import"),
    path("workflows/<slug:slug>", WorkflowDetailView.as_view(), name="workflow-detail"),
    path("workflows/<slug:slug>/draft", DraftView.as_view(), name="workflow-draft"),
    path("workflows/<slug:slug>/validate", ValidateView.as_view(), name="workflow-validate"),
    path("workflows/<slug:slug>/publish", PublishView.as_view(), name="workflow-publish"),
    path("workflows/<slug:slug>/versions", VersionListView.as_view(), name="workflow-versions"),
    path(
        "workflows/<slug:slug>/versions/<int:number>",
        VersionDetailView.as_view(),
        name="workflow-version",
    ),
    path("workflows/<slug:slug>/diff", DiffView.as_view(), name="workflow-diff"),
    path("workflows/<slug:slug>/rollback", RollbackView.as_view(), name="workflow-rollback"),
    path("workflows/<slug:slug>/export", ExportView.as_view(), name="workflow-export"),
]
