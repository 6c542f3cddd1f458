"""Request bodies and answer shapes of the quality API (for validation and the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from orchestrator.designs.models import VersionStatus
from orchestrator.designs.workflow_shapes import GoldenDisagreementShape
from orchestrator.quality.models import (
    ShadowCaseStatus,
    ShadowPurpose,
    ShadowSource,
    ShadowStatus,
)
from orchestrator.quality.services import MAX_RECENT


class MarkGoldenSerializer(serializers.Serializer[Any]):
    accession = serializers.CharField(max_length=64)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class GoldenNoteSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class GoldenCaseShape(serializers.Serializer[Any]):
    case = serializers.IntegerField()
    accession = serializers.CharField()
    case_type = serializers.CharField()
    signed_version = serializers.IntegerField(allow_null=True)
    signed_at = serializers.DateTimeField(allow_null=True)
    marked_by = serializers.CharField(allow_null=True)
    marked_at = serializers.DateTimeField()
    note = serializers.CharField()


class GoldenFromReportShape(GoldenCaseShape):
    workflow = serializers.CharField(help_text="slug of the workflow the case is golden for")


class ToleranceSerializer(serializers.Serializer[Any]):
    tolerance = serializers.FloatField(
        allow_null=True, min_value=0, help_text="largest difference that still agrees; null: exact"
    )


class ToleranceShape(serializers.Serializer[Any]):
    element = serializers.CharField()
    label = serializers.DictField(  # type: ignore[assignment]
        child=serializers.CharField(), help_text="{zh, en}"
    )
    unit = serializers.CharField()
    tolerance = serializers.FloatField(allow_null=True)


class StartShadowSerializer(serializers.Serializer[Any]):
    source = serializers.ChoiceField(choices=ShadowSource.choices)  # type: ignore[assignment]
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="default: the draft, else the latest published"
    )
    case_type = serializers.SlugField(
        required=False, allow_blank=True, default="", help_text="recent: default the workflow's"
    )
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_RECENT, help_text="recent: N (default 20)"
    )


class ShadowRunShape(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    workflow = serializers.CharField()
    version = serializers.IntegerField()
    version_status = serializers.ChoiceField(choices=VersionStatus.choices)
    source = serializers.ChoiceField(choices=ShadowSource.choices)  # type: ignore[assignment]
    case_type = serializers.CharField()
    purpose = serializers.ChoiceField(choices=ShadowPurpose.choices)
    status = serializers.ChoiceField(choices=ShadowStatus.choices)
    requested_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    total = serializers.IntegerField()
    pending = serializers.IntegerField()
    agreed = serializers.IntegerField()
    differed = serializers.IntegerField()
    failed = serializers.IntegerField()
    agreement = serializers.FloatField(
        allow_null=True, help_text="fraction of cases agreeing fully, once finished"
    )


class ElementAgreementShape(serializers.Serializer[Any]):
    element = serializers.CharField()
    label = serializers.DictField(  # type: ignore[assignment]
        child=serializers.CharField(), help_text="{zh, en}"
    )
    compared = serializers.IntegerField()
    agreed = serializers.IntegerField()
    agreement = serializers.FloatField()


class ShadowCaseShape(serializers.Serializer[Any]):
    case = serializers.IntegerField()
    accession = serializers.CharField()
    status = serializers.ChoiceField(choices=ShadowCaseStatus.choices)
    error = serializers.CharField()
    duration_ms = serializers.IntegerField(allow_null=True)
    compared = serializers.ListField(child=serializers.CharField())
    expected = serializers.DictField(help_text="the signed values, element id → value")
    got = serializers.DictField(help_text="the version's values, element id → value")
    differences = GoldenDisagreementShape(many=True)


class ShadowRunDetailShape(ShadowRunShape):
    elements = ElementAgreementShape(many=True)
    cases = ShadowCaseShape(many=True)


class GateShape(serializers.Serializer[Any]):
    version = serializers.IntegerField()
    version_status = serializers.ChoiceField(choices=VersionStatus.choices)
    shadow_run = serializers.IntegerField()
    passed = serializers.BooleanField()
    agreement = serializers.FloatField()
    threshold = serializers.FloatField()
    overridden = serializers.BooleanField()
    override_reason = serializers.CharField()
    decided_by = serializers.CharField(allow_null=True)
    decided_at = serializers.DateTimeField()


class ThresholdSerializer(serializers.Serializer[Any]):
    golden_threshold = serializers.FloatField(min_value=0, max_value=1)
