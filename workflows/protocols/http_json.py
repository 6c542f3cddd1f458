"""Plain JSON over HTTP: POST a body built from expressions, pick outputs from the answer.

The URL is the catalog entry's base URL plus a ``path`` that can only name a resource on that
server (no scheme, host, ``..`` segment or backslash), so a graph never chooses where data goes.
"""

from __future__ import annotations

import re
from typing import Any

from workflows.context import Endpoint, RunContext
from workflows.errors import EndpointError, NodeError
from workflows.expressions import evaluate
from workflows.http import post_json
from workflows.protocols.base import (
    ModelProtocol,
    ModelResult,
    has_missing_part,
    register_protocol,
)

# Path segments and an optional query string of plain characters; percent-escapes are refused
# because they could spell "..".
_PATH = re.compile(r"^(/[A-Za-z0-9._~:@!$&'()*+,;=-]*)+(\?[A-Za-z0-9._~:@!$&'()*+,;=/?-]*)?$")
_DOTTED = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
WHOLE_ANSWER = "$"


def path_problem(path: str) -> str | None:
    """Why ``path`` may not be appended to a catalog URL, or None when it may."""
    if "://" in path or path.startswith("//"):
        return "must be a path on the catalog endpoint, not a URL with a scheme or host"
    if "\\" in path or "%" in path:
        return "may not contain backslashes or percent-escapes"
    segments = path.split("?", 1)[0].split("/")
    if any(segment in {".", ".."} for segment in segments):
        return "may not contain '.' or '..' segments"
    if not _PATH.match(path):
        return (
            "must start with '/' and use only letters, digits and - . _ ~ : @ ! $ & ' ( ) * + , ; ="
        )
    return None


def pick(answer: Any, dotted: str) -> Any:
    """Follow a dotted path (``a.b.0.c``: names into objects, numbers into lists); raises
    LookupError naming the first step that is not there."""
    if dotted == WHOLE_ANSWER:
        return answer
    value = answer
    walked: list[str] = []
    for step in dotted.split("."):
        walked.append(step)
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            raise LookupError(".".join(walked))
    return value


@register_protocol
class HttpJson(ModelProtocol):
    name = "http_json"
    title = "Plain JSON over HTTP"
    request_schema = {
        "path": {
            "type": "string",
            "pattern": "^/",
            "title": "Path",
            "description": "appended to the catalog endpoint's URL, e.g. /predict",
        },
        "body": {
            "type": "object",
            "title": "Request body",
            "description": "field name → expression over case.* and nodes.<id>.*",
            "propertyNames": {"minLength": 1},
            "additionalProperties": {"type": "string", "minLength": 1},
        },
        "outputs": {
            "type": "object",
            "title": "Outputs",
            "description": (
                "output name → dotted path into the answer (e.g. scores.0.value), or $ for the "
                "whole answer; without outputs the answer (a JSON object) is the result"
            ),
            "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
            "additionalProperties": {"type": "string", "minLength": 1},
        },
    }
    request_required = ("path",)

    def expressions(self, request: dict[str, Any]) -> list[tuple[str, str]]:
        return [(f"body.{field}", source) for field, source in request.get("body", {}).items()]

    def request_problems(self, request: dict[str, Any]) -> list[str]:
        problems = []
        reason = path_problem(request["path"])
        if reason:
            problems.append(f"path {request['path']!r} {reason}")
        for name, dotted in request.get("outputs", {}).items():
            if dotted != WHOLE_ANSWER and not _DOTTED.match(dotted):
                problems.append(
                    f"outputs.{name}: {dotted!r} is not a dotted path like scores.0.value "
                    f"(or {WHOLE_ANSWER} for the whole answer)"
                )
        return problems

    async def infer(
        self,
        context: RunContext,
        endpoint: Endpoint,
        request: dict[str, Any],
        idempotency_key: str,
    ) -> ModelResult:
        reason = path_problem(request["path"])
        if reason:  # validated at save time too; checked again because it guards the network
            raise NodeError(f"path {request['path']!r} {reason}", permanent=True)
        variables = context.variables()
        payload: dict[str, Any] = {}
        for field, source in request.get("body", {}).items():
            value = evaluate(source, variables)
            if has_missing_part(value):
                raise NodeError(
                    f"body.{field}: {source!r} has no value for this case", permanent=True
                )
            payload[field] = value
        answer = await post_json(
            context.http, endpoint, request["path"], payload, idempotency_key=idempotency_key
        )
        return ModelResult(
            outputs=self._outputs(endpoint, request, answer),
            model_name=endpoint.model_name,
            model_version=_version(answer),
        )

    @staticmethod
    def _outputs(endpoint: Endpoint, request: dict[str, Any], answer: Any) -> dict[str, Any]:
        where = f"endpoint '{endpoint.slug}'"
        if "outputs" not in request:
            if not isinstance(answer, dict):
                raise EndpointError(
                    f"{where}: the answer is a JSON {type(answer).__name__}, not an object; "
                    f"name what to take with outputs (e.g. value: {WHOLE_ANSWER})",
                    permanent=True,
                )
            return answer
        outputs: dict[str, Any] = {}
        for name, dotted in request["outputs"].items():
            try:
                outputs[name] = pick(answer, dotted)
            except LookupError as exc:
                raise EndpointError(
                    f"{where}: output '{name}': the answer has no {exc.args[0]!r}",
                    permanent=True,
                ) from None
        return outputs


def _version(answer: Any) -> str:
    """A model version the answer states about itself, if any."""
    if isinstance(answer, dict):
        for key in ("model_version", "version"):
            if isinstance(answer.get(key), str | int):
                return str(answer[key])
    return ""
