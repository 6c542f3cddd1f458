"""REST API of the endpoint catalog: model endpoints and delivery destinations.

Admins of a department only (the policy's ``design.change``: endpoints are what workflows are
built from): anyone else is refused (403) and the refusal audited (``access.denied``); an entry
of another department is 404. Refused changes answer 400 with ``{"problems": [...]}``.

    GET    catalog/protocols/                      the protocols on offer (engine registries)
    GET    catalog/endpoints/?kind=model|destination   the department's entries
    POST   catalog/endpoints/                      register one
    GET    catalog/endpoints/{slug}/               one entry
    PATCH  catalog/endpoints/{slug}/               change it (not its slug: graphs name it)
    POST   catalog/endpoints/{slug}/disable/       runs calling it fail, naming it
    POST   catalog/endpoints/{slug}/enable/
    POST   catalog/endpoints/{slug}/test-call/     call it once with a sample request
    GET    catalog/endpoints/{slug}/used-by/       workflows whose graphs name it
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestrator.accounts.models import User
from orchestrator.accounts.policy import Permission, PolicyPermission
from orchestrator.catalog import services
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.catalog.services import CatalogInvalid
from orchestrator.runs.api_shapes import Problem

# Refusals every operation may answer: not an admin of a department (403); on one entry, an
# entry of another department or none (404).
_DENIED = {403: Problem}
_ENTRY = {403: Problem, 404: Problem}


class ProtocolSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    title = serializers.CharField()
    kind = serializers.ChoiceField(
        choices=[services.MODEL, services.DESTINATION],
        help_text="model: called by model-call and map nodes; destination: receives reports",
    )


class CatalogEntrySerializer(serializers.ModelSerializer[ModelEndpoint]):
    # Plain text checked against the engine's registries (not the model's choices), so that a
    # new protocol class needs no migration.
    protocol = serializers.CharField(max_length=32)
    kind = serializers.SerializerMethodField()
    secret_ref = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="NAME of the environment variable holding the secret on the workers",
    )
    max_attempts = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=services.MAX_DELIVERY_ATTEMPTS,
        help_text="a delivery destination's attempts before a delivery to it fails and holds "
        "the destination (null: the deployment's PATHFLOW_DELIVERY_MAX_ATTEMPTS); "
        "destinations only",
    )

    outputs = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField()),
        required=False,
        help_text='what each output measures, e.g. {"ki67_index": {"marker": "Ki-67", '
        '"stain": "IHC", "unit": "%"}}',
    )

    class Meta:
        model = ModelEndpoint
        # What an admin edits is what the services check and store (services.EDITABLE).
        fields = ["slug", "kind", *services.EDITABLE, "enabled", "created_at", "updated_at"]
        read_only_fields = ["kind", "enabled", "created_at", "updated_at"]

    def get_kind(self, obj: ModelEndpoint) -> str:
        return services.kind_of(obj.protocol)


class CatalogEntryChangeSerializer(CatalogEntrySerializer):
    class Meta(CatalogEntrySerializer.Meta):
        read_only_fields = ["slug", *CatalogEntrySerializer.Meta.read_only_fields]


class TestCallRequestSerializer(serializers.Serializer[dict[str, Any]]):
    request = serializers.JSONField(
        help_text="the protocol part of a model-call node's config, e.g. for "
        "open_inference_v2 {inputs: [{name, datatype, shape, value}], outputs?}; its "
        "expressions read the sample case as case.*"
    )
    case = serializers.JSONField(
        required=False, default=dict, help_text="sample case data the expressions read"
    )


class TestCallResultSerializer(serializers.Serializer[Any]):
    ok = serializers.BooleanField()
    outputs = serializers.DictField(help_text="the model's outputs by name (when ok)")
    model_name = serializers.CharField(allow_blank=True)
    model_version = serializers.CharField(allow_blank=True)
    error = serializers.CharField(allow_blank=True, help_text="what went wrong (when not ok)")
    duration_ms = serializers.IntegerField()


class UseSerializer(serializers.Serializer[Any]):
    workflow = serializers.CharField(help_text="the workflow's slug")
    name = serializers.CharField()
    version = serializers.IntegerField()
    status = serializers.CharField(help_text="draft or published")
    nodes = serializers.ListField(child=serializers.CharField(), help_text="node ids naming it")


_PROBLEMS = inline_serializer(
    "CatalogProblems", {"problems": serializers.ListField(child=serializers.CharField())}
)
_KIND = OpenApiParameter(
    "kind", OpenApiTypes.STR, enum=[services.MODEL, services.DESTINATION], required=False
)


def _user(request: Request) -> User:
    assert isinstance(request.user, User)  # PolicyPermission admits only signed-in users
    return request.user


def _refused(exc: CatalogInvalid) -> Response:
    return Response({"problems": exc.problems}, status=status.HTTP_400_BAD_REQUEST)


def _field_problems(errors: Any) -> list[str]:
    return [
        f"{name}: {message}"
        for name, messages in errors.items()
        for message in (messages if isinstance(messages, list) else [messages])
    ]


class CatalogProtocols(APIView):
    """The protocols an entry may have, from the engine's registries."""

    permission_classes = [PolicyPermission]
    policy = Permission.DESIGN_CHANGE

    @extend_schema(responses={200: ProtocolSerializer(many=True), **_DENIED})
    def get(self, request: Request) -> Response:
        return Response(ProtocolSerializer(services.catalog_kinds(), many=True).data)


