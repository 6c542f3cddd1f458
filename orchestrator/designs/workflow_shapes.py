"""The shapes of the workflow API's and the node-type palette's answers, for the OpenAPI schema
(and the editor's generated types). The views build plain dicts; these serializers describe them.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from orchestrator.designs.models import VersionStatus
from workflows.ports import PortType


class PortShape(serializers.Serializer[Any]):
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=[(t.value, t.name) for t in PortType])
    # DRF's metaclass takes declared fields off the class, so these names shadow nothing.
    required = serializers.BooleanField()  # type: ignore[assignment]
    multiple = serializers.BooleanField(help_text="more than one edge may arrive at this input")
    title = serializers.CharField()


class NodeTypeShape(serializers.Serializer[Any]):
    name = serializers.CharField()
    version = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    config_schema = serializers.DictField(help_text="JSON Schema of the node's config")
    inputs = PortShape(many=True)
    outputs = PortShape(many=True)
    is_trigger = serializers.BooleanField()
    ports_from_config = serializers.BooleanField(
        help_text="the ports depend on the config: ask node-types/{name}/{version}/ports"
    )


class NodePorts(serializers.Serializer[Any]):
    inputs = PortShape(many=True)
    outputs = PortShape(many=True)
    problems = serializers.ListField(child=serializers.CharField())


class GraphProblemShape(serializers.Serializer[Any]):
    """One problem or warning, naming what it is about (each key may be null)."""

    code = serializers.CharField()
    message = serializers.CharField()
    node_id = serializers.CharField(allow_null=True)
    edge_id = serializers.CharField(allow_null=True)
    port = serializers.CharField(allow_null=True)
    element_id = serializers.CharField(allow_null=True)


class ValidationShape(serializers.Serializer[Any]):
    valid = serializers.BooleanField()
    problems = GraphProblemShape(many=True)
    warnings = GraphProblemShape(many=True)


class TemplateVersionRef(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    version = serializers.IntegerField()


class VersionSummaryShape(serializers.Serializer[Any]):
    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=VersionStatus.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(help_text="send back as base_updated_at when saving")
    updated_by = serializers.CharField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.CharField(allow_null=True)
    published_from = serializers.IntegerField(allow_null=True)
    publish_note = serializers.CharField()
    template = TemplateVersionRef()


class VersionDetailShape(VersionSummaryShape):
    graph = serializers.JSONField(help_text="the graph spec (workflows/spec.py)")


class DraftShape(VersionDetailShape, ValidationShape):
    """The draft with every problem and warning of its graph."""


class WorkflowSummaryShape(serializers.Serializer[Any]):
    slug = serializers.CharField()
    name = serializers.CharField()
    case_type = serializers.CharField()
    description = serializers.CharField()
    published_version = serializers.IntegerField(allow_null=True)
    draft_version = serializers.IntegerField(allow_null=True)


class WorkflowDetailShape(serializers.Serializer[Any]):
    slug = serializers.CharField()
    name = serializers.CharField()
    case_type = serializers.CharField()
    description = serializers.CharField()
    draft = DraftShape(allow_null=True)
    published = VersionSummaryShape(many=True)


class WorkflowCreatedShape(serializers.Serializer[Any]):
    slug = serializers.CharField()
    name = serializers.CharField()
    case_type = serializers.CharField()
    description = serializers.CharField()
    draft = DraftShape()


class WorkflowInvalidShape(serializers.Serializer[Any]):
    detail = serializers.CharField()
    problems = GraphProblemShape(many=True)
    warnings = serializers.ListField(
        child=serializers.JSONField(), help_text="problems as objects; notes about a file as text"
    )


class DraftConflictShape(serializers.Serializer[Any]):
    detail = serializers.CharField()
    updated_by = serializers.CharField(allow_null=True)
    updated_at = serializers.DateTimeField()


class DetailShape(serializers.Serializer[Any]):
    detail = serializers.CharField()


class ChangedNode(serializers.Serializer[Any]):
    id = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]
    config_keys = serializers.ListField(child=serializers.CharField(), help_text="dotted keys")


class NodesDiff(serializers.Serializer[Any]):
    added = serializers.ListField(child=serializers.CharField())
    removed = serializers.ListField(child=serializers.CharField())
    changed = ChangedNode(many=True)
    moved = serializers.ListField(child=serializers.CharField())


class EdgeShape(serializers.Serializer[Any]):
    id = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]
    source_port = serializers.CharField()
    target = serializers.CharField()
    target_port = serializers.CharField()


class EdgesDiff(serializers.Serializer[Any]):
    added = EdgeShape(many=True)
    removed = EdgeShape(many=True)


class TemplateChange(serializers.Serializer[Any]):
    # "from" is a Python keyword: the field is declared below.
    to = serializers.CharField()


TemplateChange._declared_fields["from"] = serializers.CharField()


class VersionDiffShape(serializers.Serializer[Any]):
    to = serializers.IntegerField()
    nodes = NodesDiff()
    edges = EdgesDiff()
    graph = serializers.ListField(child=serializers.CharField())
    template_version = TemplateChange(allow_null=True)


VersionDiffShape._declared_fields["from"] = serializers.IntegerField()


class ImportedShape(ValidationShape):
    workflow = WorkflowSummaryShape()
    version = VersionSummaryShape()
    warnings = serializers.ListField(child=serializers.JSONField())  # type: ignore[assignment]


class SampleCase(serializers.Serializer[Any]):
    name = serializers.CharField(help_text="file name without .json")
    document = serializers.JSONField(help_text="a case document, as test-run's case_document")


class NodeRunResult(serializers.Serializer[Any]):
    node_id = serializers.CharField()
    node_type = serializers.CharField()
    status = serializers.CharField()
    outputs = serializers.JSONField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    version = serializers.IntegerField()


class GoldenDisagreementShape(serializers.Serializer[Any]):
    accession = serializers.CharField()
    element = serializers.CharField(help_text="report element id")
    label = serializers.DictField(  # type: ignore[assignment]
        child=serializers.CharField(), help_text="{zh, en}"
    )
    expected = serializers.JSONField(allow_null=True, help_text="the signed value")
    got = serializers.JSONField(allow_null=True, help_text="the candidate version's value")
    tolerance = serializers.FloatField(allow_null=True)
    error = serializers.CharField(help_text="why the case gave no values (else empty)")


class GoldenGateRefusalShape(serializers.Serializer[Any]):
    """Publishing refused: the draft's golden cases agree below the department's threshold."""

    detail = serializers.CharField()
    shadow_run = serializers.IntegerField()
    agreement = serializers.FloatField(help_text="fraction of golden cases agreeing fully")
    threshold = serializers.FloatField()
    disagreements = GoldenDisagreementShape(many=True)
