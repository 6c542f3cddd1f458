from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from orchestrator.accounts.models import Role, User


class DepartmentRef(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    code = serializers.CharField(help_text="the department's code, as in import files and HL7")
    name = serializers.CharField()


class MeSerializer(serializers.Serializer[Any]):
    username = serializers.CharField()
    display_name = serializers.CharField()
    department = DepartmentRef(allow_null=True)
    role = serializers.ChoiceField(choices=Role.choices)


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request: Request) -> Response:
    user = request.user
    assert isinstance(user, User)
    department = user.department
    return Response(
        {
            "username": user.username,
            "display_name": user.display_name or user.username,
            "department": (
                {"id": department.pk, "code": department.code, "name": department.name}
                if department
                else None
            ),
            "role": user.role,
        }
    )
