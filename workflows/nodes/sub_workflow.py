"""Run a published version of another workflow as one node, on the same case.

The child graph runs inside the current run: it shares the run's limits, concurrency and
checkpoints (its nodes are recorded as ``<this node>/<child node>``, so a resumed run does not
repeat finished child nodes). ``outputs`` names what the node gives downstream: each entry
``name: "<child node id>.<port>"`` becomes an output port ``name`` carrying that child output
(inactive when the child node did not produce it). A review inside the child parks the whole
run. A workflow that includes itself, directly or through others, fails with the chain named.
"""

from __future__ import annotations

from typing import Any, ClassVar

from workflows.context import RunContext
from workflows.errors import AwaitingPerson, GraphInvalid, NodeError
from workflows.ports import PortType
from workflows.registry import NodeType, Port, register

# How deeply sub-workflows may nest (the outermost workflow is level 1).
MAX_DEPTH = 5


def _split(reference: str) -> tuple[str, str]:
    node_id, _, port = reference.rpartition(".")
    return node_id, port


@register
class SubWorkflow(NodeType):
    name = "sub_workflow"
    title = "Sub-workflow"
    description = (
        "Runs a published version of another workflow on the same case and passes on the "
        "child outputs named in `outputs` (`name: child_node.port`)."
    )
    config_schema = {
        "type": "object",
        "required": ["workflow"],
        "properties": {
            "workflow": {"type": "string", "minLength": 1, "description": "workflow slug"},
            "version": {
                "type": "integer",
                "minimum": 1,
                "description": "published version number; the latest published when left out",
            },
            "outputs": {
                "type": "object",
                "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
                "additionalProperties": {
                    "type": "string",
                    "pattern": r"^[^.\s]+\.[^.\s]+$",
                    "description": "<child node id>.<output port>",
                },
            },
        },
        "additionalProperties": False,
    }
    inputs = (Port("in", PortType.ANY, required=True, multiple=True, title="After"),)
    outputs = ()
    # The executor lets this node wait without holding one of the run's concurrency slots.
    runs_graph: ClassVar[bool] = True

    def output_ports(self, config: dict[str, Any]) -> tuple[Port, ...]:
        return tuple(Port(name, PortType.ANY, title=ref) for name, ref in _outputs(config))

    async def run(
        self, context: RunContext, inputs: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        slug = config["workflow"]
        path = context.workflow_path
        if slug in path:
            chain = " → ".join([*path, slug])
            raise NodeError(f"workflow '{slug}' includes itself ({chain})", permanent=True)
        if len(path) >= MAX_DEPTH:
            raise NodeError(
                f"sub-workflows nest deeper than {MAX_DEPTH} levels ({' → '.join([*path, slug])})",
                permanent=True,
            )
        if context.children is None:
            raise NodeError("this host cannot run sub-workflows", permanent=True)
        document = await context.services.load_workflow(slug, config.get("version"))
        local_id = context.node_id.rpartition("/")[2]
        try:
            outcome = await context.children.run_child(document, local_id, (*path, slug))
        except GraphInvalid as exc:
            raise NodeError(f"workflow '{slug}' cannot run: {exc}", permanent=True) from None
        except ValueError as exc:  # a node type this engine does not know
            raise NodeError(f"workflow '{slug}' cannot run: {exc}", permanent=True) from None
        if outcome.status == "waiting_review":
            raise AwaitingPerson(
                {
                    "kind": "sub_workflow",
                    "title": f"waiting for a review in workflow '{slug}'",
                    "nodes": list(outcome.waiting),
                }
            )
        if outcome.status != "succeeded":
            raise NodeError(f"workflow '{slug}': {outcome.error}", permanent=True)
        found: dict[str, Any] = {}
        for name, reference in _outputs(config):
            node_id, port = _split(reference)
            if port in outcome.outputs.get(node_id, {}):
                found[name] = outcome.outputs[node_id][port]
        return found


def _outputs(config: dict[str, Any]) -> list[tuple[str, str]]:
    outputs = config.get("outputs") or {}
    return sorted(outputs.items()) if isinstance(outputs, dict) else []
