"""Serializers of the runs API: a run with its latest attempt per node, and the detail with every
attempt. Node inputs and outputs are included only when the view says the user may see them
(``show_io`` in the context); drafts only for those who review and sign."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orchestrator.accounts.models import User
from orchestrator.designs.models import WorkflowVersion
from orchestrator.runs import api_shapes, observability
from orchestrator.runs.models import NodeRun, Run


def _titles(version: WorkflowVersion) -> dict[str, str]:
    return {
        str(n["id"]): str(n.get("title") or n["id"])
        for n in version.spec.get("nodes", [])
        if isinstance(n, dict) and "id" in n
    }


def _latest_report(run: Run, user: User) -> dict[str, Any] | None:
    """The newest report version of the run that ``user`` may read (drafts only for those who
    review and sign)."""
    reports = [r for r in run.reports.all() if r.readable_by_role(user.role)]
    if not reports:
        return None
    report = max(reports, key=lambda r: r.version_no)
    return {
        "id": report.pk,
        "status": report.status,
        "language": report.language,
        "pdf_url": f"/api/v1/reports/{report.pk}/pdf",
        "sha256": report.pdf_sha256,
    }


class NodeRunSerializer(serializers.ModelSerializer[NodeRun]):
    title = serializers.SerializerMethodField()

    class Meta:
        model = NodeRun
        fields = ["node_id", "node_type", "title", "status", "attempt", "duration_ms", "error"]
        # Answers only: read-only fields are required in the schema (always present).
        read_only_fields = fields

    def get_title(self, obj: NodeRun) -> str:
        titles: dict[str, str] = self.context.get("titles", {}).get(obj.run_id, {})
        return titles.get(obj.node_id, obj.node_id)


class NodeAttemptSerializer(NodeRunSerializer):
    """One attempt of one node, with what it received and returned (None when withheld)."""

    inputs = serializers.SerializerMethodField()
    outputs = serializers.SerializerMethodField()

    class Meta(NodeRunSerializer.Meta):
        fields = [
            *NodeRunSerializer.Meta.fields,
            "inputs",
            "outputs",
            "started_at",
            "finished_at",
            "pinned",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.ANY)
    def get_inputs(self, obj: NodeRun) -> Any:
        return obj.inputs if self.context.get("show_io") else None

    @extend_schema_field(OpenApiTypes.ANY)
    def get_outputs(self, obj: NodeRun) -> Any:
        return obj.outputs if self.context.get("show_io") else None


class RunSerializer(serializers.ModelSerializer[Run]):
    case = serializers.SerializerMethodField()
    workflow = serializers.SerializerMethodField()
    report = serializers.SerializerMethodField()
    node_runs = serializers.SerializerMethodField()

    class Meta:
        model = Run
        fields = [
            "id",
            "status",
            "is_test",
            "case",
            "workflow",
            "created_at",
            "started_at",
            "finished_at",
            "error",
            "report",
            "rerun_of",
            "rerun_from_node",
            "node_runs",
        ]
        read_only_fields = fields

    @extend_schema_field(api_shapes.CaseRef)
    def get_case(self, obj: Run) -> dict[str, Any]:
        return {"id": obj.case_id, "accession": obj.case.accession}

    @extend_schema_field(api_shapes.WorkflowRef)
    def get_workflow(self, obj: Run) -> dict[str, Any]:
        version = obj.workflow_version
        return {
            "slug": version.workflow.slug,
            "name": version.workflow.name,
            "version": version.number,
        }

    @extend_schema_field(api_shapes.ReportRef(allow_null=True))
    def get_report(self, obj: Run) -> dict[str, Any] | None:
        user = self.context["request"].user
        assert isinstance(user, User)
        return _latest_report(obj, user)

    @extend_schema_field(NodeRunSerializer(many=True))
    def get_node_runs(self, obj: Run) -> list[dict[str, Any]]:
        # Only the latest attempt of each node: every attempt is in the run detail.
        latest: dict[str, NodeRun] = {}
        for row in obj.node_runs.all():
            if row.node_id not in latest or row.attempt > latest[row.node_id].attempt:
                latest[row.node_id] = row
        context = {**self.context, "titles": {obj.pk: _titles(obj.workflow_version)}}
        return list(NodeRunSerializer(list(latest.values()), many=True, context=context).data)


class RunDetailSerializer(RunSerializer):
    """A run with the versions it is pinned to, its graph's nodes in execution order, and every
    attempt of every node."""

    template = serializers.SerializerMethodField()
    nodes = serializers.SerializerMethodField()
    requested_by = serializers.SerializerMethodField()
    cancelled_by = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()

    class Meta(RunSerializer.Meta):
        fields = [
            *RunSerializer.Meta.fields,
            "template",
            "nodes",
            "requested_by",
            "cancel_requested_at",
            "cancelled_by",
            "permissions",
        ]
        read_only_fields = fields

    @extend_schema_field(api_shapes.PinnedWorkflow)
    def get_workflow(self, obj: Run) -> dict[str, Any]:
        version = obj.workflow_version
        return {
            **super().get_workflow(obj),
            "version_id": version.pk,
            "version_status": version.status,
        }

    @extend_schema_field(api_shapes.PinnedTemplate)
    def get_template(self, obj: Run) -> dict[str, Any]:
        version = obj.template_version
        return {
            "slug": version.template.slug,
            "name": version.template.name,
            "version": version.number,
            "version_id": version.pk,
        }

    @extend_schema_field(api_shapes.GraphNodeRef(many=True))
    def get_nodes(self, obj: Run) -> list[dict[str, Any]]:
        again = (
            observability.downstream_of(obj.workflow_version.spec, obj.rerun_from_node)
            if obj.rerun_of_id
            else None
        )
        return [
            {
                "node_id": str(n["id"]),
                "node_type": str(n.get("type", "")),
                "title": str(n.get("title") or n["id"]),
                # Checkpoint copied from the run this one re-runs, not executed again.
                "reused": again is not None and str(n["id"]) not in again,
            }
            for n in observability.ordered_nodes(obj.workflow_version.spec)
        ]

    @extend_schema_field(NodeAttemptSerializer(many=True))
    def get_node_runs(self, obj: Run) -> list[dict[str, Any]]:
        rows = sorted(obj.node_runs.all(), key=lambda r: (r.node_id, r.attempt))
        context = {
            **self.context,
            "titles": {obj.pk: _titles(obj.workflow_version)},
        }
        return list(NodeAttemptSerializer(rows, many=True, context=context).data)

    def get_requested_by(self, obj: Run) -> str | None:
        return str(obj.requested_by) if obj.requested_by else None

    def get_cancelled_by(self, obj: Run) -> str | None:
        return str(obj.cancelled_by) if obj.cancelled_by else None

    @extend_schema_field(api_shapes.RunPermissions)
    def get_permissions(self, obj: Run) -> dict[str, bool]:
        return {
            "act": bool(self.context.get("can_act")),
            "see_io": bool(self.context.get("show_io")),
        }
