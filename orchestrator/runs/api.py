"""The runs API: list and detail of runs with every node attempt, cancel, review, re-run from a
node, live progress; test runs and single-node runs of a workflow's draft.

Department-scoped: a run or workflow of another department is 404, and the denial is audited.
Every view of a run's details, every action and every denial is an AuditEvent. Node inputs and
outputs hold case data: they are served to admins and pathologists only and never logged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from orchestrator.accounts.models import User
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.cases.models import Case
from orchestrator.cases.services import CaseDocumentInvalid
from orchestrator.designs.models import VersionStatus, Workflow, WorkflowVersion
from orchestrator.designs.workflow_shapes import NodeRunResult
from orchestrator.reports.models import Report
from orchestrator.runs import api_shapes, observability
from orchestrator.runs.models import NodeRun, Run
from orchestrator.runs.observability import (
    ActionDenied,
    CursorInvalid,
    SingleNodeRejected,
    can_act,
    can_see_io,
)
from orchestrator.runs.serializers import (
    RunDetailSerializer,
    RunSerializer,
)
from orchestrator.runs.services import RunRejected, cancel_run, submit_review


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _flag(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise serializers.ValidationError({"is_test": "must be true or false"})


def _with_details(runs: QuerySet[Run]) -> QuerySet[Run]:
    """What the detail serializer reads, in a fixed number of queries."""
    return runs.select_related(
        "case__department",
        "workflow_version__workflow",
        "template_version__template",
        "requested_by",
        "cancelled_by",
    ).prefetch_related("node_runs", Prefetch("reports", Report.objects.all()))


class RerunBody(serializers.Serializer[Any]):
    from_node = serializers.CharField(max_length=255)


class ReviewBody(serializers.Serializer[Any]):
    node_id = serializers.CharField(max_length=255)
    decision = serializers.CharField(max_length=64)
    values = serializers.DictField(required=False, default=dict)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


def _denied(exc: Exception) -> Response:
    return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)


def _rejected(exc: Exception) -> Response:
    return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)


def _refused(exc: ActionDenied | RunRejected) -> Response:
    return _denied(exc) if isinstance(exc, ActionDenied) else _rejected(exc)


def _valid(serializer_class: type[serializers.Serializer[Any]], request: Request) -> Any:
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


def _problems_of(errors: Any, where: str = "") -> list[str]:
    """A serializer's errors as one line per problem, each naming its field ("pinned.ihc: …")."""
    if isinstance(errors, dict):
        return [
            line
            for key, value in errors.items()
            for line in _problems_of(value, f"{where}.{key}" if where else str(key))
        ]
    if isinstance(errors, list):
        return [line for value in errors for line in _problems_of(value, where)]
    return [f"{where}: {errors}" if where and where != "non_field_errors" else str(errors)]


def _detail(request: Request, run: Run, code: int = status.HTTP_200_OK) -> Response:
    """The run's detail read afresh (an action changed it), as the detail view serves it."""
    fresh = _with_details(Run.objects.filter(pk=run.pk)).get()
    user = _user(request)
    context = {"request": request, "show_io": can_see_io(user), "can_act": can_act(user)}
    return Response(RunDetailSerializer(fresh, context=context).data, status=code)


