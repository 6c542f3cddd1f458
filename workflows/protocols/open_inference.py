"""Open Inference Protocol v2 (KServe v2 REST), as served by MLServer, Triton and KServe."""

from __future__ import annotations

import base64
import math
from typing import Any

from workflows.context import Endpoint, RunContext
from workflows.errors import EndpointError, NodeError
from workflows.expressions import evaluate, is_undefined
from workflows.http import blob_token, post_json
from workflows.protocols.base import (
    ModelProtocol,
    ModelResult,
    has_missing_part,
    register_protocol,
)

DATATYPES = ["BOOL", "UINT8", "INT32", "INT64", "FP32", "FP64", "BYTES"]

_TENSOR_INPUT = {
    "type": "object",
    "required": ["name", "datatype"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "title": "Input name on the model"},
        "datatype": {"enum": DATATYPES, "title": "Data type"},
        "shape": {
            "type": "array",
            "items": {"type": "integer", "minimum": -1},
            "title": "Shape",
            "description": "e.g. [1, 30]; default: one row of all the values",
        },
        "value": {
            "type": "string",
            "minLength": 1,
            "title": "Value",
            "description": "expression for the data, e.g. case.specimens[0].data.fna_features",
        },
        "tile": {
            "type": "string",
            "minLength": 1,
            "title": "Tile",
            "description": "expression for a slide tile reference, sent as base64 PNG, e.g. "
            "case.specimens[0].tiles[0]",
        },
    },
    "oneOf": [{"required": ["value"]}, {"required": ["tile"]}],
    "additionalProperties": False,
}


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return [item for element in value for item in _flatten(element)]
    return [value]


def _reshape(data: list[Any], shape: list[int]) -> Any:
    """Nest flat tensor data by shape; a one-element tensor becomes a scalar. Data that does not
    fill its declared shape is refused (ValueError) rather than returned ragged."""
    if math.prod(shape) != len(data):
        raise ValueError(f"{len(data)} values do not fill shape {shape}")
    if math.prod(shape) == 1 and len(data) == 1:
        return data[0]
    for size in reversed(shape[1:]):
        data = [data[i : i + size] for i in range(0, len(data), size)]
    return data


@register_protocol
class OpenInferenceV2(ModelProtocol):
    name = "open_inference_v2"
    title = "Open Inference Protocol v2 (Triton/KServe/MLServer)"
    request_schema = {
        "inputs": {
            "type": "array",
            "minItems": 1,
            "title": "Input tensors",
            "items": _TENSOR_INPUT,
        },
        "outputs": {
            "type": "array",
            "title": "Outputs to ask for",
            "description": "output names; default: every output the model gives",
            "items": {"type": "string", "minLength": 1},
        },
    }
    request_required = ("inputs",)

    def expressions(self, request: dict[str, Any]) -> list[tuple[str, str]]:
        found = []
        for index, tensor in enumerate(request.get("inputs", [])):
            for key in ("value", "tile"):
                if key in tensor:
                    found.append((f"inputs[{index}].{key}", tensor[key]))
        return found

    async def _tensor(
        self, context: RunContext, spec: dict[str, Any], blobs: dict[str, bytes]
    ) -> dict[str, Any]:
        """The request tensor of input ``spec``; a tile's base64 goes into ``blobs``, to be
        spliced into the body without being JSON-encoded (``workflows.http.json_body``)."""
        name = spec["name"]
        if "tile" in spec:
            reference = evaluate(spec["tile"], context.variables())
            if is_undefined(reference) or not isinstance(reference, dict):
                raise NodeError(
                    f"input '{name}': {spec['tile']!r} is not a tile reference", permanent=True
                )
            png = await context.services.load_tile(reference)
            token = blob_token()
            blobs[token] = base64.b64encode(png)
            return {
                "name": name,
                "datatype": "BYTES",
                "shape": [1],
                "parameters": {"content_type": "base64"},
                "data": [token],
            }
        value = evaluate(spec["value"], context.variables())
        if is_undefined(value) or value is None:
            raise NodeError(
                f"input '{name}': {spec['value']!r} has no value for this case", permanent=True
            )
        if has_missing_part(value):
            raise NodeError(
                f"input '{name}': part of {spec['value']!r} has no value for this case",
                permanent=True,
            )
        data = _flatten(value)
        shape = spec.get("shape") or [len(data)]
        if -1 not in shape and math.prod(shape) != len(data):
            raise NodeError(
                f"input '{name}': {len(data)} values do not fit shape {shape}", permanent=True
            )
        return {"name": name, "datatype": spec["datatype"], "shape": shape, "data": data}

    async def infer(
        self,
        context: RunContext,
        endpoint: Endpoint,
        request: dict[str, Any],
        idempotency_key: str,
    ) -> ModelResult:
        blobs: dict[str, bytes] = {}
        payload: dict[str, Any] = {
            "id": idempotency_key,
            "inputs": [await self._tensor(context, spec, blobs) for spec in request["inputs"]],
        }
        if request.get("outputs"):
            payload["outputs"] = [{"name": name} for name in request["outputs"]]
        path = f"/v2/models/{endpoint.model_name}/infer"
        body = await post_json(
            context.http, endpoint, path, payload, idempotency_key=idempotency_key, blobs=blobs
        )
        return self._result(endpoint, body)

    def _result(self, endpoint: Endpoint, body: Any) -> ModelResult:
        where = f"endpoint '{endpoint.slug}'"
        try:
            tensors = [
                (str(out["name"]), list(out["data"]), [int(s) for s in out["shape"]])
                for out in body["outputs"]
            ]
        except (KeyError, TypeError, ValueError):
            raise EndpointError(
                f"{where}: answer is not an Open Inference v2 response "
                "(needs outputs[].name, shape, data)",
                permanent=True,
            ) from None
        try:
            outputs = {name: _reshape(data, shape) for name, data, shape in tensors}
        except ValueError as exc:
            raise EndpointError(f"{where}: output {exc}", permanent=True) from None
        return ModelResult(
            outputs=outputs,
            model_name=str(body.get("model_name") or endpoint.model_name),
            model_version=str(body.get("model_version") or ""),
        )
