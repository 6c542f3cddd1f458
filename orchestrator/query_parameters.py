"""Query parameters checked against the operation's schema before the view runs: a parameter
the operation does not document, one given twice, or a value that is not of its documented type
(a whole number within its bounds, true/false, one of an enumeration, a date) is a 400 naming it
— never silently ignored. Operations without query parameters ignore any (as browsers add some).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.dateparse import parse_date, parse_datetime

from orchestrator.api_schema import INT64_MAX, documented_query_parameters

_INTEGER = re.compile(r"-?[0-9]{1,19}")


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _resolve({**schema["allOf"][0]}, components)
    return schema


def value_problem(value: str, schema: dict[str, Any], components: dict[str, Any]) -> str | None:
    """What is wrong with one value of a parameter of ``schema``, or None."""
    schema = _resolve(schema, components)
    if "anyOf" in schema:  # e.g. a date or a date-time
        found = [value_problem(value, option, components) for option in schema["anyOf"]]
        if any(problem is None for problem in found):
            return None
        return " or ".join([str(found[0])] + [str(p).removeprefix("must be ") for p in found[1:]])
    if "enum" in schema:
        allowed = [str(e) for e in schema["enum"] if e is not None]
        return None if value in allowed else f"must be one of {', '.join(allowed)}"
    kind = schema.get("type")
    if kind == "integer":
        if not _INTEGER.fullmatch(value):
            return "must be a whole number"
        low, high = schema.get("minimum", -INT64_MAX), schema.get("maximum", INT64_MAX)
        if not low <= int(value) <= high:
            return f"must be a whole number from {low} to {high}"
    elif kind == "number":
        try:
            if not math.isfinite(float(value)):
                return "must be a finite number"
        except ValueError:
            return "must be a number"
    elif kind == "boolean" and value not in ("true", "false"):
        return "must be true or false"
    elif kind == "string":
        parse = {"date": parse_date, "date-time": parse_datetime}.get(schema.get("format", ""))
        try:
            if parse is not None and parse(value) is None:
                return f"must be a {schema['format']} (ISO 8601)"
        except ValueError:
            return f"must be a valid {schema['format']} (ISO 8601)"
        if len(value) < schema.get("minLength", 0):
            return f"must be at least {schema['minLength']} characters"
    return None


def query_problems(request: HttpRequest, view_func: Any) -> list[str]:
    documented, components = documented_query_parameters()
    parameters = documented.get((view_func, request.method or ""))
    if not parameters:
        return []
    problems = []
    for name in sorted(request.GET):
        parameter = parameters.get(name)
        if parameter is None:
            problems.append(f"{name}: not a parameter of this operation")
            continue
        schema = parameter.get("schema", {})
        values = request.GET.getlist(name)
        if schema.get("type") == "array":
            schema = schema.get("items", {})
        elif len(values) > 1:
            problems.append(f"{name}: given more than once")
            continue
        for value in values:
            problem = value_problem(value, schema, components)
            if problem:
                problems.append(f"{name}: {problem}")
                break
    # Listed with the others, so that one answer names every problem (the view would only say
    # a required one is missing once the rest were right).
    problems.extend(
        f"{name}: this parameter is required"
        for name, parameter in sorted(parameters.items())
        if parameter.get("required") and name not in request.GET
    )
    return sorted(problems)


class QueryParameterCheck:
    """Middleware: a 400 listing the problems with an API request's query parameters."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if not request.path.startswith(("/api/", "/fhir/")):
            return None
        if any(isinstance(v, int) and v > INT64_MAX for v in kwargs.values()):
            # An id no database can hold names no object.
            return JsonResponse({"detail": "not found", "problems": ["not found"]}, status=404)
        if not request.GET:
            return None
        problems = query_problems(request, view_func)
        if not problems:
            return None
        detail = "; ".join(problems)
        if request.path.startswith("/fhir/"):
            issue = {"severity": "error", "code": "value", "diagnostics": detail}
            outcome = {"resourceType": "OperationOutcome", "issue": [issue]}
            return JsonResponse(outcome, status=400, content_type="application/fhir+json")
        return JsonResponse({"detail": detail, "problems": problems}, status=400)
