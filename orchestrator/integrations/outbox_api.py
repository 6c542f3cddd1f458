"""The outbound half of the message console, and delivery routes.

GET  deliveries/                 search (accession, mrn, control_id, status, destination, since,
                                 until), newest first, paginated, of the user's department
GET  deliveries/{id}/            the raw message sent and every attempt with its answer
POST deliveries/{id}/resend      a new delivery linked to the original (201)
GET  delivery-queues             per destination: depth, oldest undelivered, held, open alert
CRUD delivery-routes/            which signed versions go where (admins)

Console users are the department's admins and integration engineers. Every view, change and
denial is audited; a denied user sees 403, another department's delivery is 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from orchestrator.accounts.models import User
from orchestrator.accounts.policy import Permission, enforce, scoped
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.integrations.outbox import ResendRefused, queue_stats, resend_delivery
from orchestrator.integrations.outbox_models import (
    Delivery,
    DeliveryAttempt,
    DeliveryRoute,
    DeliveryStatus,
)
from orchestrator.integrations.parsed import parsed_message
from orchestrator.reports.errors import error_body
from orchestrator.reports.models import ReportStatus
from workflows.channels import CHANNELS


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def check_console_user(user: User, doing: str) -> None:
    """Raise (and audit, ``access.denied``) unless ``user`` may use the message console:
    the policy's INTEGRATION_MANAGE (admins and integration engineers)."""
    enforce(user, Permission.INTEGRATION_MANAGE, attempted=doing)


class AttemptSerializer(serializers.ModelSerializer[DeliveryAttempt]):
    verdict = serializers.CharField(
        read_only=True, help_text="sending, accepted, retry, rejected or interrupted"
    )

    class Meta:
        model = DeliveryAttempt
        fields = ["number", "worker", "started_at", "finished_at", "verdict", "summary", "answer"]


class DeliverySerializer(serializers.ModelSerializer[Delivery]):
    status = serializers.CharField(
        read_only=True, help_text="queued, sending, delivered, failed, stopped or withdrawn"
    )
    destination = serializers.CharField(source="destination.slug")
    accession = serializers.CharField(source="report.case.accession")
    mrn = serializers.CharField(source="report.case.patient_mrn")
    report_version = serializers.IntegerField(source="report.version_no")
    report_status = serializers.CharField(source="report.status")

    class Meta:
        model = Delivery
        fields = [
            "id",
            "status",
            "channel",
            "destination",
            "accession",
            "mrn",
            "report",
            "report_version",
            "report_status",
            "event",
            "control_id",
            "idempotency_key",
            "attempts",
            "queued_at",
            "next_attempt_at",
            "delivered_at",
            "last_error",
            "resend_of",
            "released",
            "run",
            "node_id",
            "route",
            "created_at",
        ]


class DeliveryDetailSerializer(DeliverySerializer):
    attempt_log = AttemptSerializer(many=True)
    parsed = serializers.SerializerMethodField(
        help_text="the message's structure: HL7 segments with their fields, or the JSON; "
        "base64 payloads shown by size"
    )
    resends: serializers.PrimaryKeyRelatedField[Delivery] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )

    class Meta(DeliverySerializer.Meta):
        fields = [
            *DeliverySerializer.Meta.fields,
            "content_type",
            "message",
            "parsed",
            "attempt_log",
            "resends",
        ]

    @extend_schema_field(serializers.JSONField(allow_null=True))
    def get_parsed(self, delivery: Delivery) -> Any:
        return parsed_message(delivery.message, delivery.content_type)


def _when(text: str, name: str, problems: list[str], *, end: bool) -> dt.datetime | None:
    if not text:
        return None
    try:
        day = parse_date(text) if len(text) == 10 else None
        stamp = parse_datetime(text) if day is None else None
    except ValueError:  # well formed but not a real date or time (2026-13-45)
        day = stamp = None
    if day is not None:
        moment: dt.datetime | None = dt.datetime.combine(
            day, dt.time.max if end else dt.time.min, dt.UTC
        )
    else:
        moment = stamp
        if moment is not None and timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
    if moment is None:
        problems.append(f"{name}: {text!r} is not a date (YYYY-MM-DD) or date-time")
    return moment


