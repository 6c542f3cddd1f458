"""The OpenAI-compatible chat protocol against a real local server that speaks it: what is sent
(prompt, system message, tiles as PNG data URLs, secrets only from the catalog), what comes
back, and every way an answer is refused with a message naming the endpoint."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.loopback import LoopbackServer, Request
from workflows.context import RunContext
from workflows.errors import EndpointError, NodeError
from workflows.spec import GraphSpec

from .conftest import (
    FakeServices,
    RecordingCheckpoints,
    edge,
    node_type,
    tiny_png,
    trigger,
    valid_spec,
)

pytestmark = pytest.mark.anyio

TOKEN = "sk-test-token"
PROMPT = "Describe specimen {{ case.specimens[0].label }} ({{ case.case_type }})."


class ChatServer(LoopbackServer):
    """A real HTTP server for ``POST /v1/chat/completions``. It checks requests as a strict
    OpenAI-compatible server would (400 with an OpenAI error body otherwise) and answers by the
    model asked for: ``vlm`` describes what it received; other names misbehave."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[dict[str, str], Any]] = []

    @staticmethod
    def request_problem(headers: dict[str, str], body: Any) -> str | None:
        if headers.get("authorization") != f"Bearer {TOKEN}":
            return "401"
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return "'model' is required"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "'messages' must be a non-empty array"
        for message in messages:
            if message.get("role") not in {"system", "user", "assistant"}:
                return "bad role"
            content = message.get("content")
            parts = content if isinstance(content, list) else [{"type": "text", "text": content}]
            for part in parts:
                if part["type"] == "image_url":
                    url = part["image_url"]["url"]
                    prefix = "data:image/png;base64,"
                    if not url.startswith(prefix):
                        return "image_url must be a PNG data URL"
                    if not base64.b64decode(url[len(prefix) :]).startswith(b"\x89PNG"):
                        return "image is not a PNG"
                elif part["type"] != "text" or not isinstance(part.get("text"), str):
                    return "bad content part"
        if not isinstance(body.get("max_tokens"), int):
            return "'max_tokens' must be an integer"
        return None

    def answer(self, body: dict[str, Any]) -> tuple[int, Any]:
        model = body["model"]
        user = body["messages"][-1]["content"]
        parts = user if isinstance(user, list) else [{"type": "text", "text": user}]
        prompt = "".join(p.get("text", "") for p in parts)
        images = sum(1 for p in parts if p["type"] == "image_url")
        content: Any = f"Seen {images} image(s). {prompt}"
        message: dict[str, Any] = {"role": "assistant", "content": content}
        finish = "stop"
        if model == "json-grader":
            if body.get("response_format") != {"type": "json_object"}:
                return 400, {"error": {"message": "response_format json_object expected"}}
            message["content"] = json.dumps({"grade": 2, "images": images})
        elif model == "fenced-json":
            message["content"] = '```json\n{"grade": 3}\n```'
        elif model == "prose":
            message["content"] = "Sure! The grade is 2."
        elif model == "refuser":
            message = {"role": "assistant", "content": None, "refusal": "I cannot assess this."}
        elif model == "rambler":
            message["content"], finish = "The specimen shows", "length"
        elif model == "filtered":
            message["content"], finish = "", "content_filter"
        elif model == "mute":
            message["content"] = "  "
        elif model == "no-choices":
            return 200, {"id": "x", "object": "chat.completion", "choices": []}
        return 200, {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": f"{model}-2026-01",
            "system_fingerprint": "fp_42",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
        }

    def post(self, request: Request) -> None:
        raw = request.body()
        headers = request.header_map()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        self.requests.append((headers, body))
        model = body.get("model") if isinstance(body, dict) else None
        if request.path != "/v1/chat/completions":
            return request.reply(404, b'{"error": {"message": "no such route"}}')
        if model == "hang":
            request.hang(10)
            return None
        if model == "redirect":
            return request.reply(307, b"", ("Location", "http://127.0.0.1:9/elsewhere"))
        if model == "overloaded":
            return request.reply(500, b'{"error": {"message": "model overloaded"}}')
        if model == "malformed":
            return request.reply(200, b'{"choices": [')
        if model == "huge":
            return request.reply(200, b'{"pad": "' + b"x" * 200_000 + b'"}')
        problem = self.request_problem(headers, body)
        if problem == "401":
            return request.reply(401, b'{"error": {"message": "invalid api key"}}')
        if problem:
            return request.reply(400, {"error": {"message": problem}})
        status, answer = self.answer(body)
        return request.reply(status, answer)


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    with ChatServer() as server:
        yield server