@extend_schema_view(retrieve=extend_schema(responses={200: CatalogEntrySerializer, **_ENTRY}))
class CatalogEntryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[ModelEndpoint]
):
    """The catalog of the signed-in admin's department."""

    serializer_class = CatalogEntrySerializer
    permission_classes = [PolicyPermission]
    policy = Permission.DESIGN_CHANGE
    lookup_field = "slug"

    def get_queryset(self) -> QuerySet[ModelEndpoint]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular building the schema
            return ModelEndpoint.objects.none()
        department_id = _user(self.request).department_id
        assert department_id is not None  # PolicyPermission admits department admins only
        entries = services.department_entries(department_id)
        kind = self.request.query_params.get("kind")
        if self.action == "list" and kind in (services.MODEL, services.DESTINATION):
            names = [k.name for k in services.catalog_kinds() if k.kind == kind]
            entries = entries.filter(protocol__in=names)
        return entries

    @extend_schema(
        parameters=[_KIND], responses={200: CatalogEntrySerializer(many=True), **_DENIED}
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=CatalogEntrySerializer,
        responses={201: CatalogEntrySerializer, 400: _PROBLEMS, **_DENIED},
    )
    def create(self, request: Request) -> Response:
        serializer = CatalogEntrySerializer(data=request.data)
        if not serializer.is_valid():
            return Response(
                {"problems": _field_problems(serializer.errors)},
                status=status.HTTP_400_BAD_REQUEST,
            )
        values = dict(serializer.validated_data)
        user = _user(request)
        assert user.department is not None
        try:
            entry = services.register_entry(user.department, values.pop("slug"), values, user)
        except CatalogInvalid as exc:
            return _refused(exc)
        return Response(CatalogEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=CatalogEntryChangeSerializer,
        responses={200: CatalogEntrySerializer, 400: _PROBLEMS, **_ENTRY},
    )
    def partial_update(self, request: Request, slug: str) -> Response:
        entry = self.get_object()
        serializer = CatalogEntryChangeSerializer(entry, data=request.data, partial=True)
        if not serializer.is_valid():
            return Response(
                {"problems": _field_problems(serializer.errors)},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            entry = services.update_entry(entry, dict(serializer.validated_data), _user(request))
        except CatalogInvalid as exc:
            return _refused(exc)
        return Response(CatalogEntrySerializer(entry).data)

    @extend_schema(request=None, responses={200: CatalogEntrySerializer, **_ENTRY})
    @action(detail=True, methods=["post"])
    def disable(self, request: Request, slug: str) -> Response:
        entry = services.set_enabled(self.get_object(), False, _user(request))
        return Response(CatalogEntrySerializer(entry).data)

    @extend_schema(request=None, responses={200: CatalogEntrySerializer, **_ENTRY})
    @action(detail=True, methods=["post"])
    def enable(self, request: Request, slug: str) -> Response:
        entry = services.set_enabled(self.get_object(), True, _user(request))
        return Response(CatalogEntrySerializer(entry).data)

    @extend_schema(
        request=TestCallRequestSerializer,
        responses={200: TestCallResultSerializer, 400: _PROBLEMS, **_ENTRY},
    )
    @action(detail=True, methods=["post"], url_path="test-call")
    def test_call(self, request: Request, slug: str) -> Response:
        entry = self.get_object()
        serializer = TestCallRequestSerializer(data=request.data)
        if not serializer.is_valid():
            return Response(
                {"problems": _field_problems(serializer.errors)},
                status=status.HTTP_400_BAD_REQUEST,
            )
        body = serializer.validated_data
        try:
            result = services.test_call(entry, body["request"], body["case"], _user(request))
        except CatalogInvalid as exc:
            return _refused(exc)
        return Response(TestCallResultSerializer(result).data)

    @extend_schema(responses={200: UseSerializer(many=True), **_ENTRY})
    @action(detail=True, methods=["get"], url_path="used-by", pagination_class=None)
    def used_by(self, request: Request, slug: str) -> Response:
        return Response(UseSerializer(services.used_by(self.get_object()), many=True).data)
