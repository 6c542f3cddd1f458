"""The analytics answers' shapes (the OpenAPI schema and the generated client read these; a
table's CSV columns are its row serializer's fields, in order)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

Row = serializers.Serializer[Any]


def _minutes() -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text="minutes")


class FiltersSerializer(Row):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    case_type = serializers.CharField(allow_blank=True)
    bucket = serializers.CharField()
    time_zone = serializers.CharField(help_text="days are calendar days in this time zone")


class SegmentSummarySerializer(Row):
    case_type = serializers.CharField()
    segment = serializers.CharField()
    n = serializers.IntegerField()
    min = _minutes()
    p25 = _minutes()
    median = _minutes()
    p75 = _minutes()
    p90 = _minutes()
    max = _minutes()
    mean = _minutes()


class TurnaroundDaySerializer(Row):
    day = serializers.DateField()
    case_type = serializers.CharField()
    signed = serializers.IntegerField()
    received_to_signed_median = _minutes()
    received_to_signed_p90 = _minutes()
    draft_to_signed_median = _minutes()
    received_to_delivered_median = _minutes()


class TurnaroundSerializer(Row):
    filters = FiltersSerializer()
    by_case_type = SegmentSummarySerializer(many=True)
    by_day = TurnaroundDaySerializer(many=True)


class ThroughputDaySerializer(Row):
    day = serializers.DateField()
    case_type = serializers.CharField()
    received = serializers.IntegerField()
    draft_ready = serializers.IntegerField()
    signed = serializers.IntegerField()
    delivered = serializers.IntegerField()


class ThroughputSerializer(Row):
    filters = FiltersSerializer()
    by_day = ThroughputDaySerializer(many=True)


class QueueDaySerializer(Row):
    day = serializers.DateField()
    case_type = serializers.CharField()
    waiting = serializers.IntegerField(help_text="drafts waiting for sign-out at the day's end")


class QueueSerializer(Row):
    filters = FiltersSerializer()
    by_day = QueueDaySerializer(many=True)


class AgreementModelSerializer(Row):
    endpoint = serializers.CharField()
    model_name = serializers.CharField(allow_blank=True)
    model_version = serializers.CharField(allow_blank=True)
    element = serializers.CharField()
    accepted = serializers.IntegerField()
    edited = serializers.IntegerField()
    cleared = serializers.IntegerField()
    total = serializers.IntegerField()
    acceptance_rate = serializers.FloatField(help_text="accepted / total")


class AgreementBucketSerializer(Row):
    bucket = serializers.DateField(help_text="the day, or the Monday of the week")
    endpoint = serializers.CharField()
    model_name = serializers.CharField(allow_blank=True)
    model_version = serializers.CharField(allow_blank=True)
    element = serializers.CharField()
    accepted = serializers.IntegerField()
    edited = serializers.IntegerField()
    cleared = serializers.IntegerField()
    total = serializers.IntegerField()
    acceptance_rate = serializers.FloatField(help_text="accepted / total")


class AgreementWorkflowSerializer(Row):
    workflow = serializers.CharField()
    workflow_version = serializers.IntegerField()
    element = serializers.CharField()
    accepted = serializers.IntegerField()
    edited = serializers.IntegerField()
    cleared = serializers.IntegerField()
    total = serializers.IntegerField()
    acceptance_rate = serializers.FloatField(help_text="accepted / total")


class AgreementSerializer(Row):
    filters = FiltersSerializer()
    by_model = AgreementModelSerializer(many=True)
    over_time = AgreementBucketSerializer(many=True)
    by_workflow = AgreementWorkflowSerializer(many=True)


class FailedRunsSerializer(Row):
    day = serializers.DateField()
    case_type = serializers.CharField()
    workflow = serializers.CharField()
    workflow_version = serializers.IntegerField()
    finished = serializers.IntegerField()
    failed = serializers.IntegerField()


class FailedDeliveriesSerializer(Row):
    day = serializers.DateField()
    destination = serializers.CharField()
    channel = serializers.CharField()
    queued = serializers.IntegerField()
    delivered = serializers.IntegerField()
    failed = serializers.IntegerField()
    stopped = serializers.IntegerField()


class FailuresSerializer(Row):
    filters = FiltersSerializer()
    runs = FailedRunsSerializer(many=True)
    deliveries = FailedDeliveriesSerializer(many=True)


class CaseTypesSerializer(Row):
    case_types = serializers.ListField(child=serializers.CharField())
