"""The inbound side of the message console and the routing table, over REST.

GET    integration/inbound-messages/          search: accession, mrn, control_id, status,
                                              received_after, received_before (paginated)
GET    integration/inbound-messages/{id}/     raw and parsed side by side (raw: admins and
                                              integration engineers only)
POST   integration/inbound-messages/{id}/reprocess   a new attempt linked to the original
GET    integration/routing-rules/             the department's routing table
POST   integration/routing-rules/             admins add, change (PATCH/PUT) and delete rules
"""

from __future__ import annotations

import base64
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import api_view, authentication_classes
from rest_framework.request import Request
from rest_framework.response import Response

from orchestrator.accounts.policy import Permission, enforce
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.designs.models import Workflow
from orchestrator.integrations.access import (
    ApiTokenAuthentication,
    department_id,
    sees_raw,
    user_of,
)
from orchestrator.integrations.filters import QueryFilters
from orchestrator.integrations.hl7.message import NotAddressable, decode
from orchestrator.integrations.inbound import reprocess_message
from orchestrator.integrations.inbound_models import InboundMessage, InboundStatus, RoutingRule
from orchestrator.reports.errors import CONFLICT

AUTHENTICATION = [ApiTokenAuthentication, SessionAuthentication]


class InboundMessageSerializer(serializers.ModelSerializer[InboundMessage]):
    status = serializers.CharField(read_only=True, help_text=", ".join(InboundStatus.values))
    workflow: serializers.SlugRelatedField[Workflow] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    reprocessed_as = serializers.SerializerMethodField()

    class Meta:
        model = InboundMessage
        fields = [
            "id",
            "received_at",
            "channel",
            "status",
            "ack_code",
            "message_type",
            "version",
            "sending_application",
            "sending_facility",
            "control_id",
            "accession",
            "patient_mrn",
            "size",
            "problems",
            "error",
            "attempts",
            "duplicates",
            "workflow",
            "case",
            "run",
            "processed_at",
            "reprocess_of",
            "reprocessed_as",
        ]

    def get_reprocessed_as(self, obj: InboundMessage) -> list[int]:
        return [m.pk for m in obj.reprocessed_as.all()]


class InboundMessageDetailSerializer(InboundMessageSerializer):
    """With the raw message (decoded text, and base64 bytes exactly as received) and its
    segments and fields; both null for roles that may not read them."""

    raw_text = serializers.SerializerMethodField()
    raw_base64 = serializers.SerializerMethodField()
    parsed = serializers.SerializerMethodField(
        help_text="its segments with their non-empty fields as received, "
        '[{"segment": "PID", "fields": {"PID-3": "..."}}]; null when withheld or unreadable'
    )
    ack_text = serializers.SerializerMethodField()

    class Meta(InboundMessageSerializer.Meta):
        fields = [
            *InboundMessageSerializer.Meta.fields,
            "codec",
            "peer",
            "raw_text",
            "raw_base64",
            "parsed",
            "ack_text",
        ]

    def _show(self) -> bool:
        return bool(self.context.get("show_raw"))

    def get_raw_text(self, obj: InboundMessage) -> str | None:
        if not self._show():
            return None
        return bytes(obj.raw).decode(obj.codec or "latin-1", errors="replace")

    def get_raw_base64(self, obj: InboundMessage) -> str | None:
        return base64.b64encode(bytes(obj.raw)).decode() if self._show() else None

    def get_ack_text(self, obj: InboundMessage) -> str | None:
        return bytes(obj.ack).decode(obj.codec or "latin-1", errors="replace") or None

    def get_parsed(self, obj: InboundMessage) -> Any:
        if not self._show():
            return None
        try:
            _header, decoded, _problems = decode(bytes(obj.raw), settings.MLLP_DEFAULT_CHARSET)
        except NotAddressable:
            return None
        return decoded.message.parsed() if decoded else None


