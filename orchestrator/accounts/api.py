from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from orchestrator.accounts.models import User

_ME = inline_serializer(
    "Me",
    {
        "username": serializers.CharField(),
        "display_name": serializers.CharField(),
        "department": serializers.DictField(allow_null=True),
        "role": serializers.CharField(),
    },
)


@extend_schema(responses=_ME)
@api_view(["GET"])
def me(request: Request) -> Response:
    user = request.user
    assert isinstance(user, User)
    department = user.department
    return Response(
        {
            "username": user.username,
            "display_name": user.display_name or user.username,
            "department": {"id": department.pk, "name": department.name} if department else None,
            "role": user.role,
        }
    )
