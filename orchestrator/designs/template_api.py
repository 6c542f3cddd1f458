"""REST API for report templates and their versions (the template designer's back end).

Department-scoped: a user sees only their department's templates (others are 404). Admins and
pathologists read and validate filled values; only admins change anything. Refused changes
answer 400 with ``{"problems": [...]}`` listing every problem.

    GET    templates/                                  templates with latest published / draft
    POST   templates/                                  new template with its draft v1
    GET    templates/{slug}/                           one template
    GET    templates/{slug}/versions/                  its versions, newest first
    GET    templates/{slug}/versions/{n}/              one version: dataset and layout
    PUT    templates/{slug}/draft/                     create or update the draft
    DELETE templates/{slug}/draft/                     discard the draft
    POST   templates/{slug}/versions/{n}/publish/      publish the draft v{n}
    POST   templates/{slug}/versions/{n}/new-draft/    a draft with the content of v{n}
    POST   templates/{slug}/versions/{n}/validate/     every problem of filled values
    GET    templates/{slug}/diff/?from=N&to=M          what changed from vN to vM
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestrator.accounts.models import User
from orchestrator.accounts.policy import Permission, role_allows
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.designs.models import ReportTemplate, TemplateVersion, VersionStatus
from orchestrator.designs.templates import (
    TemplateContent,
    TemplateInvalid,
    create_template,
    diff_versions,
    discard_draft,
    draft_of,
    findings_problems_for,
    new_draft_from,
    publish_version,
    save_draft,
)

# "templates/preview" belongs to the live preview endpoint; no template may take that slug.
RESERVED_SLUGS = frozenset({"preview"})
READ_ACTIONS = frozenset({"validate_values"})  # POST, but changes nothing


class TemplatePermission(BasePermission):
    """Department members who are admins or pathologists read; only admins change."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not isinstance(user, User) or user.department_id is None:
            return False
        action = getattr(view, "action", None)
        reading = request.method in SAFE_METHODS or action in READ_ACTIONS
        needed = Permission.DESIGN_READ if reading else Permission.DESIGN_CHANGE
        allowed = role_allows(user.role, needed)
        if not allowed:
            department = user.department
            assert department is not None
            record_event(
                AuditAction.TEMPLATE_DENIED,
                department,
                actor=user,
                department=department,
                attempted=f"{request.method} {action or view.__class__.__name__}",
                slug=str(getattr(view, "kwargs", {}).get("slug", "")),
            )
        return allowed


class ReportTemplateSerializer(serializers.ModelSerializer[ReportTemplate]):
    latest_published = serializers.IntegerField(read_only=True, allow_null=True)
    draft = serializers.IntegerField(read_only=True, allow_null=True)
    version_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ReportTemplate
        fields = ["slug", "name", "latest_published", "draft", "version_count"]


class TemplateVersionSerializer(serializers.ModelSerializer[TemplateVersion]):
    # Plain text rather than an enum: "status" enums of other resources would collide in name.
    status = serializers.CharField(read_only=True, help_text="draft or published")
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = TemplateVersion
        fields = ["number", "status", "created_at", "published_at", "created_by"]
        read_only_fields = fields


class TemplateVersionDetailSerializer(TemplateVersionSerializer):
    slug = serializers.CharField(source="template.slug", read_only=True)

    class Meta(TemplateVersionSerializer.Meta):
        fields = [
            "slug",
            *TemplateVersionSerializer.Meta.fields,
            "dataset",
            "layout_html",
            "layout_css",
            "layout_spec",
        ]
        read_only_fields = fields


class TemplateContentSerializer(serializers.Serializer[TemplateContent]):
    dataset = serializers.JSONField()
    layout_html = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    layout_css = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    layout_spec = serializers.JSONField(
        required=False,
        allow_null=True,
        default=None,
        help_text="the designer's declarative layout (rows of one or two columns of blocks, "
        "page breaks); instead of layout_html",
    )

    def content(self) -> TemplateContent:
        data = self.validated_data
        return TemplateContent(
            data["dataset"], data["layout_html"], data["layout_css"], data["layout_spec"]
        )


