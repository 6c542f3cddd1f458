"""OpenAI-compatible chat completions, for vision-language models that draft narrative text.

``POST {base_url}/v1/chat/completions`` with a system message, a user prompt rendered from a
sandboxed Jinja2 *template* over ``case.*`` and ``nodes.<id>.*``, and slide tiles sent as
``image_url`` parts holding ``data:image/png;base64,…`` URIs. The answer must be usable as it
stands: a refusal, a filtered or truncated answer, or an empty one fails the node naming the
endpoint, so that no half-drafted text reaches a report.
"""

from __future__ import annotations

import base64
import json
import re
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template
from jinja2.exceptions import SecurityError, TemplateError

from workflows.context import Endpoint, RunContext
from workflows.errors import EndpointError, NodeError
from workflows.expressions import LimitedSandbox, evaluate, is_undefined
from workflows.http import post_json
from workflows.protocols.base import ModelProtocol, ModelResult, register_protocol

# A prompt that renders longer than this is a template bug (a loop gone wrong), not a prompt.
MAX_PROMPT_CHARS = 200_000
MAX_IMAGES = 16

# Prompts fail on a missing value instead of rendering it as "" (a draft written from a prompt
# with holes would read as if the case said nothing there).
_PROMPTS = LimitedSandbox(undefined=StrictUndefined, autoescape=False)

