"""What every API operation shares, documented once: the error body, the denials and refusals
any operation can answer (so that the schema states every status code an operation answers),
and JSON for URLs under the API that match no route (pagination: orchestrator.pagination).

``AutoSchema`` adds to each operation, unless the view documents the code itself:
401 (operations that accept API tokens), 403 (operations behind authentication), 404 (operations
with path parameters), 400 (operations with a body or query parameters) and 415 (with a body).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny


class ApiErrorSerializer(serializers.Serializer[Any]):
    """An error answer: ``detail`` says what is wrong; a refused body names each field with the
    problems found in it (``{"field": ["problem"]}``) and ``non_field_errors`` the rest."""

    detail = serializers.CharField(required=False, help_text="what is wrong, in words")
    non_field_errors = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="problems not tied to a field"
    )


_COMMON = {
    "400": "the request is invalid: the answer names the problem",
    "401": "no valid API token (the token is unknown or revoked)",
    "403": "not signed in, or the signed-in user may not do this",
    "404": "no such object in the user's department",
    "415": "the body is not in a supported media type (send application/json)",
}


def _challenges(authenticator: type[BaseAuthentication]) -> bool:
    """Whether an authenticator answers 401 with a challenge (DRF: unauthenticated → 401)."""
    return authenticator.authenticate_header is not BaseAuthentication.authenticate_header


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema plus the error answers every operation can give."""

    def get_operation(
        self,
        path: str,
        path_regex: str,
        path_prefix: str,
        method: str,
        registry: Any,
    ) -> Any:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses: dict[str, Any] = operation.setdefault("responses", {})
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        codes = []
        if has_body or any(p.get("in") == "query" for p in parameters):
            codes.append("400")
        view = self.view
        if any(_challenges(type(a)) for a in view.get_authenticators()):
            codes.append("401")
        if not all(isinstance(p, AllowAny) for p in view.get_permissions()):
            codes.append("403")
        if any(p.get("in") == "path" for p in parameters):
            codes.append("404")
        if has_body:
            codes.append("415")
        for code in codes:
            if code not in responses:
                described = OpenApiResponse(ApiErrorSerializer, description=_COMMON[code])
                responses[code] = self._get_response_for_code(described, code)
        return operation


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for a URL that matches no route: JSON under the API (as its schema documents), the
    HTML page elsewhere."""
    if request.path.startswith(("/api/", "/fhir/")):
        return JsonResponse({"detail": "not found"}, status=404)
    return page_not_found(request, exception or Exception("not found"))