@pytest.fixture
def vlm(services: FakeServices, chat_server: ChatServer) -> FakeServices:
    """Catalog entries on the chat server, one per model behaviour; the slug is the model."""
    for model in (
        "vlm",
        "json-grader",
        "fenced-json",
        "prose",
        "refuser",
        "rambler",
        "filtered",
        "mute",
        "no-choices",
        "overloaded",
        "malformed",
        "redirect",
    ):
        services.add(model, protocol="openai_chat", base_url=chat_server.url,
                     headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    services.add("hang", protocol="openai_chat", base_url=chat_server.url, timeout_s=0.3)
    services.add("huge", protocol="openai_chat", base_url=chat_server.url,
                 max_response_bytes=10_000)  # fmt: skip
    services.add("no-key", protocol="openai_chat", base_url=chat_server.url, model_name="vlm")
    return services


def config(endpoint: str = "vlm", **request: Any) -> dict[str, Any]:
    return {"endpoint": endpoint, "protocol": "openai_chat", "prompt": PROMPT, **request}


async def call(context: RunContext, cfg: dict[str, Any]) -> dict[str, Any]:
    model_call = node_type("model_call")
    assert model_call.config_problems(cfg) == []
    context.node_id = "draft"
    return await model_call.run(context, {}, cfg)


# --- what is sent and what comes back -----------------------------------------------------------


async def test_it_sends_the_rendered_prompt_system_message_and_tiles_as_png_data_urls(
    context: RunContext, vlm: FakeServices, chat_server: ChatServer
) -> None:
    cfg = config(
        system="You are a pathologist's assistant. Be brief.",
        images=["case.specimens[0].tiles[0]"],
        max_tokens=300,
        temperature=0.2,
    )

    outputs = await call(context, cfg)

    [(headers, body)] = chat_server.requests
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["idempotency-key"] == "run-1:draft"
    assert body["model"] == "vlm"
    assert body["max_tokens"] == 300
    assert body["temperature"] == 0.2
    assert "response_format" not in body
    system, user = body["messages"]
    assert system == {"role": "system", "content": "You are a pathologist's assistant. Be brief."}
    text, image = user["content"]
    assert text == {"type": "text", "text": "Describe specimen A (breast-resection)."}
    url = image["image_url"]["url"]
    assert base64.b64decode(url.removeprefix("data:image/png;base64,")) == tiny_png()
    assert vlm.tiles == [context.case["specimens"][0]["tiles"][0]]
    assert outputs == {
        "result": {
            "text": "Seen 1 image(s). Describe specimen A (breast-resection).",
            "finish_reason": "stop",
            "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
        },
        "model": {"endpoint": "vlm", "model_name": "vlm-2026-01", "model_version": "fp_42"},
    }


async def test_a_prompt_without_images_is_plain_text_and_reads_earlier_nodes(
    context: RunContext, vlm: FakeServices, chat_server: ChatServer
) -> None:
    context.node_outputs["ihc"] = {"result": {"positive_fraction": 0.285}}
    prompt = "Ki-67 index {{ (nodes.ihc.result.positive_fraction * 100) | round(1) }} %."

    outputs = await call(context, {**config(), "prompt": prompt})

    [(_, body)] = chat_server.requests
    assert body["messages"] == [{"role": "user", "content": "Ki-67 index 28.5 %."}]
    assert body["max_tokens"] == 512
    assert outputs["result"]["text"] == "Seen 0 image(s). Ki-67 index 28.5 %."


async def test_a_prompt_reading_a_value_the_case_lacks_fails_before_calling(
    context: RunContext, vlm: FakeServices, chat_server: ChatServer
) -> None:
    with pytest.raises(NodeError) as raised:
        await call(context, config(prompt="Urgent: {{ case.urgent }}"))

    assert str(raised.value) == "prompt template: 'dict object' has no attribute 'urgent'"
    assert raised.value.permanent
    assert chat_server.requests == []


async def test_a_prompt_may_default_a_missing_value(
    context: RunContext, vlm: FakeServices, chat_server: ChatServer
) -> None:
    outputs = await call(context, config(prompt="Urgent: {{ case.urgent | default('no') }}"))

    assert outputs["result"]["text"] == "Seen 0 image(s). Urgent: no"


async def test_an_image_expression_that_is_not_a_tile_reference_fails_naming_it(
    context: RunContext, vlm: FakeServices, chat_server: ChatServer
) -> None:
    with pytest.raises(NodeError) as raised:
        await call(context, config(images=["case.specimens[0].label"]))

    assert str(raised.value) == "images[0]: 'case.specimens[0].label' is not a tile reference"
    assert chat_server.requests == []


async def test_without_the_catalog_secret_the_server_refuses_and_the_error_names_it(
    context: RunContext, vlm: FakeServices, chat_server: ChatServer
) -> None:
    with pytest.raises(EndpointError) as raised:
        await call(context, config("no-key"))

    assert str(raised.value) == (
        f"endpoint 'no-key' ({chat_server.url}/v1/chat/completions): HTTP 401: "
        '{"error": {"message": "invalid api key"}}'
    )
    assert raised.value.permanent


# --- JSON answers -------------------------------------------------------------------------------


@pytest.mark.parametrize(("endpoint", "parsed"), [("json-grader", {"grade": 2, "images": 0}),
                                                  ("fenced-json", {"grade": 3})])  # fmt: skip
async def test_a_json_answer_is_parsed_into_result_json(
    context: RunContext, vlm: FakeServices, endpoint: str, parsed: dict[str, Any]
) -> None:
    outputs = await call(context, config(endpoint, response_format="json"))

    assert outputs["result"]["json"] == parsed


async def test_an_answer_that_is_not_the_json_asked_for_fails_clearly(
    context: RunContext, vlm: FakeServices
) -> None:
    with pytest.raises(EndpointError) as raised:
        await call(context, config("prose", response_format="json"))

    assert str(raised.value) == (
        "endpoint 'prose': the answer is not the JSON that response_format 'json' asks for "
        "(Expecting value: line 1 column 1 (char 0))"
    )
    assert not raised.value.permanent  # a sampled answer may parse on the next attempt


# --- answers that cannot be used ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "message", "permanent"),
    [
        ("refuser", "endpoint 'refuser': the model refused: I cannot assess this.", True),
        (
            "rambler",
            "endpoint 'rambler': the answer was cut off at max_tokens (512); raise max_tokens "
            "or accept truncated answers",
            True,
        ),
        (
            "filtered",
            "endpoint 'filtered': the answer was withheld by the endpoint's content filter",
            True,
        ),
        ("mute", "endpoint 'mute': the answer is empty", False),
        (
            "no-choices",
            "endpoint 'no-choices': the answer has no choices (not an OpenAI chat completion)",
            True,
        ),
    ],
)
async def test_an_unusable_answer_fails_naming_the_endpoint(
    context: RunContext, vlm: FakeServices, endpoint: str, message: str, permanent: bool
) -> None:
    with pytest.raises(EndpointError) as raised:
        await call(context, config(endpoint))

    assert str(raised.value) == message
    assert raised.value.permanent is permanent