def search(deliveries: QuerySet[Delivery], params: Any) -> tuple[QuerySet[Delivery], list[str]]:
    """Filter by the console's search fields; every problem listed."""
    problems: list[str] = []
    for name, lookup in (
        ("accession", "report__case__accession"),
        ("mrn", "report__case__patient_mrn"),
        ("control_id", "control_id"),
        ("destination", "destination__slug"),
    ):
        if params.get(name):
            deliveries = deliveries.filter(**{lookup: params[name]})
    if params.get("status"):
        if params["status"] not in DeliveryStatus.values:
            problems.append(
                f"status: {params['status']!r} is not one of {', '.join(DeliveryStatus.values)}"
            )
        deliveries = deliveries.filter(status=params["status"])
    since = _when(params.get("since", ""), "since", problems, end=False)
    until = _when(params.get("until", ""), "until", problems, end=True)
    if since:
        deliveries = deliveries.filter(created_at__gte=since)
    if until:
        deliveries = deliveries.filter(created_at__lte=until)
    return deliveries, problems


# A day (the whole day) or a moment: what _when reads.
DATE_OR_DATETIME = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
}


@extend_schema(
    parameters=[
        OpenApiParameter("accession", str, description="case accession (exact)"),
        OpenApiParameter("mrn", str, description="patient MRN (exact)"),
        OpenApiParameter("control_id", str, description="message control id (MSH-10)"),
        OpenApiParameter(
            "status", str, enum=DeliveryStatus.values, description="the delivery's status"
        ),
        OpenApiParameter("destination", str, description="destination slug"),
        OpenApiParameter(
            "since", DATE_OR_DATETIME, description="queued on or after (date or date-time)"
        ),
        OpenApiParameter(
            "until", DATE_OR_DATETIME, description="queued on or before (date or date-time)"
        ),
    ]
)
class DeliveryViewSet(viewsets.ReadOnlyModelViewSet[Delivery]):
    """Deliveries of the user's department, newest first."""

    serializer_class = DeliverySerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Delivery]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator, not a user
            return Delivery.objects.none()
        user = _user(self.request)
        check_console_user(user, f"{self.action} deliveries")
        department_id = user.department_id
        assert department_id is not None
        found = Delivery.objects.filter(department_id=department_id).select_related(
            "destination", "report__case"
        )
        if self.action == "retrieve":
            found = found.prefetch_related("attempt_log", "resends")
        return found.order_by("-queued_at", "-id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Delivery]]:
        return DeliveryDetailSerializer if self.action != "list" else DeliverySerializer

    @extend_schema(responses={200: DeliverySerializer(many=True)})
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        deliveries, problems = search(self.get_queryset(), request.query_params)
        user = _user(request)
        if problems:
            return Response(error_body(problems), status=status.HTTP_400_BAD_REQUEST)
        page = self.paginate_queryset(deliveries)
        record_event(
            AuditAction.DELIVERY_LISTED,
            user.department or user,
            actor=user,
            department=user.department,
            filters=sorted(k for k in request.query_params if k not in ("limit", "offset")),
        )
        serializer = DeliverySerializer(page, many=True)
        return self.get_paginated_response(serializer.data)

    def get_object(self) -> Delivery:
        try:
            return super().get_object()
        except Http404:
            pk = str(self.kwargs["pk"])
            other = Delivery.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
            if other is not None:  # another department's: audited, answered 404
                enforce(
                    _user(self.request),
                    Permission.INTEGRATION_MANAGE,
                    other,
                    attempted="view a delivery",
                )
            raise Http404("no such delivery") from None

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        delivery = self.get_object()
        record_event(
            AuditAction.DELIVERY_VIEWED,
            delivery,
            actor=_user(request),
            department=delivery.department,
        )
        return Response(DeliveryDetailSerializer(delivery).data)


_REFUSED = inline_serializer("ResendRefused", {"detail": serializers.CharField()})


@extend_schema(request=None, responses={201: DeliveryDetailSerializer, 409: _REFUSED})
@api_view(["POST"])
def resend(request: Request, pk: int) -> Response:
    """Resend a delivery: a new one, linked to the original (audited)."""
    user = _user(request)
    check_console_user(user, "resend a delivery")
    department_id = user.department_id
    assert department_id is not None
    original = Delivery.objects.filter(pk=pk).first()
    if original is None:
        raise Http404("no such delivery")
    enforce(user, Permission.INTEGRATION_MANAGE, original, attempted="resend a delivery")
    try:
        copy = resend_delivery(original, user)
    except ResendRefused as exc:
        record_event(
            AuditAction.DELIVERY_RESEND_REFUSED,
            original,
            actor=user,
            department=original.department,
            reason=str(exc),
        )
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    fresh = Delivery.objects.select_related("destination", "report__case").get(pk=copy.pk)
    return Response(DeliveryDetailSerializer(fresh).data, status=status.HTTP_201_CREATED)


class DeliveryAlertSerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    summary = serializers.CharField()
    opened_at = serializers.DateTimeField()


class DeliveryQueueSerializer(serializers.Serializer[dict[str, Any]]):
    destination = serializers.CharField()
    name = serializers.CharField()
    channel = serializers.CharField()
    enabled = serializers.BooleanField()
    depth = serializers.IntegerField()
    oldest_undelivered_at = serializers.DateTimeField(allow_null=True)
    oldest_age_s = serializers.FloatField(allow_null=True)
    held = serializers.BooleanField()
    alert = DeliveryAlertSerializer(allow_null=True)


@extend_schema(responses=DeliveryQueueSerializer(many=True))
@api_view(["GET"])
def delivery_queues(request: Request) -> Response:
    """Per destination of the department: queue depth and the age of the oldest undelivered."""
    user = _user(request)
    check_console_user(user, "view delivery queues")
    assert user.department is not None
    record_event(
        AuditAction.DELIVERY_QUEUES_VIEWED, user.department, actor=user, department=user.department
    )
    rows = []
    for stats in queue_stats(user.department):
        incident = stats.open_incident
        rows.append(
            {
                "destination": stats.destination.slug,
                "name": stats.destination.name,
                "channel": stats.destination.protocol,
                "enabled": stats.destination.enabled,
                "depth": stats.depth,
                "oldest_undelivered_at": stats.oldest_undelivered_at,
                "oldest_age_s": stats.oldest_age_s,
                "held": stats.held,
                "alert": None
                if incident is None
                else {
                    "id": incident.pk,
                    "kind": incident.kind,
                    "summary": incident.summary,
                    "opened_at": incident.opened_at,
                },
            }
        )
    return Response(DeliveryQueueSerializer(rows, many=True).data)  # type: ignore[arg-type]


# --- routes ----------------------------------------------------------------------------------


class DeliveryRouteSerializer(serializers.ModelSerializer[DeliveryRoute]):
    destination = serializers.SlugRelatedField(
        slug_field="slug", queryset=ModelEndpoint.objects.none()
    )
    case_types = serializers.ListField(child=serializers.SlugField(), required=False)
    report_statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=ReportStatus.choices), allow_empty=False
    )

    class Meta:
        model = DeliveryRoute
        fields = [
            "id",
            "destination",
            "case_types",
            "report_statuses",
            "include_pdf",
            "enabled",
            "created_at",
            "updated_at",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        department_id = getattr(getattr(request, "user", None), "department_id", None)
        if department_id is not None:
            field: Any = self.fields["destination"]
            field.queryset = ModelEndpoint.objects.filter(department_id=department_id)

    def validate_destination(self, value: ModelEndpoint) -> ModelEndpoint:
        if value.protocol not in CHANNELS:
            raise serializers.ValidationError(
                f"'{value.slug}' is a {value.protocol} endpoint, not a delivery destination "
                f"({', '.join(sorted(CHANNELS))})"
            )
        return value


class DeliveryRouteViewSet(viewsets.ModelViewSet[DeliveryRoute]):
    """Delivery routes of the department (admins and integration engineers); every change
    audited."""

    serializer_class = DeliveryRouteSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[DeliveryRoute]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator, not a user
            return DeliveryRoute.objects.none()
        user = _user(self.request)
        check_console_user(user, f"{self.action} delivery routes")
        return scoped(DeliveryRoute.objects.all(), user).select_related("destination")

    def perform_create(self, serializer: serializers.BaseSerializer[DeliveryRoute]) -> None:
        user = _user(self.request)
        route = serializer.save(department=user.department)
        record_event(
            AuditAction.DELIVERY_ROUTE_CREATED,
            route,
            actor=user,
            department=user.department,
            destination=route.destination.slug,
        )

    def perform_update(self, serializer: serializers.BaseSerializer[DeliveryRoute]) -> None:
        user = _user(self.request)
        route = serializer.save()
        record_event(
            AuditAction.DELIVERY_ROUTE_CHANGED,
            route,
            actor=user,
            department=user.department,
            destination=route.destination.slug,
        )

    def perform_destroy(self, instance: DeliveryRoute) -> None:
        user = _user(self.request)
        record_event(
            AuditAction.DELIVERY_ROUTE_DELETED, instance, actor=user, department=user.department
        )
        instance.delete()
