"""Call a model endpoint from the catalog over one of the registered protocols."""

from __future__ import annotations

from typing import Any

import jsonschema

from workflows.context import RunContext
from workflows.errors import NodeError
from workflows.ports import PortType
from workflows.protocols import PROTOCOLS
from workflows.registry import NodeType, Port, register

_COMMON = {
    "endpoint": {
        "type": "string",
        "minLength": 1,
        "title": "Endpoint",
        "description": "slug of a model endpoint in the department's catalog",
    },
    "protocol": {
        "enum": sorted(PROTOCOLS),
        "title": "Protocol",
        "description": "how the endpoint is spoken to; must match its catalog entry",
    },
}


def protocol_schema(name: str) -> dict[str, Any]:
    """The whole model-call config schema for one protocol."""
    protocol = PROTOCOLS[name]
    return {
        "type": "object",
        "title": name,
        "required": ["endpoint", "protocol", *protocol.request_required],
        "properties": {**_COMMON, "protocol": {"const": name}, **protocol.request_schema},
        "additionalProperties": False,
    }


def call_schema() -> dict[str, Any]:
    """One variant per protocol, chosen by `protocol` (the editor renders the chosen one)."""
    return {
        "type": "object",
        "required": ["endpoint", "protocol"],
        "properties": _COMMON,
        "oneOf": [protocol_schema(name) for name in sorted(PROTOCOLS)],
    }


def call_problems(config: Any, where: str = "") -> list[str]:
    """What the chosen protocol finds wrong beyond its schema, each prefixed with ``where``;
    nothing while the config does not match the schema (those problems are listed already)."""
    if not isinstance(config, dict) or config.get("protocol") not in PROTOCOLS:
        return []
    name = config["protocol"]
    if not jsonschema.Draft202012Validator(protocol_schema(name)).is_valid(config):
        return []
    return [f"{where}{problem}" for problem in PROTOCOLS[name].request_problems(config)]


async def call_model(
    context: RunContext, config: dict[str, Any], idempotency_key: str
) -> dict[str, Any]:
    """Resolve the endpoint, check it speaks the configured protocol, call it; returns the
    model-call outputs ``{"result": ..., "model": {endpoint, model_name, model_version}}``."""
    endpoint = context.services.resolve_endpoint(config["endpoint"])
    if endpoint.protocol != config["protocol"]:
        raise NodeError(
            f"endpoint '{endpoint.slug}' speaks {endpoint.protocol}, not {config['protocol']}",
            permanent=True,
        )
    result = await PROTOCOLS[config["protocol"]].infer(context, endpoint, config, idempotency_key)
    return {
        "result": result.outputs,
        "model": {
            "endpoint": endpoint.slug,
            "model_name": result.model_name,
            "model_version": result.model_version,
        },
    }


@register
class ModelCall(NodeType):
    name = "model_call"
    title = "Model call"
    description = "Calls a model endpoint registered in the catalog and returns its outputs."
    config_schema = call_schema()
    inputs = (Port("in", PortType.ANY, multiple=True, title="After"),)
    outputs = (
        Port("result", PortType.JSON, title="Outputs by name"),
        Port("model", PortType.JSON, title="Endpoint, model and version"),
    )

    def schema_for(self, config: dict[str, Any]) -> dict[str, Any]:
        """The chosen protocol's own schema, so that messages name the real field."""
        if config.get("protocol") in PROTOCOLS:
            return protocol_schema(config["protocol"])
        return self.config_schema

    def config_problems(self, config: dict[str, Any]) -> list[str]:
        return [*super().config_problems(config), *call_problems(config)]

    def expressions(self, config: dict[str, Any]) -> list[tuple[str, str]]:
        protocol = PROTOCOLS.get(config.get("protocol", ""))
        return protocol.expressions(config) if protocol else []

    async def run(
        self, context: RunContext, inputs: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        # Endpoints may use the key to de-duplicate a call repeated after a worker crash.
        return await call_model(context, config, f"{context.run_id}:{context.node_id}")