# Models often wrap JSON in a Markdown code fence even when asked for bare JSON.
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(?P<body>.*)\n\s*```\s*$", re.DOTALL)


@lru_cache(maxsize=256)
def compile_prompt(source: str) -> Template:
    """Compile once; raises TemplateError (or SecurityError) when ``source`` does not parse."""
    return _PROMPTS.from_string(source)


def render_prompt(source: str, variables: dict[str, Any]) -> str:
    """Render a prompt template; any failure is a permanent NodeError naming the prompt."""
    try:
        text = compile_prompt(source).render(**variables)
    except SecurityError as exc:
        raise NodeError(f"prompt template: not allowed: {exc}", permanent=True) from None
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise NodeError(f"prompt template: {exc}", permanent=True) from None
    if len(text) > MAX_PROMPT_CHARS:
        raise NodeError(
            f"prompt template: the prompt is {len(text)} characters, more than {MAX_PROMPT_CHARS}",
            permanent=True,
        )
    return text


@register_protocol
class OpenAIChat(ModelProtocol):
    name = "openai_chat"
    title = "OpenAI-compatible chat (vision-language)"
    request_schema = {
        "system": {
            "type": "string",
            "title": "System message",
            "description": "Instructions to the model (plain text), e.g. the report's style.",
        },
        "prompt": {
            "type": "string",
            "minLength": 1,
            "title": "Prompt",
            "description": (
                "Jinja2 template over case.* and nodes.<id>.*, e.g. 'Describe the Ki-67 stain; "
                "the index is {{ nodes.ihc.result.positive_fraction * 100 }} %.' A value the "
                "case does not have fails the node; use | default('…') where it may be missing."
            ),
        },
        "images": {
            "type": "array",
            "maxItems": MAX_IMAGES,
            "title": "Images",
            "description": (
                "Expressions giving slide tile references, e.g. case.specimens[0].tiles[0]; "
                "each is sent as a PNG image."
            ),
            "items": {"type": "string", "minLength": 1},
        },
        "max_tokens": {
            "type": "integer",
            "minimum": 1,
            "maximum": 32768,
            "default": 512,
            "title": "Maximum answer length (tokens)",
        },
        "temperature": {
            "type": "number",
            "minimum": 0,
            "maximum": 2,
            "title": "Temperature",
            "description": "0 gives the most repeatable text.",
        },
        "response_format": {
            "enum": ["text", "json"],
            "default": "text",
            "title": "Answer format",
            "description": "json: the answer must be a JSON object, available as result.json.",
        },
        "allow_truncated": {
            "type": "boolean",
            "default": False,
            "title": "Accept answers cut off at the length limit",
        },
    }
    request_required = ("prompt",)

    def expressions(self, request: dict[str, Any]) -> list[tuple[str, str]]:
        return [(f"images[{i}]", source) for i, source in enumerate(request.get("images", []))]

    def request_problems(self, request: dict[str, Any]) -> list[str]:
        try:
            compile_prompt(request["prompt"])
        except (TemplateError, SecurityError) as exc:
            return [f"prompt: the template does not compile: {exc}"]
        return []

    async def _image(self, context: RunContext, where: str, source: str) -> dict[str, Any]:
        reference = evaluate(source, context.variables())
        if is_undefined(reference) or not isinstance(reference, dict):
            raise NodeError(f"{where}: {source!r} is not a tile reference", permanent=True)
        png = await context.services.load_tile(reference)
        url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        return {"type": "image_url", "image_url": {"url": url}}

    async def _payload(
        self, context: RunContext, endpoint: Endpoint, request: dict[str, Any]
    ) -> dict[str, Any]:
        prompt = render_prompt(request["prompt"], context.variables())
        images = [
            await self._image(context, f"images[{i}]", source)
            for i, source in enumerate(request.get("images", []))
        ]
        content: Any = [{"type": "text", "text": prompt}, *images] if images else prompt
        messages = [{"role": "user", "content": content}]
        if request.get("system"):
            messages.insert(0, {"role": "system", "content": request["system"]})
        payload: dict[str, Any] = {
            "model": endpoint.model_name,
            "messages": messages,
            "max_tokens": request.get("max_tokens", 512),
        }
        if "temperature" in request:
            payload["temperature"] = request["temperature"]
        if request.get("response_format") == "json":
            payload["response_format"] = {"type": "json_object"}
        return payload

    async def infer(
        self,
        context: RunContext,
        endpoint: Endpoint,
        request: dict[str, Any],
        idempotency_key: str,
    ) -> ModelResult:
        payload = await self._payload(context, endpoint, request)
        body = await post_json(
            context.http, endpoint, "/v1/chat/completions", payload, idempotency_key=idempotency_key
        )
        return self._result(endpoint, request, body)

    def _result(self, endpoint: Endpoint, request: dict[str, Any], body: Any) -> ModelResult:
        where = f"endpoint '{endpoint.slug}'"
        choices = body.get("choices") if isinstance(body, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise EndpointError(
                f"{where}: the answer has no choices (not an OpenAI chat completion)",
                permanent=True,
            )
        choice = choices[0]
        raw_message = choice.get("message")
        message: dict[str, Any] = raw_message if isinstance(raw_message, dict) else {}
        finish_reason = str(choice.get("finish_reason") or "")
        if message.get("refusal"):
            raise EndpointError(
                f"{where}: the model refused: {str(message['refusal'])[:300]}", permanent=True
            )
        if finish_reason == "content_filter":
            raise EndpointError(
                f"{where}: the answer was withheld by the endpoint's content filter",
                permanent=True,
            )
        if finish_reason == "length" and not request.get("allow_truncated", False):
            raise EndpointError(
                f"{where}: the answer was cut off at max_tokens "
                f"({request.get('max_tokens', 512)}); raise max_tokens or accept truncated "
                "answers",
                permanent=True,
            )
        text = _text(message.get("content"))
        if not text.strip():
            raise EndpointError(f"{where}: the answer is empty")
        usage = body.get("usage")
        outputs: dict[str, Any] = {
            "text": text,
            "finish_reason": finish_reason,
            "usage": usage if isinstance(usage, dict) else {},
        }
        if request.get("response_format") == "json":
            outputs["json"] = _json(where, text)
        return ModelResult(
            outputs=outputs,
            model_name=str(body.get("model") or endpoint.model_name),
            model_version=str(body.get("system_fingerprint") or ""),
        )


def _text(content: Any) -> str:
    """Message content is a string, or (some servers) a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def _json(where: str, text: str) -> Any:
    fenced = _FENCE.match(text)
    try:
        return json.loads(fenced.group("body") if fenced else text)
    except ValueError as exc:
        # Not permanent: a sampled answer may be well-formed on the next attempt.
        raise EndpointError(
            f"{where}: the answer is not the JSON that response_format 'json' asks for ({exc})"
        ) from None