class NewReportTemplateSerializer(TemplateContentSerializer):
    slug = serializers.SlugField(max_length=50)
    name = serializers.CharField(max_length=200)

    def validate_slug(self, value: str) -> str:
        if value in RESERVED_SLUGS:
            raise serializers.ValidationError(f"'{value}' is reserved; choose another slug")
        return value


class FilledValuesSerializer(serializers.Serializer[dict[str, Any]]):
    values = serializers.DictField()
    complete = serializers.BooleanField(
        default=False,
        help_text="also require every applicable required element and every element a rule "
        "requires (sign-out)",
    )
    language = serializers.ChoiceField(
        choices=["zh", "en"], default="en", help_text="language of the rules' messages"
    )


class FindingsProblemSerializer(serializers.Serializer[dict[str, Any]]):
    """One problem with filled values: an element's answer, or a violated cross-field rule."""

    element_id = serializers.CharField(help_text="the element (a rule's first element)")
    reason = serializers.CharField(help_text="what is wrong; a rule's message in the language")
    rule_id = serializers.CharField(allow_null=True, help_text="the violated rule, if any")
    elements = serializers.ListField(
        child=serializers.CharField(), help_text="every element the problem concerns"
    )


_PROBLEMS = inline_serializer(
    "TemplateProblems", {"problems": serializers.ListField(child=serializers.CharField())}
)
_VALIDATION = inline_serializer(
    "FilledValuesValidation",
    {
        "valid": serializers.BooleanField(),
        "problems": FindingsProblemSerializer(many=True),
    },
)
_NUMBER = OpenApiParameter("number", OpenApiTypes.INT, OpenApiParameter.PATH)


def _refused(exc: TemplateInvalid) -> Response:
    return Response({"problems": exc.problems}, status=status.HTTP_400_BAD_REQUEST)


def _user(request: Request) -> User:
    assert isinstance(request.user, User)  # TemplatePermission admits only signed-in users
    return request.user


class ReportTemplateViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[ReportTemplate]
):
    """Report templates of the signed-in user's department and their versions."""

    serializer_class = ReportTemplateSerializer
    permission_classes = [TemplatePermission]
    lookup_field = "slug"
    lookup_value_regex = r"(?!preview/)[-a-zA-Z0-9_]+"

    def get_queryset(self) -> QuerySet[ReportTemplate]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular building the schema
            return ReportTemplate.objects.none()
        department_id = _user(self.request).department_id
        if department_id is None:
            return ReportTemplate.objects.none()
        return (
            ReportTemplate.objects.filter(department_id=department_id)
            .annotate(
                latest_published=Max(
                    "versions__number", filter=Q(versions__status=VersionStatus.PUBLISHED)
                ),
                draft=Max("versions__number", filter=Q(versions__status=VersionStatus.DRAFT)),
                version_count=Count("versions"),
            )
            .order_by("slug")
        )

    def _version(self, number: str | int) -> TemplateVersion:
        version = (
            self.get_object()
            .versions.select_related("template", "created_by")
            .filter(number=int(number))
            .first()
        )
        if version is None:
            raise Http404(f"template version {number} does not exist")
        return version

    def _detail(self, version: TemplateVersion, code: int = status.HTTP_200_OK) -> Response:
        return Response(TemplateVersionDetailSerializer(version).data, status=code)

    def _from_version(
        self,
        request: Request,
        number: str,
        change: Callable[..., TemplateVersion],
        code: int = status.HTTP_200_OK,
    ) -> Response:
        """The detail of the version ``change`` makes of version ``number``, or its problems."""
        try:
            version = change(self._version(number), user=_user(request))
        except TemplateInvalid as exc:
            return _refused(exc)
        return self._detail(version, code)

    @extend_schema(
        request=NewReportTemplateSerializer,
        responses={201: TemplateVersionDetailSerializer, 400: _PROBLEMS},
    )
    def create(self, request: Request) -> Response:
        serializer = NewReportTemplateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = _user(request)
        assert user.department is not None
        try:
            version = create_template(
                user.department,
                serializer.validated_data["slug"],
                serializer.validated_data["name"],
                serializer.content(),
                user=user,
            )
        except TemplateInvalid as exc:
            return _refused(exc)
        return self._detail(version, status.HTTP_201_CREATED)

    @extend_schema(responses=TemplateVersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, slug: str) -> Response:
        versions = self.get_object().versions.select_related("created_by").order_by("-number")
        return Response(TemplateVersionSerializer(versions, many=True).data)

    @extend_schema(parameters=[_NUMBER], responses=TemplateVersionDetailSerializer)
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[0-9]+)")
    def version(self, request: Request, slug: str, number: str) -> Response:
        return self._detail(self._version(number))

    @extend_schema(
        methods=["PUT"],
        request=TemplateContentSerializer,
        responses={
            200: TemplateVersionDetailSerializer,
            201: TemplateVersionDetailSerializer,
            400: _PROBLEMS,
        },
    )
    @extend_schema(methods=["DELETE"], request=None, responses={204: None, 400: _PROBLEMS})
    @action(detail=True, methods=["put", "delete"])
    def draft(self, request: Request, slug: str) -> Response:
        template = self.get_object()
        try:
            if request.method == "DELETE":
                existing = draft_of(template)
                if existing is None:
                    raise Http404(f"template '{template.slug}' has no draft")
                discard_draft(existing, user=_user(request))
                return Response(status=status.HTTP_204_NO_CONTENT)
            serializer = TemplateContentSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            version, created = save_draft(template, serializer.content(), user=_user(request))
        except TemplateInvalid as exc:
            return _refused(exc)
        return self._detail(version, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        parameters=[_NUMBER],
        request=None,
        responses={200: TemplateVersionDetailSerializer, 400: _PROBLEMS},
    )
    @action(detail=True, methods=["post"], url_path=r"versions/(?P<number>[0-9]+)/publish")
    def publish(self, request: Request, slug: str, number: str) -> Response:
        return self._from_version(request, number, publish_version)

    @extend_schema(
        parameters=[_NUMBER],
        request=None,
        responses={201: TemplateVersionDetailSerializer, 400: _PROBLEMS},
    )
    @action(detail=True, methods=["post"], url_path=r"versions/(?P<number>[0-9]+)/new-draft")
    def new_draft(self, request: Request, slug: str, number: str) -> Response:
        return self._from_version(request, number, new_draft_from, status.HTTP_201_CREATED)

    @extend_schema(parameters=[_NUMBER], request=FilledValuesSerializer, responses=_VALIDATION)
    @action(detail=True, methods=["post"], url_path=r"versions/(?P<number>[0-9]+)/validate")
    def validate_values(self, request: Request, slug: str, number: str) -> Response:
        serializer = FilledValuesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        problems = findings_problems_for(
            self._version(number),
            serializer.validated_data["values"],
            complete=serializer.validated_data["complete"],
        )
        language = serializer.validated_data["language"]
        return Response(
            {"valid": not problems, "problems": [p.as_dict(language) for p in problems]}
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.INT, required=True),
            OpenApiParameter("to", OpenApiTypes.INT, required=True),
        ],
        responses={200: OpenApiTypes.OBJECT, 400: _PROBLEMS},
    )
    @action(detail=True, methods=["get"])
    def diff(self, request: Request, slug: str) -> Response:
        numbers = [request.query_params.get(key, "") for key in ("from", "to")]
        bad = [
            f"'{key}' must be a version number, not {value!r}"
            for key, value in zip(("from", "to"), numbers, strict=True)
            # ASCII digits only ("²" is a digit to str.isdigit but not to int()), and few
            # enough to be a version number the database can compare.
            if not (value.isascii() and value.isdigit() and len(value) <= 9)
        ]
        if bad:
            return Response({"problems": bad}, status=status.HTTP_400_BAD_REQUEST)
        old, new = (self._version(n) for n in numbers)
        return Response(diff_versions(old, new).as_dict())
