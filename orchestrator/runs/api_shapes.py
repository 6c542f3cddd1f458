"""The shapes of the run API's nested answers, for the OpenAPI schema.

The runs serializers build these parts with methods (they read prefetched rows and the pinned
graph); these serializers only describe them, so the schema — and the front end's types
generated from it — say exactly what each part holds instead of "an object".
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from orchestrator.designs.models import VersionStatus
from orchestrator.reports.models import ReportStatus
from orchestrator.runs.models import NodeRunStatus, RunStatus


class CaseRef(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    accession = serializers.CharField()


class WorkflowRef(serializers.Serializer[Any]):
    slug = serializers.CharField()
    name = serializers.CharField()
    version = serializers.IntegerField()


class PinnedWorkflow(WorkflowRef):
    version_id = serializers.IntegerField()
    version_status = serializers.ChoiceField(choices=VersionStatus.choices)


class PinnedTemplate(serializers.Serializer[Any]):
    slug = serializers.CharField()
    name = serializers.CharField()
    version = serializers.IntegerField()
    version_id = serializers.IntegerField()


class ReportRef(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ReportStatus.choices)
    language = serializers.CharField()
    pdf_url = serializers.CharField()
    sha256 = serializers.CharField()


class GraphNodeRef(serializers.Serializer[Any]):
    node_id = serializers.CharField()
    node_type = serializers.CharField()
    title = serializers.CharField()
    reused = serializers.BooleanField(help_text="its checkpoint was copied from the re-run run")


class RunPermissions(serializers.Serializer[Any]):
    act = serializers.BooleanField()
    see_io = serializers.BooleanField()


class ProgressAttempt(serializers.Serializer[Any]):
    node_id = serializers.CharField()
    node_type = serializers.CharField()
    attempt = serializers.IntegerField()
    status = serializers.ChoiceField(choices=NodeRunStatus.choices)
    error = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)


class RunProgress(serializers.Serializer[Any]):
    """GET /api/v1/runs/{id}/progress: the run's status and the attempts since the cursor."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=RunStatus.choices)
    active = serializers.BooleanField(help_text="the run may still change on its own")
    error = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    cancel_requested_at = serializers.DateTimeField(allow_null=True)
    cursor = serializers.CharField(allow_null=True, help_text="pass back as `since`")
    node_runs = ProgressAttempt(many=True)


class Problem(serializers.Serializer[Any]):
    """A refusal: what is wrong, and every problem when there are several."""

    detail = serializers.CharField()
    problems = serializers.ListField(child=serializers.CharField(), required=False)
