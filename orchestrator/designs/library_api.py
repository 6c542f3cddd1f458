"""The template library API: what the designer can start from.

GET  template-library/                 the library's templates (admins and pathologists)
POST template-library/{slug}/clone/    a new template of your department with a draft v1
                                       (admins); 400 lists every problem
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from orchestrator.accounts.models import User
from orchestrator.designs.library import clone_library_template, library_templates
from orchestrator.designs.template_api import (
    RESERVED_SLUGS,
    TemplatePermission,
    TemplateVersionDetailSerializer,
)
from orchestrator.designs.templates import TemplateInvalid
from orchestrator.runs.api_shapes import Problem


class LibraryTemplateSerializer(serializers.Serializer[Any]):
    slug = serializers.CharField()
    name = serializers.CharField()
    title_zh = serializers.CharField()
    title_en = serializers.CharField()
    sections = serializers.IntegerField()
    elements = serializers.IntegerField()


class CloneSerializer(serializers.Serializer[Any]):
    slug = serializers.SlugField(max_length=50, help_text="the new template's slug")
    name = serializers.CharField(max_length=200)

    def validate_slug(self, value: str) -> str:
        if value in RESERVED_SLUGS:
            raise serializers.ValidationError(f"'{value}' is reserved; choose another slug")
        return value


_PROBLEMS = inline_serializer(
    "LibraryProblems", {"problems": serializers.ListField(child=serializers.CharField())}
)


@extend_schema(responses={200: LibraryTemplateSerializer(many=True), 403: Problem})
@api_view(["GET"])
@permission_classes([TemplatePermission])
def template_library(request: Request) -> Response:
    return Response(LibraryTemplateSerializer(library_templates(), many=True).data)


@extend_schema(
    request=CloneSerializer,
    responses={201: TemplateVersionDetailSerializer, 400: _PROBLEMS, 403: Problem},
)
@api_view(["POST"])
@permission_classes([TemplatePermission])
def clone_library(request: Request, slug: str) -> Response:
    serializer = CloneSerializer(data=request.data)
    if not serializer.is_valid():
        return Response(
            {
                "problems": [
                    f"{name}: {message}"
                    for name, messages in serializer.errors.items()
                    for message in messages
                ]
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    user = request.user
    assert isinstance(user, User)
    assert user.department is not None
    try:
        version = clone_library_template(
            user.department,
            slug,
            serializer.validated_data["slug"],
            serializer.validated_data["name"],
            user=user,
        )
    except TemplateInvalid as exc:
        return Response({"problems": exc.problems}, status=status.HTTP_400_BAD_REQUEST)
    return Response(TemplateVersionDetailSerializer(version).data, status=status.HTTP_201_CREATED)
