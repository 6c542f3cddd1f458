"""What every API operation shares, documented once: the error body, the denials and refusals
any operation can answer (so that the schema states every status code an operation answers),
and JSON for URLs under the API that match no route (pagination: orchestrator.pagination).

``AutoSchema`` adds to each operation, unless the view documents the code itself:
401 (operations that accept API tokens), 403 (operations behind authentication), 404 (operations
with path parameters), 400 (operations with a body or query parameters) and 415 (with a body).
It also records each operation's query parameters for orchestrator.query_parameters, which
checks them on every request.
"""

from __future__ import annotations

import threading
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from drf_spectacular import generators, openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny


class ApiErrorSerializer(serializers.Serializer[Any]):
    """An error answer: ``detail`` says what is wrong in one line, ``problems`` lists each
    problem (prefixed with its field); a refused body also names each field with the problems
    found in it (``{"field": ["problem"]}``), and ``non_field_errors`` the rest."""

    detail = serializers.CharField(help_text="what is wrong, in words")
    problems = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="each problem, prefixed with its field (errors the API raises always list them)",
    )
    non_field_errors = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="problems not tied to a field"
    )


_COMMON = {
    "400": "the request is invalid: the answer names the problem",
    "401": "no valid API token (the token is unknown or revoked)",
    "403": "not signed in, or the signed-in user may not do this",
    "404": "no such object in the user's department",
    "415": "the body is not in a supported media type (send application/json)",
    "409": "the body conflicts with an object that exists: the answer names it",
    "429": "too many wrong passwords: the account is locked for a while (Retry-After)",
    "422": "the body names an object that does not exist in the user's department: the answer "
    "names it",
}


def _challenges(authenticator: type[BaseAuthentication]) -> bool:
    """Whether an authenticator answers 401 with a challenge (DRF: unauthenticated → 401)."""
    return authenticator.authenticate_header is not BaseAuthentication.authenticate_header


# (view callback, method) → its operation's query parameters (name → schema); filled by
# generating the schema (SchemaGenerator below records each operation's callback).
_QUERY_PARAMETERS: dict[tuple[Any, str], dict[str, dict[str, Any]]] = {}
_COMPONENTS: dict[str, Any] = {}
_generated = threading.Lock()
_generating = threading.RLock()


class SchemaGenerator(generators.SchemaGenerator):
    def get_schema(self, request: Any = None, public: bool = False) -> Any:
        # One at a time: drf-spectacular keeps state in globals while it generates, and two
        # requests for the schema at once (a threaded server) got each other's answers mixed.
        with _generating:
            return super().get_schema(request, public)  # type: ignore[no-untyped-call]

    def create_view(self, callback: Any, method: str, request: Any = None) -> Any:
        view = super().create_view(callback, method, request)  # type: ignore[no-untyped-call]
        view.pathflow_callback = callback
        return view