async def test_a_truncated_answer_is_accepted_when_the_node_allows_it(
    context: RunContext, vlm: FakeServices
) -> None:
    outputs = await call(context, config("rambler", allow_truncated=True))

    assert outputs["result"]["text"] == "The specimen shows"
    assert outputs["result"]["finish_reason"] == "length"


# --- a misbehaving server -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "problem", "permanent"),
    [
        ("overloaded", 'HTTP 500: {"error": {"message": "model overloaded"}}', False),
        ("hang", "no answer within 0.3 s", False),
        ("malformed", "the answer is not valid JSON", False),
        ("huge", "answer larger than 10000 bytes", True),
        (
            "redirect",
            "answered with a redirect (307); redirects are not followed — register the final "
            "URL in the catalog",
            True,
        ),
    ],
)
async def test_a_misbehaving_server_fails_the_call_naming_the_endpoint(
    context: RunContext,
    vlm: FakeServices,
    chat_server: ChatServer,
    endpoint: str,
    problem: str,
    permanent: bool,
) -> None:
    started = time.monotonic()

    with pytest.raises(EndpointError) as raised:
        await call(context, config(endpoint))

    url = f"{chat_server.url}/v1/chat/completions"
    assert str(raised.value) == f"endpoint '{endpoint}' ({url}): {problem}"
    assert raised.value.permanent is permanent
    assert time.monotonic() - started < 5


# --- save-time validation and a whole graph -----------------------------------------------------


def test_a_prompt_template_that_does_not_compile_is_refused_at_save_time() -> None:
    model_call = node_type("model_call")

    problems = model_call.config_problems(
        config(prompt="Grade {{ nodes.fna.result ", images=["case.specimens[0].tiles[0"])
    )

    assert problems == [
        "images[0]: expression 'case.specimens[0].tiles[0' does not compile: unexpected end "
        "of template, expected ','.",
        "prompt: the template does not compile: unexpected end of template, expected 'end of "
        "print statement'.",
    ]


def test_the_config_schema_names_a_wrong_field() -> None:
    model_call = node_type("model_call")

    problems = model_call.config_problems(config(temperature=3, response_format="xml"))

    assert problems == [
        "config['response_format']: 'xml' is not one of ['text', 'json']",
        "config['temperature']: 3 is greater than the maximum of 2",
    ]


def _draft_graph() -> GraphSpec:
    return valid_spec(
        [trigger(), {"id": "draft", "type": "model_call",
                     "config": config(images=["case.specimens[0].tiles[0]"])}],
        [edge("case", "draft", source_port="case")],
    )  # fmt: skip


async def test_a_drafting_node_runs_in_a_graph_and_is_checkpointed(
    context: RunContext, vlm: FakeServices
) -> None:
    from workflows.executor import execute_graph

    checkpoints = RecordingCheckpoints()

    outcome = await execute_graph(_draft_graph(), context, checkpoints)

    assert outcome.status == "succeeded", outcome.error
    [finished] = checkpoints.finished_for("draft")
    assert finished.outputs["result"]["text"].startswith("Seen 1 image(s). Describe specimen A")
    assert finished.outputs["model"]["endpoint"] == "vlm"
