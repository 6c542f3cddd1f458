from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from rest_framework import serializers, viewsets

from orchestrator.accounts.models import User
from orchestrator.reports.models import Report
from orchestrator.runs.models import NodeRun, Run


class NodeRunSerializer(serializers.ModelSerializer[NodeRun]):
    title = serializers.SerializerMethodField()

    class Meta:
        model = NodeRun
        fields = ["node_id", "node_type", "title", "status", "attempt", "duration_ms", "error"]

    def get_title(self, obj: NodeRun) -> str:
        titles: dict[str, str] = self.context.get("titles", {}).get(obj.run_id, {})
        return titles.get(obj.node_id, obj.node_id)


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
            "case",
            "workflow",
            "created_at",
            "started_at",
            "finished_at",
            "error",
            "report",
            "node_runs",
        ]

    def get_case(self, obj: Run) -> dict[str, Any]:
        return {"id": obj.case_id, "accession": obj.case.accession}

    def get_workflow(self, obj: Run) -> dict[str, Any]:
        version = obj.workflow_version
        return {
            "slug": version.workflow.slug,
            "name": version.workflow.name,
            "version": version.number,
        }

    def get_report(self, obj: Run) -> dict[str, Any] | None:
        reports = list(obj.reports.all())
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

    def get_node_runs(self, obj: Run) -> list[dict[str, Any]]:
        # Only the latest attempt of each node: earlier attempts are in the run detail.
        latest: dict[str, NodeRun] = {}
        for row in obj.node_runs.all():
            if row.node_id not in latest or row.attempt > latest[row.node_id].attempt:
                latest[row.node_id] = row
        titles = {
            n["id"]: n.get("title") or n["id"] for n in obj.workflow_version.spec.get("nodes", [])
        }
        context = {**self.context, "titles": {obj.pk: titles}}
        return list(NodeRunSerializer(list(latest.values()), many=True, context=context).data)


class RunViewSet(viewsets.ReadOnlyModelViewSet[Run]):
    """Runs of the signed-in user's department, newest first."""

    serializer_class = RunSerializer

    def get_queryset(self) -> QuerySet[Run]:
        user = self.request.user
        assert isinstance(user, User)
        if user.department_id is None:
            return Run.objects.none()
        return (
            Run.objects.filter(case__department_id=user.department_id)
            .select_related("case", "workflow_version__workflow")
            .prefetch_related("node_runs", Prefetch("reports", Report.objects.all()))
        )