class RoutingRuleSerializer(serializers.ModelSerializer[RoutingRule]):
    workflow: serializers.SlugRelatedField[Workflow] = serializers.SlugRelatedField(
        slug_field="slug", queryset=Workflow.objects.all()
    )

    class Meta:
        model = RoutingRule
        fields = [
            "id",
            "order_code",
            "specimen_type",
            "workflow",
            "priority",
            "active",
            "description",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_workflow(self, workflow: Workflow) -> Workflow:
        user = self.context["request"].user
        if workflow.department_id != user.department_id:
            raise serializers.ValidationError(f"no workflow {workflow.slug} in your department")
        return workflow

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = self.context["request"].user
        merged = {
            "order_code": getattr(self.instance, "order_code", ""),
            "specimen_type": getattr(self.instance, "specimen_type", ""),
            "active": getattr(self.instance, "active", True),
            **attrs,
        }
        clash = RoutingRule.objects.filter(
            department_id=department_id(user),
            order_code=merged["order_code"],
            specimen_type=merged["specimen_type"],
            active=True,
        )
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if merged["active"] and clash.exists():
            # A conflict with an existing rule, not a malformed request: 409 (reports.errors).
            raise serializers.ValidationError(
                {"order_code": ["an active rule for this order code and specimen type exists"]},
                code=CONFLICT,
            )
        return attrs


@extend_schema(
    parameters=[
        OpenApiParameter("accession", str, description="case accession (exact)"),
        OpenApiParameter("mrn", str, description="patient MRN (exact)"),
        OpenApiParameter("control_id", str, description="MSH-10 (exact)"),
        OpenApiParameter(
            "status", str, enum=InboundStatus.values, description="the message's status"
        ),
        OpenApiParameter("received_after", OpenApiTypes.DATETIME, description="ISO 8601 date-time"),
        OpenApiParameter(
            "received_before", OpenApiTypes.DATETIME, description="ISO 8601 date-time"
        ),
    ]
)
class InboundMessageViewSet(viewsets.ReadOnlyModelViewSet[InboundMessage]):
    """Inbound messages of your department, newest first."""

    authentication_classes = AUTHENTICATION
    serializer_class = InboundMessageSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[InboundMessage]:
        user = user_of(self.request)
        enforce(user, Permission.MESSAGE_READ, attempted="list inbound messages")
        rows = (
            InboundMessage.objects.filter(department_id=department_id(user))
            .prefetch_related("reprocessed_as")
            .select_related("workflow")
        )
        if self.action == "list":
            rows = _filtered(rows, self.request.query_params).defer("raw", "ack")
        return rows

    def get_serializer_class(self) -> type[serializers.BaseSerializer[InboundMessage]]:
        return InboundMessageDetailSerializer if self.action != "list" else InboundMessageSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        user = user_of(self.request)
        return {**super().get_serializer_context(), "show_raw": sees_raw(user)}

    def get_object(self) -> InboundMessage:
        user = user_of(self.request)
        message = InboundMessage.objects.filter(pk=self.kwargs["pk"]).first()
        if message is None:
            raise Http404("no such inbound message")
        enforce(user, Permission.MESSAGE_READ, message, attempted="view an inbound message")
        record_event(
            AuditAction.INBOUND_MESSAGE_VIEWED,
            message,
            actor=user,
            department=user.department,
            raw_shown=sees_raw(user),
        )
        return message


def _filtered(rows: QuerySet[InboundMessage], params: Any) -> QuerySet[InboundMessage]:
    query = QueryFilters(params)
    rows = query.exact(
        rows, [("accession", "accession"), ("mrn", "patient_mrn"), ("control_id", "control_id")]
    )
    rows = query.one_of(rows, "status", "status", InboundStatus.values)
    rows = query.between(rows, "received_at", "received_after", "received_before")
    return query.done(rows)


@extend_schema(request=None, responses={201: InboundMessageDetailSerializer})
@api_view(["POST"])
@authentication_classes(AUTHENTICATION)
def reprocess(request: Request, pk: int) -> Response:
    """Read the message again as a new attempt linked to it, with today's routing table."""
    user = user_of(request)
    message = InboundMessage.objects.filter(pk=pk).first()
    if message is None:
        raise Http404("no such inbound message")
    enforce(user, Permission.INTEGRATION_MANAGE, message, attempted="reprocess a message")
    attempt = reprocess_message(message, user)
    context = {"request": request, "show_raw": True}
    data = InboundMessageDetailSerializer(attempt, context=context).data
    return Response(data, status=status.HTTP_201_CREATED)


class RoutingRuleViewSet(viewsets.ModelViewSet[RoutingRule]):
    """Your department's routing table: order code / specimen type → workflow."""

    authentication_classes = AUTHENTICATION
    serializer_class = RoutingRuleSerializer
    lookup_value_regex = r"\d+"
    # An active rule for the same order code and specimen type exists: 409.
    documents_conflict = True

    def get_queryset(self) -> QuerySet[RoutingRule]:
        user = user_of(self.request)
        enforce(user, Permission.MESSAGE_READ, attempted="list routing rules")
        return RoutingRule.objects.filter(department_id=department_id(user)).select_related(
            "workflow"
        )

    def get_object(self) -> RoutingRule:
        user = user_of(self.request)
        rule = RoutingRule.objects.filter(pk=self.kwargs["pk"]).first()
        if rule is None:
            raise Http404("no such routing rule")
        enforce(user, Permission.MESSAGE_READ, rule, attempted="read a routing rule")
        if self.request.method not in ("GET", "HEAD", "OPTIONS"):
            enforce(user, Permission.INTEGRATION_CONFIGURE, rule, attempted="change a rule")
        return rule

    def perform_create(self, serializer: serializers.BaseSerializer[RoutingRule]) -> None:
        user = user_of(self.request)
        enforce(user, Permission.INTEGRATION_CONFIGURE, attempted="add a routing rule")
        rule = serializer.save(department=user.department)
        record_event(AuditAction.ROUTING_RULE_CREATED, rule, actor=user, department=user.department)

    def perform_update(self, serializer: serializers.BaseSerializer[RoutingRule]) -> None:
        user = user_of(self.request)
        rule = serializer.save()
        record_event(
            AuditAction.ROUTING_RULE_CHANGED,
            rule,
            actor=user,
            department=user.department,
            fields=sorted(serializer.validated_data),
        )

    def perform_destroy(self, instance: RoutingRule) -> None:
        user = user_of(self.request)
        record_event(
            AuditAction.ROUTING_RULE_DELETED, instance, actor=user, department=user.department
        )
        instance.delete()
