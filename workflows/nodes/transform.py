"""Map values into named fields with expressions; fields keep where their values came from."""

from __future__ import annotations

from typing import Any

from workflows.context import RunContext
from workflows.errors import ExpressionError, NodeError
from workflows.expressions import (
    evaluate,
    is_undefined,
    referenced_nodes,
    referenced_variables,
)
from workflows.ports import PortType
from workflows.registry import NodeType, Port, register


def _plain(value: Any) -> Any:
    """Jinja may hand back tuples or markup; findings are plain JSON values."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, str):
        return str(value)
    return value


@register
class Transform(NodeType):
    name = "transform"
    side_effect_free = True
    title = "Map to fields"
    description = (
        "Computes each field from an expression over `case.*` and `nodes.<id>.*`, on top of "
        "an optional `base` set of known fields (list the element ids it provides in "
        "`base_fields` so validation counts them). Fields whose expression has no value "
        "(e.g. from a skipped branch) are left unfilled."
    )
    config_schema = {
        "type": "object",
        "required": ["mapping"],
        "properties": {
            "base": {
                "type": "string",
                "minLength": 1,
                "title": "Known fields",
                "description": "expression giving fields already known, e.g. case.findings",
            },
            "base_fields": {
                "type": "array",
                "uniqueItems": True,
                "title": "Elements the known fields fill",
                "description": (
                    "report element ids the base provides, e.g. procedure; validation counts "
                    "them as filled by this node (the base's keys are only known at run time)"
                ),
                "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
            },
            "guarded": {
                "type": "array",
                "uniqueItems": True,
                "title": "Fields filled only where they apply",
                "description": (
                    "mapped element ids with a visible_if that this node fills only on cases "
                    "where the element applies (e.g. it runs behind a condition testing the "
                    "same thing); validation warns about every other conditional element"
                ),
                "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
            },
            "mapping": {
                "type": "object",
                "minProperties": 1,
                "title": "Fields",
                "description": "report element id → expression, e.g. ki67_index: "
                "(nodes.ihc.result.positive_fraction * 100) | round(1)",
                "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
                "additionalProperties": {"type": "string", "minLength": 1},
            },
        },
        "dependentRequired": {"base_fields": ["base"]},
        "additionalProperties": False,
    }
    inputs = (Port("in", PortType.ANY, required=True, multiple=True, title="After"),)
    outputs = (
        Port("result", PortType.JSON, title="Values"),
        Port("findings", PortType.FINDINGS, title="Report fields"),
    )

    def expressions(self, config: dict[str, Any]) -> list[tuple[str, str]]:
        found = [(f"mapping.{key}", source) for key, source in config["mapping"].items()]
        return [("base", config["base"]), *found] if "base" in config else found

    def fills(self, config: dict[str, Any]) -> frozenset[str]:
        """The mapping's keys, plus the ``base_fields`` the admin declares the base provides."""
        return frozenset(config.get("mapping", {})) | frozenset(config.get("base_fields", []))

    def config_problems(self, config: dict[str, Any]) -> list[str]:
        problems = super().config_problems(config)
        if problems:
            return problems
        mapped = config["mapping"]
        return [
            f"config['guarded']: {element!r} is not a field of the mapping"
            for element in config.get("guarded", [])
            if element not in mapped
        ]

    def guarded(self, config: dict[str, Any]) -> frozenset[str]:
        """What the admin declares guarded, and the fields the lab entered (``base_fields``)."""
        return frozenset(config.get("guarded", [])) | frozenset(config.get("base_fields", []))

    async def run(
        self, context: RunContext, inputs: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        variables = context.variables()
        values: dict[str, Any] = {}
        provenance: dict[str, Any] = {}
        if "base" in config:
            base = evaluate(config["base"], variables)
            if not is_undefined(base) and base is not None:
                if not isinstance(base, dict):
                    raise NodeError(
                        f"base {config['base']!r} is not a set of fields", permanent=True
                    )
                values.update(_plain(base))
                sources = self._sources(context, config["base"])
                provenance.update(dict.fromkeys(base, sources))
        # A node that failed on an error branch is visible only as ``nodes.<id>.error``.
        failed = {n for n, outputs in context.node_outputs.items() if set(outputs) == {"error"}}
        for key, source in config["mapping"].items():
            referenced = referenced_nodes(source)
            if referenced - context.node_outputs.keys():
                continue  # it reads a node that was skipped or failed: leave the field unfilled
            try:
                value = evaluate(source, variables)
            except ExpressionError:
                if referenced & failed:
                    continue  # it reads the results of a node that failed: leave it unfilled
                raise
            if is_undefined(value) or value is None:
                continue
            values[key] = _plain(value)
            provenance[key] = self._sources(context, source)
        return {"result": values, "findings": {"values": values, "provenance": provenance}}

    @staticmethod
    def _sources(context: RunContext, source: str) -> list[dict[str, Any]]:
        """The model calls (endpoint, model, version, run) behind a value, or the case."""
        sources: list[dict[str, Any]] = []
        for node_id in sorted(referenced_nodes(source)):
            model = context.node_outputs.get(node_id, {}).get("model")
            if isinstance(model, dict):
                sources.append({"kind": "model", "node": node_id, "run": context.run_id, **model})
            else:
                sources.append({"kind": "node", "node": node_id, "run": context.run_id})
        if "case" in referenced_variables(source) and not sources:
            sources.append({"kind": "case", "run": context.run_id})
        return sources
