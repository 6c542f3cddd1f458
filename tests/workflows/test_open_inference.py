"""Open Inference v2 over real HTTP: a misbehaving local server, tensors in and out."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from workflows.context import RunContext
from workflows.errors import EndpointError, NodeError
from workflows.protocols import PROTOCOLS, ModelResult

from .conftest import FakeServices, ModelServer, Reply, oip_answer, tiny_png

pytestmark = pytest.mark.anyio

PROTOCOL = PROTOCOLS["open_inference_v2"]
REQUEST: dict[str, Any] = {
    "inputs": [{"name": "features", "datatype": "FP64", "shape": [1, 2], "value": "[0.5, 1.5]"}]
}


async def infer(
    context: RunContext, services: FakeServices, slug: str, request: dict[str, Any] = REQUEST
) -> ModelResult:
    return await PROTOCOL.infer(context, services.resolve_endpoint(slug), request, "run-1:node")


async def test_it_sends_tensors_and_reshapes_the_outputs(
    context: RunContext, services: FakeServices, model_server: ModelServer
) -> None:
    model_server.script(
        "classifier",
        Reply(
            body=oip_answer(
                {
                    "predict_proba": ([1, 2], [0.1, 0.9]),
                    "fraction": ([1], [0.285]),
                    "grid": ([2, 3], [1, 2, 3, 4, 5, 6]),
                    "scores": ([3], [1, 2, 3]),
                },
                model_name="breast-fna-v3",
                model_version="7",
            )
        ),
    )
    request = {**REQUEST, "outputs": ["predict_proba"]}

    result = await infer(context, services, "classifier", request)

    assert result.outputs == {
        "predict_proba": [[0.1, 0.9]],
        "fraction": 0.285,
        "grid": [[1, 2, 3], [4, 5, 6]],
        "scores": [1, 2, 3],
    }
    assert (result.model_name, result.model_version) == ("breast-fna-v3", "7")
    [call] = model_server.calls_to("classifier")
    assert call.body == {
        "id": "run-1:node",
        "inputs": [{"name": "features", "datatype": "FP64", "shape": [1, 2], "data": [0.5, 1.5]}],
        "outputs": [{"name": "predict_proba"}],
    }
    assert call.headers["idempotency-key"] == "run-1:node"
    assert call.headers["content-type"] == "application/json"


async def test_it_falls_back_to_the_catalog_model_name(
    context: RunContext, services: FakeServices, model_server: ModelServer
) -> None:
    model_server.script("anonymous", Reply(body={"outputs": []}))

    result = await infer(context, services, "anonymous")

    assert (result.outputs, result.model_name, result.model_version) == ({}, "anonymous", "")


async def test_it_flattens_case_data_and_checks_it_fits_the_shape(
    context: RunContext, services: FakeServices, model_server: ModelServer
) -> None:
    features = context.case["specimens"][0]["data"]["fna_features"]
    request = {
        "inputs": [
            {
                "name": "features",
                "datatype": "FP64",
                "shape": [1, 30],
                "value": "case.specimens[0].data.fna_features",
            }
        ]
    }

    await infer(context, services, "fna", request)

    [call] = model_server.calls_to("fna")
    assert call.body["inputs"][0]["shape"] == [1, 30]
    assert call.body["inputs"][0]["data"] == features


async def test_it_refuses_values_that_do_not_fit_the_shape(
    context: RunContext, services: FakeServices, model_server: ModelServer
) -> None:
    request = {
        "inputs": [{"name": "x", "datatype": "INT64", "shape": [1, 2], "value": "[1, 2, 3]"}]
    }

    with pytest.raises(NodeError) as raised:
        await infer(context, services, "shape", request)

    assert str(raised.value) == "input 'x': 3 values do not fit shape [1, 2]"
    assert raised.value.permanent
    assert model_server.calls_to("shape") == []


async def test_it_refuses_an_input_the_case_does_not_have(
    context: RunContext, services: FakeServices, model_server: ModelServer
) -> None:
    request = {"inputs": [{"name": "x", "datatype": "FP64", "value": "case.specimens[3].data"}]}

    with pytest.raises(NodeError) as raised:
        await infer(context, services, "absent", request)

    assert str(raised.value) == "input 'x': 'case.specimens[3].data' has no value for this case"
    assert model_server.calls_to("absent") == []


async def test_it_sends_a_tile_as_base64_png(
    context: RunContext, services: FakeServices, model_server: ModelServer
) -> None:
    request = {
        "inputs": [{"name": "tile", "datatype": "BYTES", "tile": "case.specimens[0].tiles[0]"}]
    }

    await infer(context, services, "ihc-dab", request)

    assert services.tiles == [context.case["specimens"][0]["tiles"][0]]
    [call] = model_server.calls_to("ihc-dab")
    [tensor] = call.body["inputs"]
    assert {k: v for k, v in tensor.items() if k != "data"} == {
        "name": "tile",
        "datatype": "BYTES",
        "shape": [1],
        "parameters": {"content_type": "base64"},
    }
    png = base64.b64decode(tensor["data"][0])
    assert png == tiny_png()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


async def test_it_refuses_a_tile_expression_that_is_not_a_tile_reference(
    context: RunContext, services: FakeServices
) -> None:
    request = {"inputs": [{"name": "tile", "datatype": "BYTES", "tile": "case.accession"}]}

    with pytest.raises(NodeError, match=r"'case.accession' is not a tile reference"):
        await infer(context, services, "ihc-dab", request)

    assert services.tiles == []


async def test_a_server_error_names_the_endpoint_url_and_status(
    context: RunContext, services: FakeServices, model_server: ModelServer
) -> None:
    model_server.script("broken", Reply(status=500, body=b"model crashed: CUDA out of memory"))

    with pytest.raises(EndpointError) as raised:
        await infer(context, services, "broken")

    url = f"{model_server.url}/v2/models/broken/infer"
    assert str(raised.value) == (
        f"endpoint 'broken' ({url}): HTTP 500: model crashed: CUDA out of memory"
    )
    assert not raised.value.permanent  # a 5xx may pass: the executor retries it


@pytest.mark.parametrize(("status", "permanent"), [(400, True), (422, True), (429, False)])
async def test_client_errors_are_permanent_except_too_many_requests(
    context: RunContext,
    services: FakeServices,
    model_server: ModelServer,
    status: int,
    permanent: bool,
) -> None:
    model_server.script("picky", Reply(status=status, body={"error": "no"}))

    with pytest.raises(EndpointError) as raised:
        await infer(context, services, "picky")

    assert f"HTTP {status}: " in str(raised.value)
    assert raised.value.permanent is permanent


async def test_a_hanging_endpoint_times_out(
    context: RunContext, services: FakeServices, model_server: ModelServer
) -> None:
    model_server.script("stuck", Reply(hang=True))
    services.add("stuck", timeout_s=0.3)

    with pytest.raises(EndpointError) as raised:
        await infer(context, services, "stuck")

    url = f"{model_server.url}/v2/models/stuck/infer"
    assert str(raised.value) == f"endpoint 'stuck' ({url}): no answer within 0.3 s"
    assert not raised.value.permanent


async def test_it_refuses_an_answer_that_is_not_json(
    context: RunContext, services: FakeServices, model_server: ModelServer
) -> None:
    model_server.script("garbled", Reply(body=b'{"outputs": [{"name": "p",'))

    with pytest.raises(
        EndpointError, match=r"^endpoint 'garbled' \(.+\): the answer is not valid JSON$"
    ):
        await infer(context, services, "garbled")


async def test_it_refuses_an_answer_larger_than_the_endpoint_allows(
    context: RunContext, services: FakeServices, model_server: ModelServer
) -> None:
    model_server.script("chatty", Reply(body=oip_answer({"p": ([4096], [0.5] * 4096)})))
    services.add("chatty", max_response_bytes=4096)

    with pytest.raises(EndpointError) as raised:
        await infer(context, services, "chatty")

    assert str(raised.value).endswith(": answer larger than 4096 bytes")
    assert "endpoint 'chatty'" in str(raised.value)
    assert raised.value.permanent


async def test_it_does_not_follow_a_redirect(
    context: RunContext, services: FakeServices, model_server: ModelServer
) -> None:
    target = f"{model_server.url}/v2/models/elsewhere/infer"
    model_server.script("moved", Reply(status=302, body=b"", headers=(("Location", target),)))

    with pytest.raises(EndpointError) as raised:
        await infer(context, services, "moved")

    message = str(raised.value)
    assert message.startswith(f"endpoint 'moved' ({model_server.url}/v2/models/moved/infer): ")
    assert "answered with a redirect (302); redirects are not followed" in message
    assert raised.value.permanent
    assert [c.model for c in model_server.calls] == ["moved"]


@pytest.mark.parametrize(
    "body",
    [
        {"predictions": [0.9]},
        {"outputs": [{"name": "p", "data": [0.9]}]},
        {"outputs": [{"name": "p", "shape": ["one"], "data": [0.9]}]},
        {"outputs": "p=0.9"},
        [0.9],
    ],
)
async def test_it_refuses_json_that_is_not_an_open_inference_answer(
    context: RunContext, services: FakeServices, model_server: ModelServer, body: Any
) -> None:
    model_server.script("sklearn", Reply(body=body))

    with pytest.raises(EndpointError) as raised:
        await infer(context, services, "sklearn")

    assert str(raised.value) == (
        "endpoint 'sklearn': answer is not an Open Inference v2 response "
        "(needs outputs[].name, shape, data)"
    )
    assert raised.value.permanent


async def test_it_refuses_outputs_that_do_not_fill_their_shape(
    context: RunContext, services: FakeServices, model_server: ModelServer
) -> None:
    body = {"outputs": [{"name": "predict_proba", "shape": [1, 2], "data": [0.1, 0.2, 0.7]}]}
    model_server.script("sklearn", Reply(body=body))

    with pytest.raises(EndpointError) as raised:
        await infer(context, services, "sklearn")

    assert str(raised.value) == ("endpoint 'sklearn': output 3 values do not fill shape [1, 2]")
    assert raised.value.permanent


async def test_a_refused_connection_names_the_endpoint(
    context: RunContext, services: FakeServices, refused_url: str
) -> None:
    services.add("offline", base_url=refused_url)

    with pytest.raises(EndpointError) as raised:
        await infer(context, services, "offline")

    assert str(raised.value).startswith(
        f"endpoint 'offline' ({refused_url}/v2/models/offline/infer): cannot connect"
    )
    assert not raised.value.permanent


async def test_it_sends_the_catalog_headers(
    context: RunContext, services: FakeServices, model_server: ModelServer
) -> None:
    services.add("secured", headers={"Authorization": "Bearer catalog-token"})

    await infer(context, services, "secured")

    [call] = model_server.calls_to("secured")
    assert call.headers["authorization"] == "Bearer catalog-token"
