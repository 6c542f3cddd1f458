"""Validate a graph against the node-type registry, listing every problem at once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import networkx as nx

import workflows.nodes  # noqa: F401  (registers the built-in node types)
from workflows.errors import GraphInvalid, GraphProblem
from workflows.ports import is_assignable
from workflows.registry import REGISTRY, NodeRegistry, NodeType
from workflows.spec import GraphSpec, OnError, read_graph


def _node_types(
    spec: GraphSpec, registry: NodeRegistry, problems: list[GraphProblem]
) -> dict[str, NodeType]:
    types: dict[str, NodeType] = {}
    for node_id, count in Counter(n.id for n in spec.nodes).items():
        if count > 1:
            problems.append(GraphProblem("duplicate_node", f"{count} nodes share this id", node_id))
    for node in spec.nodes:
        node_type = registry.get(node.type, node.type_version)
        if node_type is None:
            known = registry.versions(node.type)
            reason = (
                f"version {node.type_version} of '{node.type}' is unknown (known: "
                f"{', '.join(map(str, known))})"
                if known
                else f"unknown node type '{node.type}'"
            )
            problems.append(GraphProblem("unknown_node_type", reason, node_id=node.id))
            continue
        types[node.id] = node_type
        problems.extend(
            GraphProblem("config_invalid", message, node_id=node.id)
            for message in node_type.config_problems(node.config)
        )
    return types


def _edges(spec: GraphSpec, types: dict[str, NodeType], problems: list[GraphProblem]) -> None:
    node_ids = {n.id for n in spec.nodes}
    seen: set[tuple[str, str, str, str]] = set()
    for edge_id, count in Counter(e.id for e in spec.edges).items():
        if count > 1:
            problems.append(
                GraphProblem("duplicate_edge_id", f"{count} edges share this id", edge_id=edge_id)
            )
    for edge in spec.edges:
        key = (edge.source, edge.source_port, edge.target, edge.target_port)
        if key in seen:
            problems.append(
                GraphProblem(
                    "duplicate_edge", "connects the same ports as another edge", edge_id=edge.id
                )
            )
        seen.add(key)
        for end, node_id in (("source", edge.source), ("target", edge.target)):
            if node_id not in node_ids:
                problems.append(
                    GraphProblem(
                        "dangling_edge", f"{end} node '{node_id}' does not exist", edge_id=edge.id
                    )
                )
        source, target = types.get(edge.source), types.get(edge.target)
        if source is None or target is None:
            continue
        node = spec.node(edge.source)
        out_port = source.output_port(edge.source_port)
        if out_port is None and not (
            edge.source_port == "error" and node.on_error == OnError.ERROR_BRANCH
        ):
            problems.append(
                GraphProblem(
                    "unknown_port",
                    f"node '{edge.source}' has no output port '{edge.source_port}'",
                    edge_id=edge.id,
                    port=edge.source_port,
                )
            )
        in_port = target.input_port(edge.target_port)
        if in_port is None:
            problems.append(
                GraphProblem(
                    "unknown_port",
                    f"node '{edge.target}' has no input port '{edge.target_port}'",
                    edge_id=edge.id,
                    port=edge.target_port,
                )
            )
        elif out_port is not None and not is_assignable(out_port.type, in_port.type):
            problems.append(
                GraphProblem(
                    "port_type_mismatch",
                    f"{edge.source}.{edge.source_port} gives {out_port.type.value} but "
                    f"{edge.target}.{edge.target_port} takes {in_port.type.value}",
                    edge_id=edge.id,
                    port=edge.target_port,
                )
            )


def _inputs(spec: GraphSpec, types: dict[str, NodeType], problems: list[GraphProblem]) -> None:
    feeding = Counter((e.target, e.target_port) for e in spec.edges)
    for node_id, node_type in types.items():
        for port in node_type.inputs:
            count = feeding[(node_id, port.name)]
            if port.required and count == 0:
                problems.append(
                    GraphProblem(
                        "missing_input",
                        "required input is not connected",
                        node_id=node_id,
                        port=port.name,
                    )
                )
            if count > 1 and not port.multiple:
                problems.append(
                    GraphProblem(
                        "too_many_inputs",
                        f"{count} edges feed an input that takes one",
                        node_id=node_id,
                        port=port.name,
                    )
                )


def _topology(spec: GraphSpec, types: dict[str, NodeType], problems: list[GraphProblem]) -> None:
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(n.id for n in spec.nodes)
    graph.add_edges_from(
        (e.source, e.target) for e in spec.edges if e.source in graph and e.target in graph
    )
    for cycle in nx.simple_cycles(graph):
        problems.append(
            GraphProblem(
                "cycle", "is part of a cycle: " + " → ".join([*cycle, cycle[0]]), node_id=cycle[0]
            )
        )
    triggers = [node_id for node_id, t in types.items() if t.is_trigger]
    if not triggers and types:
        problems.append(GraphProblem("no_trigger", "the graph has no trigger node"))
    reachable: set[str] = set(triggers)
    for trigger in triggers:
        reachable |= nx.descendants(graph, trigger)
    for node in spec.nodes:
        if node.id not in reachable and triggers:
            problems.append(
                GraphProblem("unreachable", "no path leads here from the trigger", node_id=node.id)
            )


def _check(data: Any, registry: NodeRegistry) -> tuple[GraphSpec | None, list[GraphProblem]]:
    spec, problems = read_graph(data)
    if spec is None:
        return None, problems
    types = _node_types(spec, registry, problems)
    _edges(spec, types, problems)
    _inputs(spec, types, problems)
    _topology(spec, types, problems)
    return spec, problems


def graph_problems(data: Any, registry: NodeRegistry = REGISTRY) -> list[GraphProblem]:
    """Every problem with a graph document: structure, types, config, ports and topology."""
    return _check(data, registry)[1]


def validate_graph(data: Any, registry: NodeRegistry = REGISTRY) -> GraphSpec:
    """Parse and validate; raises GraphInvalid with every problem."""
    spec, problems = _check(data, registry)
    if spec is None or problems:
        raise GraphInvalid(problems)
    return spec
