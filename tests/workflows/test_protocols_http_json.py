"""Plain JSON over HTTP against a real local JSON service: the body built from expressions, the
path kept on the catalog's server, outputs picked from the answer by dotted paths."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.loopback import LoopbackServer, Request
from workflows.context import RunContext
from workflows.errors import EndpointError, NodeError
from workflows.registry import NodeType

from .conftest import FakeServices, node_type

pytestmark = pytest.mark.anyio

SCORES = {
    "model_version": "3.1",
    "scores": [{"label": "benign", "value": 0.2}, {"label": "malignant", "value": 0.8}],
}


class JsonService(LoopbackServer):
    """A real HTTP JSON service: ``/api/v1/score`` wants ``{"features": [30 numbers], "site":
    str}`` (422 otherwise); ``/api/v1/labels`` answers a bare list. Records every request."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, dict[str, str], Any]] = []

    def post(self, request: Request) -> None:
        body = json.loads(request.body() or b"null")
        self.requests.append((request.path, request.header_map(), body))
        status: int = 404
        answer: Any = {"detail": "not found"}
        if request.path == "/api/v1/score":
            features = body.get("features")
            if isinstance(features, list) and len(features) == 30:
                status, answer = 200, SCORES
            else:
                status, answer = 422, {"detail": "features: expected 30 numbers"}
        elif request.path == "/api/v1/labels":
            status, answer = 200, ["benign", "malignant"]
        request.reply(status, answer)


@pytest.fixture
def json_service(services: FakeServices) -> Iterator[JsonService]:
    with JsonService() as service:
        services.add("scorer", protocol="http_json", base_url=service.url + "/api/v1/")
        yield service


@pytest.fixture
def model_call() -> NodeType:
    return node_type("model_call")


BODY = {"features": "case.specimens[0].data.fna_features", "site": "case.specimens[0].site"}


def config(path: str = "/score", **request: Any) -> dict[str, Any]:
    return {"endpoint": "scorer", "protocol": "http_json", "path": path, "body": BODY, **request}


async def test_it_posts_the_body_and_picks_outputs_by_dotted_path(
    context: RunContext, json_service: JsonService, model_call: NodeType
) -> None:
    cfg = config(outputs={"malignant": "scores.1.value", "everything": "$"})
    assert model_call.config_problems(cfg) == []
    context.node_id = "score"

    outputs = await model_call.run(context, {}, cfg)

    [(path, headers, body)] = json_service.requests
    assert path == "/api/v1/score"
    assert headers["idempotency-key"] == "run-1:score"
    specimen = context.case["specimens"][0]
    assert body == {"features": specimen["data"]["fna_features"], "site": specimen["site"]}
    assert outputs == {
        "result": {"malignant": 0.8, "everything": SCORES},
        "model": {"endpoint": "scorer", "model_name": "scorer", "model_version": "3.1"},
    }


async def test_without_outputs_the_whole_answer_is_the_result(
    context: RunContext, json_service: JsonService, model_call: NodeType
) -> None:
    outputs = await model_call.run(context, {}, config())

    assert outputs["result"] == SCORES


async def test_an_answer_that_is_not_an_object_needs_outputs(
    context: RunContext, json_service: JsonService, model_call: NodeType
) -> None:
    with pytest.raises(EndpointError) as raised:
        await model_call.run(context, {}, config("/labels", body={}))

    assert str(raised.value) == (
        "endpoint 'scorer': the answer is a JSON list, not an object; name what to take with "
        "outputs (e.g. value: $)"
    )
    outputs = await model_call.run(context, {}, config("/labels", body={}, outputs={"all": "$"}))
    assert outputs["result"] == {"all": ["benign", "malignant"]}


async def test_an_output_path_the_answer_lacks_fails_naming_it(
    context: RunContext, json_service: JsonService, model_call: NodeType
) -> None:
    with pytest.raises(EndpointError) as raised:
        await model_call.run(context, {}, config(outputs={"p": "scores.5.value"}))

    assert str(raised.value) == "endpoint 'scorer': output 'p': the answer has no 'scores.5'"
    assert raised.value.permanent


async def test_a_body_field_without_a_value_fails_before_calling(
    context: RunContext, json_service: JsonService, model_call: NodeType
) -> None:
    with pytest.raises(NodeError) as raised:
        await model_call.run(context, {}, config(body={"grade": "case.findings.grade_x"}))

    assert str(raised.value) == "body.grade: 'case.findings.grade_x' has no value for this case"
    assert json_service.requests == []


async def test_a_refused_request_names_the_endpoint_and_url_and_is_not_retried(
    context: RunContext, json_service: JsonService, model_call: NodeType
) -> None:
    with pytest.raises(EndpointError) as raised:
        await model_call.run(context, {}, config(body={"features": "[1, 2]"}))

    assert str(raised.value) == (
        f"endpoint 'scorer' ({json_service.url}/api/v1/score): HTTP 422: "
        '{"detail": "features: expected 30 numbers"}'
    )
    assert raised.value.permanent


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("http://evil.example/x", "config['path']: 'http://evil.example/x' does not match '^/'"),
        (
            "//evil.example/x",
            "path '//evil.example/x' must be a path on the catalog endpoint, not a URL with a "
            "scheme or host",
        ),
        ("/a/../admin", "path '/a/../admin' may not contain '.' or '..' segments"),
        (
            "/a/%2e%2e/admin",
            "path '/a/%2e%2e/admin' may not contain backslashes or percent-escapes",
        ),
        ("/a\\b", "path '/a\\\\b' may not contain backslashes or percent-escapes"),
        (
            "/a b",
            "path '/a b' must start with '/' and use only letters, digits and - . _ ~ : @ ! $ & "
            "' ( ) * + , ; =",
        ),
    ],
)
def test_a_path_leaving_the_catalog_endpoint_is_refused_at_save_time(
    model_call: NodeType, path: str, problem: str
) -> None:
    assert model_call.config_problems(config(path)) == [problem]


def test_good_paths_and_output_paths_pass_and_bad_output_paths_are_named(
    model_call: NodeType,
) -> None:
    assert model_call.config_problems(config("/v2/predict?mode=fast")) == []
    assert model_call.config_problems(config(outputs={"p": "scores..value", "q": "a b"})) == [
        "outputs.p: 'scores..value' is not a dotted path like scores.0.value (or $ for the "
        "whole answer)",
        "outputs.q: 'a b' is not a dotted path like scores.0.value (or $ for the whole answer)",
    ]


async def test_a_path_is_checked_again_when_the_call_is_made(
    context: RunContext, json_service: JsonService, model_call: NodeType
) -> None:
    # A stored graph that skipped validation must still not reach another resource.
    with pytest.raises(NodeError) as raised:
        await model_call.run(context, {}, config("/score/../../admin"))

    assert str(raised.value) == "path '/score/../../admin' may not contain '.' or '..' segments"
    assert json_service.requests == []
