"""OpenAPI links, derived from the paths: what an answer names is what the next request takes.

An operation's success answer links to every operation below the resource it answered about
whose path needs one more parameter, when the answer carries that parameter by name: its
``slug``, ``id`` or ``number`` at the top of the body, inside one of its objects (a submitted
case's ``case.id``) or, for a list, in its first item. The path parameters the two operations
share are passed on from the request (``$request.path.<name>``). So ``POST /templates/``
links to ``GET/PUT/DELETE /templates/{slug}/…``, ``PUT /templates/{slug}/draft/`` (a version)
to ``/templates/{slug}/versions/{number}/publish/``, and a list to its items' details.

A few operations create a resource that lives in another collection (a test run creates a run,
cloning a library template creates a template): ``ANSWERS_BELONG_TO`` names it.

schemathesis' stateful phase follows these links (tests/orchestrator/test_schema_conformance.py),
and the generated front-end types ignore them.
"""

from __future__ import annotations

import re
from typing import Any

# An operation whose answer names resources of other collections → those collections' paths.
ANSWERS_BELONG_TO: dict[tuple[str, str], tuple[str, ...]] = {
    ("post", "/api/v1/template-library/{slug}/clone/"): ("/api/v1/templates",),
    ("post", "/api/v1/workflows/{slug}/test-run"): ("/api/v1/runs",),
    ("post", "/api/v1/runs/{id}/rerun/"): ("/api/v1/runs",),
    ("post", "/api/v1/integration/cases/submit"): ("/api/v1/integration/cases",),
    ("post", "/api/v1/workflows/import"): ("/api/v1/workflows",),
    ("get", "/api/v1/review/queue"): ("/api/v1/review/reports", "/api/v1/reports"),
    ("post", "/api/v1/review/reports/{id}/sign"): ("/api/v1/reports",),
    ("get", "/api/v1/portal/search"): ("/api/v1/portal/cases",),
    ("get", "/api/v1/integration/cases/{id}/reports/"): ("/api/v1/integration/reports",),
    ("get", "/api/v1/workflows/{slug}/shadow-runs"): ("/api/v1/quality/shadow-runs",),
    ("post", "/api/v1/workflows/{slug}/shadow-runs"): ("/api/v1/quality/shadow-runs",),
}
METHODS = ("get", "post", "put", "patch", "delete")
_PARAMETER = re.compile(r"\{([^}]+)\}")


def _resolve(schema: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"].get(name, {})
    return node


def _scalar_type(node: dict[str, Any]) -> str | None:
    kind = node.get("type")
    return kind if kind in ("integer", "string") else None


def _pointers(schema: dict[str, Any], body: Any) -> dict[str, tuple[str, str]]:
    """Each scalar property an answer body carries (name → (JSON pointer, type)): top-level
    properties first, then those of its object properties; for a list, of its first item."""
    body = _resolve(schema, body)
    prefix = ""
    if isinstance(body, dict) and body.get("type") == "array":
        body, prefix = _resolve(schema, body.get("items", {})), "/0"
    elif isinstance(body, dict) and "results" in body.get("properties", {}):
        results = _resolve(schema, body["properties"]["results"])
        body, prefix = _resolve(schema, results.get("items", {})), "/results/0"
    found: dict[str, tuple[str, str]] = {}
    if not isinstance(body, dict):
        return found
    properties = body.get("properties", {})
    nested = []
    for name, node in properties.items():
        node = _resolve(schema, node)
        if not isinstance(node, dict):
            continue
        kind = _scalar_type(node)
        if kind is not None and not node.get("nullable"):
            found.setdefault(name, (f"{prefix}/{name}", kind))
        elif node.get("type") == "object" or "properties" in node:
            nested.append((name, node))
    for outer, node in nested:
        for name, inner in node.get("properties", {}).items():
            inner = _resolve(schema, inner)
            kind = _scalar_type(inner) if isinstance(inner, dict) else None
            if kind is not None and not inner.get("nullable"):
                found.setdefault(name, (f"{prefix}/{outer}/{name}", kind))
    return found


def _bases(method: str, path: str) -> tuple[tuple[str, bool], ...]:
    """The resources an operation answers about, each with whether the path parameters they
    share with the operation are passed on: its own path up to its last parameter (or
    without a trailing slash), or the collections named in ANSWERS_BELONG_TO."""
    if (method, path) in ANSWERS_BELONG_TO:
        return tuple((base, False) for base in ANSWERS_BELONG_TO[(method, path)])
    last = path.rfind("}")
    return ((path[: last + 1] if last >= 0 else path.rstrip("/"), True),)


def _parameter_types(operation: dict[str, Any]) -> dict[str, str | None]:
    return {
        p["name"]: _scalar_type(p.get("schema", {}))
        for p in operation.get("parameters", [])
        if p.get("in") == "path"
    }


def _names(parameter: str, path: str) -> tuple[str, ...]:
    """What an answer may call a path parameter: its name, or ``<thing>_id`` for the ``id``
    of ``…/<things>/{id}`` (a queue item's ``report_id``) and for ``{<thing>}``."""
    if parameter != "id":
        return (parameter, f"{parameter}_id")
    before = path.split("/{id}", 1)[0].rsplit("/", 1)[-1]
    return ("id", f"{before[:-1] if before.endswith('s') else before}_id")


def _link(
    bases: tuple[tuple[str, bool], ...],
    pointers: dict[str, tuple[str, str]],
    target_path: str,
    target: dict[str, Any],
) -> dict[str, Any] | None:
    for base, passed_on in bases:
        if not target_path.startswith(base + "/"):
            continue
        inherited = set(_PARAMETER.findall(base)) if passed_on else set()
        parameters: dict[str, str] = {}
        fresh = 0
        for name, kind in _parameter_types(target).items():
            found = next((pointers[n] for n in _names(name, target_path) if n in pointers), None)
            if name in inherited:
                parameters[name] = f"$request.path.{name}"
            # An integer is also what a string path parameter (digits: ^\d+$) takes.
            elif found is not None and kind in (None, "string", found[1]):
                parameters[name] = f"$response.body#{found[0]}"
                fresh += 1
            else:
                break
        else:
            if fresh:
                return {"operationId": target["operationId"], "parameters": parameters}
    return None


def add_links(schema: dict[str, Any]) -> int:
    """Add the links to ``schema`` (an OpenAPI document) and answer how many."""
    operations = [
        (method, path, operation)
        for path, item in schema.get("paths", {}).items()
        for method, operation in item.items()
        if method in METHODS
    ]
    added = 0
    for method, path, operation in operations:
        for code, response in operation.get("responses", {}).items():
            if not code.startswith("2"):
                continue
            content = response.get("content", {}).get("application/json")
            if content is None:
                continue
            pointers = _pointers(schema, content.get("schema", {}))
            links = {}
            for _, target_path, target in operations:
                link = _link(_bases(method, path), pointers, target_path, target)
                if link is not None and target is not operation:
                    links[target["operationId"]] = link
            if links:
                response["links"] = links
                added += len(links)
    return added
