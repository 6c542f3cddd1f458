"""Call a model endpoint from the catalog over one of the registered protocols."""

from __future__ import annotations

from typing import Any

from workflows.context import RunContext
from workflows.errors import NodeError
from workflows.ports import PortType
from workflows.protocols import PROTOCOLS
from workflows.registry import NodeType, Port, register

_COMMON = {
    "endpoint": {"type": "string", "minLength": 1, "description": "catalog slug"},
    "protocol": {"enum": sorted(PROTOCOLS)},
}


def _protocol_schema(name: str) -> dict[str, Any]:
    protocol = PROTOCOLS[name]
    return {
        "type": "object",
        "required": ["endpoint", "protocol", *protocol.request_required],
        "properties": {**_COMMON, "protocol": {"const": name}, **protocol.request_schema},
        "additionalProperties": False,
    }


def _config_schema() -> dict[str, Any]:
    """One variant per protocol, chosen by `protocol` (the editor renders the chosen one)."""
    return {
        "type": "object",
        "required": ["endpoint", "protocol"],
        "properties": _COMMON,
        "oneOf": [_protocol_schema(name) for name in sorted(PROTOCOLS)],
    }


@register
class ModelCall(NodeType):
    name = "model_call"
    title = "Model call"
    description = "Calls a model endpoint registered in the catalog and returns its outputs."
    config_schema = _config_schema()
    inputs = (Port("in", PortType.ANY, multiple=True, title="After"),)
    outputs = (
        Port("result", PortType.JSON, title="Outputs by name"),
        Port("model", PortType.JSON, title="Endpoint, model and version"),
    )

    def schema_for(self, config: dict[str, Any]) -> dict[str, Any]:
        """The chosen protocol's own schema, so that messages name the real field."""
        if config.get("protocol") in PROTOCOLS:
            return _protocol_schema(config["protocol"])
        return self.config_schema

    def expressions(self, config: dict[str, Any]) -> list[tuple[str, str]]:
        protocol = PROTOCOLS.get(config.get("protocol", ""))
        return protocol.expressions(config) if protocol else []

    async def run(
        self, context: RunContext, inputs: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        endpoint = context.services.resolve_endpoint(config["endpoint"])
        if endpoint.protocol != config["protocol"]:
            raise NodeError(
                f"endpoint '{endpoint.slug}' speaks {endpoint.protocol}, not {config['protocol']}",
                permanent=True,
            )
        protocol = PROTOCOLS[config["protocol"]]
        # Endpoints may use this to de-duplicate a call repeated after a worker crash.
        key = f"{context.run_id}:{context.node_id}"
        result = await protocol.infer(context, endpoint, config, key)
        return {
            "result": result.outputs,
            "model": {
                "endpoint": endpoint.slug,
                "model_name": result.model_name,
                "model_version": result.model_version,
            },
        }