def documented_query_parameters() -> tuple[
    dict[tuple[Any, str], dict[str, dict[str, Any]]], dict[str, Any]
]:
    """Each operation's documented query parameters, and the schema's component schemas
    (which their ``$ref`` point to); the schema is generated once per process."""
    with _generated:
        if not _COMPONENTS:
            schema = SchemaGenerator().get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
            _COMPONENTS.update(schema["components"]["schemas"])
    return _QUERY_PARAMETERS, _COMPONENTS


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema plus the error answers every operation can give."""

    def _get_paginator(self) -> Any:
        # A viewset pages its list action only; its other actions answer plain lists.
        action = getattr(self.view, "action", None)
        if action is not None and action != "list":
            return None
        return super()._get_paginator()  # type: ignore[no-untyped-call]

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
        view = self.view
        has_query = any(p.get("in") == "query" for p in parameters)
        has_path = any(p.get("in") == "path" for p in parameters)
        codes = []
        if has_body or has_query:
            codes.append("400")
        if any(_challenges(type(a)) for a in view.get_authenticators()):
            codes.append("401")
        if not all(isinstance(p, AllowAny) for p in view.get_permissions()):
            codes.append("403")
        if has_body or has_query or has_path:  # an object named anywhere may not exist
            codes.append("404")
        if has_body:
            codes.append("415")
            codes.append("422")
        if has_body and getattr(view, "documents_conflict", False):
            codes.append("409")
        if getattr(view, "asks_password", False):
            codes.append("429")
        callback = getattr(view, "pathflow_callback", None)
        if callback is not None:
            query = {p["name"]: p for p in parameters if p.get("in") == "query"}
            _QUERY_PARAMETERS[(callback, method.upper())] = query
        error = self.resolve_serializer(ApiErrorSerializer, "response").ref
        for code in codes:
            if code not in responses:
                described = OpenApiResponse(ApiErrorSerializer, description=_COMMON[code])
                responses[code] = self._get_response_for_code(described, code)  # type: ignore[no-untyped-call]
        for parameter in parameters:
            _bound_integer(parameter)
        for code in ("400", "401", "403", "404"):
            # A view's own error shape at a code where the API's checks (permissions, parsing,
            # serializers) can also refuse: either body may come.
            for media_type, content in responses.get(code, {}).get("content", {}).items():
                declared = content.get("schema")
                if "json" in media_type and declared not in (None, error):
                    content["schema"] = {"anyOf": [declared, error]}
        return operation

    def _map_serializer_field(
        self, field: Any, direction: str, bypass_extensions: bool = False
    ) -> Any:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)  # type: ignore[no-untyped-call]
        # A related object named by slug or id: DRF reads "" as no object at all.
        if (
            isinstance(field, serializers.RelatedField)
            and isinstance(schema, dict)
            and schema.get("type") == "string"
        ):
            schema.setdefault("minLength", 1)
        return schema


# What every database stores: an integer parameter without bounds of its own gets these.
INT64_MAX = 2**63 - 1


def _bound_integer(parameter: dict[str, Any]) -> None:
    schema = parameter.get("schema", {})
    if schema.get("type") != "integer":
        return
    schema.setdefault("maximum", INT64_MAX)
    schema.setdefault("minimum", 0 if parameter.get("in") == "path" else -INT64_MAX)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for a URL that matches no route: under the API the JSON error its schema documents
    (an OperationOutcome under /fhir/), the HTML page elsewhere."""
    if request.path.startswith("/fhir/"):
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "not-found", "diagnostics": "no such URL"}],
        }
        return JsonResponse(outcome, status=404, content_type="application/fhir+json")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "not found", "problems": ["not found"]}, status=404)
    return page_not_found(request, exception or Exception("not found"))


def _case_submission(schema: dict[str, Any]) -> None:
    """The integrator's case submission (orchestrator.integrations.integrator_api.submit): its
    ``document`` is a CaseDocument, sent as JSON (wrapped, or bare) or as a multipart part
    beside the uploaded images that its ``upload:<name>`` tiles name."""
    from orchestrator.cases.document_schema import CASE_DOCUMENT

    components = schema["components"]["schemas"]
    document = {"$ref": "#/components/schemas/CaseDocument"}
    options: dict[str, dict[str, Any]] = {
        "workflow": {
            "type": "string",
            "description": "the workflow to start (its slug); default: the one published for "
            "the case type",
        },
        "start_run": {"type": "boolean", "default": True, "description": "start the workflow"},
    }
    components["CaseDocument"] = CASE_DOCUMENT
    components["CaseSubmission"] = {
        "type": "object",
        # In JSON, ``"workflow": null`` is taken as leaving it out (the default workflow).
        "properties": {
            "document": document,
            **options,
            "workflow": {**options["workflow"], "nullable": True},
        },
        "required": ["document"],
        "additionalProperties": False,
    }
    components["CaseSubmissionUpload"] = {
        "type": "object",
        "properties": {
            "document": document,
            "files": {
                "type": "array",
                "items": {"type": "string", "format": "binary"},
                "description": "images that the document's tiles name as upload:<file name>; "
                "each must be named by a tile",
            },
            **options,
        },
        "required": ["document"],
        "additionalProperties": False,
    }
    path = schema["paths"].get("/api/v1/integration/cases/submit", {}).get("post")
    if path is None:
        return
    path["requestBody"]["content"] = {
        "application/json": {
            "schema": {
                "oneOf": [
                    {"$ref": "#/components/schemas/CaseSubmission"},
                    {"$ref": "#/components/schemas/CaseDocument"},
                ]
            }
        },
        "multipart/form-data": {
            "schema": {"$ref": "#/components/schemas/CaseSubmissionUpload"},
            "encoding": {
                "document": {"contentType": "application/json"},
                "files": {"contentType": "image/png, image/jpeg, image/tiff"},
            },
        },
    }


def postprocess(result: dict[str, Any], generator: Any, request: Any, public: bool) -> Any:
    """drf-spectacular postprocessing hook: the case submission's body, then the links."""
    from orchestrator.api_links import add_links

    _case_submission(result)
    add_links(result)
    return result