@extend_schema(
    parameters=[
        OpenApiParameter("status", str, description="run status, e.g. failed"),
        OpenApiParameter("workflow", str, description="workflow slug"),
        OpenApiParameter("accession", str, description="case accession (exact)"),
        OpenApiParameter("is_test", bool, description="test runs of drafts only, or none"),
    ]
)
class RunViewSet(viewsets.ReadOnlyModelViewSet[Run]):
    """Runs of the signed-in user's department, newest first."""

    serializer_class = RunSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Run]:
        runs: QuerySet[Run] = observability.visible_runs(_user(self.request))
        if self.action == "list":
            params = self.request.query_params
            if params.get("status"):
                runs = runs.filter(status=params["status"])
            if params.get("workflow"):
                runs = runs.filter(workflow_version__workflow__slug=params["workflow"])
            if params.get("accession"):
                runs = runs.filter(case__accession=params["accession"])
            is_test = _flag(params.get("is_test"))
            if is_test is not None:
                runs = runs.filter(is_test=is_test)
            return runs.select_related("case", "workflow_version__workflow").prefetch_related(
                Prefetch("node_runs", NodeRun.objects.only(*observability.NODE_RUN_SUMMARY)),
                Prefetch("reports", Report.objects.all()),
            )
        return _with_details(runs)

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Run]]:
        return RunDetailSerializer if self.action != "list" else RunSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        user = _user(self.request)
        return {**super().get_serializer_context(), "show_io": can_see_io(user)}

    def get_object(self) -> Run:
        """The run, or 404 — also for another department's run, whose denial is audited."""
        try:
            return super().get_object()
        except Http404:
            other = Run.objects.select_related("case__department").filter(pk=self.kwargs["pk"])
            found = other.first() if str(self.kwargs["pk"]).isdigit() else None
            if found is not None:
                user = _user(self.request)
                record_event(
                    AuditAction(f"run.{self.action}_denied"),
                    found,
                    actor=user,
                    department=user.department,
                    reason="not visible to this user",
                )
            raise Http404("no such run") from None

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        run = self.get_object()
        user = _user(request)
        record_event(AuditAction.RUN_VIEWED, run, actor=user, department=run.case.department)
        context = {**self.get_serializer_context(), "can_act": can_act(user)}
        return Response(RunDetailSerializer(run, context=context).data)

    def _act(self, run: Run, name: str, exc: ActionDenied | RunRejected) -> Response:
        user = _user(self.request)
        record_event(
            AuditAction(f"run.{name}_denied"),
            run,
            actor=user,
            department=run.case.department,
            reason=str(exc),
        )
        return _refused(exc)

    def _refuse_non_actor(self, run: Run, name: str) -> Response | None:
        """The audited refusal for a user who may not act on runs, before their request body is
        even read (a malformed body must not turn a denial into an unaudited 400)."""
        try:
            observability.check_can_act(_user(self.request), f"{name} a run")
        except ActionDenied as exc:
            return self._act(run, name, exc)
        return None

    def _change(self, run: Run, name: str, change: Callable[[User], object]) -> Response:
        """Action ``name`` by a user who may act on runs: ``change`` the run, answer its detail;
        a denial or refusal is audited."""
        user = _user(self.request)
        try:
            observability.check_can_act(user, f"{name} a run")
            change(user)
        except (ActionDenied, RunRejected) as exc:
            return self._act(run, name, exc)
        return _detail(self.request, run)

    @extend_schema(
        request=None,
        responses={200: RunDetailSerializer, 400: api_shapes.Problem, 403: api_shapes.Problem},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Ask the run to stop: running nodes are cancelled; a queued run never starts."""
        run = self.get_object()
        return self._change(run, "cancel", lambda user: cancel_run(run, user))

    @extend_schema(request=ReviewBody, responses=RunDetailSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        """Submit the decision of a review node that parks the run; the run resumes."""
        run = self.get_object()
        if refused := self._refuse_non_actor(run, "review"):
            return refused
        data = _valid(ReviewBody, request)
        decision = {"decision": data["decision"], "values": data["values"]}
        if data["comment"]:
            decision["comment"] = data["comment"]
        return self._change(
            run, "review", lambda user: submit_review(run, data["node_id"], decision, user)
        )

    @extend_schema(
        request=RerunBody,
        responses={201: RunDetailSerializer, 400: api_shapes.Problem, 403: api_shapes.Problem},
    )
    @action(detail=True, methods=["post"])
    def rerun(self, request: Request, pk: str | None = None) -> Response:
        """Start a new run that reuses every checkpoint upstream of ``from_node``."""
        run = self.get_object()
        if refused := self._refuse_non_actor(run, "rerun"):
            return refused
        from_node = _valid(RerunBody, request)["from_node"]
        try:
            new = observability.rerun_from_node(run, from_node, _user(request))
        except (ActionDenied, RunRejected) as exc:
            return self._act(run, "rerun", exc)
        return _detail(request, new, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("since", str, description="cursor from the last answer")],
        responses={200: api_shapes.RunProgress, 400: api_shapes.Problem},
    )
    @action(detail=True, methods=["get"])
    def progress(self, request: Request, pk: str | None = None) -> Response:
        """Status and node attempts changed since the cursor: cheap enough to poll every second.
        Carries no inputs or outputs (so it is not audited as a view of the run's details)."""
        try:
            since = observability.parse_cursor(request.query_params.get("since"))
        except CursorInvalid as exc:
            return _rejected(exc)
        user = _user(request)
        run = observability.visible_runs(user).filter(pk=pk).first() if str(pk).isdigit() else None
        if run is None:
            self.get_object()  # audits the denial and raises 404
        assert run is not None
        return Response(observability.run_progress(run, since))


class RunActionsWithoutSlash(RunViewSet):
    """The same actions at ``runs/{id}/<action>`` (as documented), besides the router's
    ``runs/{id}/<action>/``; left out of the OpenAPI schema, which lists them once."""

    schema = None


# --- workflow-scoped: test runs and single-node runs of a draft -------------------------------


_WORKFLOW_ACTIONS = {"test_run": "test a workflow", "node_run": "run a single node"}


def _workflow(request: Request, slug: str, action_name: str) -> Workflow:
    """The department's workflow ``slug`` for a user who may try it; anyone else is refused
    (audited) before the request body is read."""
    user = _user(request)
    workflow = Workflow.objects.select_related("department").filter(slug=slug).first()
    if workflow is None or workflow.department_id != user.department_id:
        if workflow is not None:
            record_event(
                AuditAction(f"workflow.{action_name}_denied"),
                workflow,
                actor=user,
                department=user.department,
                reason="another department's workflow",
            )
        raise Http404("no such workflow")
    try:
        observability.check_can_act(user, _WORKFLOW_ACTIONS[action_name])
    except ActionDenied as exc:
        record_event(
            AuditAction(f"workflow.{action_name}_denied"),
            workflow,
            actor=user,
            department=workflow.department,
            reason=str(exc),
        )
        raise PermissionDenied(str(exc)) from None
    return workflow


def _department_case(workflow: Workflow, case_id: Any) -> Case:
    case = None
    if isinstance(case_id, int) and not isinstance(case_id, bool):
        case = Case.objects.filter(pk=case_id, department_id=workflow.department_id).first()
    if case is None:
        raise RunRejected(f"case: no case {case_id!r} in this department")
    return case


class TestRunBody(serializers.Serializer[Any]):
    case = serializers.IntegerField(required=False)
    case_document = serializers.JSONField(required=False)
    pinned = serializers.DictField(
        child=serializers.DictField(),
        required=False,
        help_text=(
            "outputs (port name → value) per node id: these nodes are not executed, their "
            "outputs flow downstream and their checkpoints are marked pinned"
        ),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("case" in attrs) == ("case_document" in attrs):
            raise serializers.ValidationError(
                "give either 'case' (a case id) or 'case_document' (a case document), not both"
            )
        return attrs


@extend_schema(request=TestRunBody, responses={201: RunDetailSerializer, 400: api_shapes.Problem})
@api_view(["POST"])
def workflow_test_run(request: Request, slug: str) -> Response:
    """Run the workflow's draft on a case or on a sample case made from a case document: a test
    run (``is_test``) that never delivers and whose report stays a draft."""
    user = _user(request)
    workflow = _workflow(request, slug, "test_run")
    body = TestRunBody(data=request.data)
    if not body.is_valid():
        problems = _problems_of(body.errors)
        return Response({"detail": "; ".join(problems), "problems": problems}, status=400)
    data = body.validated_data
    try:
        case = _department_case(workflow, data["case"]) if "case" in data else None
        run = observability.start_test_run(
            workflow,
            user,
            case=case,
            case_document=data.get("case_document"),
            pinned=data.get("pinned"),
        )
    except CaseDocumentInvalid as exc:
        record_event(
            AuditAction.WORKFLOW_TEST_RUN_DENIED,
            workflow,
            actor=user,
            department=workflow.department,
        )
        return Response({"detail": str(exc), "problems": exc.problems}, status=400)
    except (ActionDenied, RunRejected) as exc:
        record_event(
            AuditAction.WORKFLOW_TEST_RUN_DENIED,
            workflow,
            actor=user,
            department=workflow.department,
            reason=str(exc),
        )
        return _refused(exc)
    return _detail(request, run, status.HTTP_201_CREATED)


class NodeRunBody(serializers.Serializer[Any]):
    inputs = serializers.JSONField(required=False, default=dict)
    case = serializers.IntegerField(required=False)
    nodes = serializers.JSONField(required=False, default=dict)
    version = serializers.IntegerField(required=False, min_value=1)


def _version_to_try(workflow: Workflow, number: int | None) -> WorkflowVersion:
    versions = workflow.versions.select_related("workflow__department")
    if number is not None:
        found = versions.filter(number=number).first()
        if found is None:
            raise RunRejected(f"version: workflow '{workflow.slug}' has no version {number}")
        return found
    found = versions.filter(status=VersionStatus.DRAFT).order_by("-number").first()
    found = found or versions.order_by("-number").first()
    if found is None:
        raise RunRejected(f"workflow '{workflow.slug}' has no versions")
    return found


@extend_schema(request=NodeRunBody, responses={200: NodeRunResult, 400: api_shapes.Problem})
@api_view(["POST"])
def workflow_node_run(request: Request, slug: str, node_id: str) -> Response:
    """Run one node of the draft (or of ``version``) with pinned inputs, right now, in this
    process; returns its outputs or its error. Nothing is stored except an audit event."""
    user = _user(request)
    workflow = _workflow(request, slug, "node_run")
    data = _valid(NodeRunBody, request)
    try:
        version = _version_to_try(workflow, data.get("version"))
        case = _department_case(workflow, data["case"]) if "case" in data else None
        result = observability.run_single_node(
            version, node_id, data["inputs"], user, case=case, node_outputs=data["nodes"]
        )
    except (ActionDenied, RunRejected, SingleNodeRejected) as exc:
        record_event(
            AuditAction.WORKFLOW_NODE_RUN_DENIED,
            workflow,
            actor=user,
            department=workflow.department,
            node_id=node_id,
            reason=str(exc),
        )
        if isinstance(exc, ActionDenied):
            return _denied(exc)
        problems = exc.problems if isinstance(exc, SingleNodeRejected) else [str(exc)]
        return Response({"detail": str(exc), "problems": problems}, status=400)
    return Response({**result.as_dict(), "version": version.number})
