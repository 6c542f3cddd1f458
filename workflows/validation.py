"""Validate a graph against the node-type registry, listing every problem at once.

Given the dataset of the template version a workflow renders, validation also checks the
template-first contract: for each render node, the nodes with a path to it must fill every
unconditionally required element (``required`` without ``visible_if``). Required elements that
apply only under a condition (``visible_if``) and that no path fills come back as *warnings*,
not problems: the condition may never hold for the cases the workflow sees, and the reviewing
pathologist fills what is left. A node filling an element the template does not have is a
problem: the render would refuse the findings.

Two warnings check conditions and meaning before a case fails:
- ``unguarded_conditional_element``: a node fills an element that has a ``visible_if`` and does
  not declare it guarded (``NodeType.guarded``: a transform's ``guarded`` list, what the lab
  entered, a person's review fields). A deliberately simple heuristic: the graph cannot tell
  whether an upstream condition tests the same thing as the element's ``visible_if``, so the
  admin says so. On a case where the element does not apply the report refuses the value, or,
  for a model's value, drops it.
- ``measure_mismatch``: a transform fills an element from ``nodes.<model>.result.<name>`` of a
  model call whose catalog endpoint declares that output to measure something else (marker,
  stain or unit) than the element declares — a Ki-67 index filling a PD-L1 element.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

import workflows.nodes  # noqa: F401  (registers the built-in node types)
from workflows.context import EndpointOutputs
from workflows.datasets import MEASURE_KEYS, Dataset, Element
from workflows.errors import GraphInvalid, GraphProblem
from workflows.expressions import referenced_paths
from workflows.ports import PortType, is_assignable
from workflows.registry import REGISTRY, NodeRegistry, NodeType, Port
from workflows.spec import GraphSpec, NodeSpec, OnError, read_graph


@dataclass(frozen=True)
class ElementProblem(GraphProblem):
    """A problem with a report element of the template version, found at a node."""

    element_id: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {**super().as_dict(), "element_id": self.element_id}


@dataclass(frozen=True)
class GraphCheck:
    """What validation found. ``problems`` block publishing; ``warnings`` are shown but do
    not block. ``spec`` is None when the document could not be read far enough to check the
    graph itself (the problems then say why)."""

    spec: GraphSpec | None
    problems: list[GraphProblem] = field(default_factory=list)
    warnings: list[GraphProblem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.spec is not None and not self.problems


def _label(element: Element) -> str:
    labels = [element.label.get(lang, "") for lang in ("en", "zh")]
    return " / ".join(label for label in labels if label) or element.id


def _measures_text(measures: Mapping[str, str]) -> str:
    return " ".join(measures[k] for k in MEASURE_KEYS if measures.get(k)) or "nothing declared"


def _normal(text: str) -> str:
    return re.sub(r"[\s\-_.]", "", text).casefold()  # "Ki-67" is "ki67", "PD-L1" is "pdl1"


def measures_differ(declared: Mapping[str, str], output: Mapping[str, str]) -> bool:
    """Whether two declarations disagree on a marker, stain or unit that both give."""
    return any(
        _normal(declared[k]) != _normal(output[k])
        for k in MEASURE_KEYS
        if isinstance(declared.get(k), str) and isinstance(output.get(k), str)
    )


class _Checker:
    """One validation pass over a parsed graph; collects problems and warnings."""

    def __init__(
        self,
        spec: GraphSpec,
        registry: NodeRegistry,
        extra_fills: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self.spec = spec
        self.registry = registry
        self.extra_fills = extra_fills or {}
        self.problems: list[GraphProblem] = []
        self.warnings: list[GraphProblem] = []
        self.types: dict[str, NodeType] = {}
        # Nodes whose config is valid: only their config-dependent ports and fills are trusted.
        self.configured: dict[str, NodeSpec] = {}
        self.graph: nx.DiGraph[str] = nx.DiGraph()

    def problem(self, code: str, message: str, **where: str | None) -> None:
        self.problems.append(GraphProblem(code, message, **where))

    # --- nodes ----------------------------------------------------------------------------

    def node_types(self) -> None:
        for node_id, count in Counter(n.id for n in self.spec.nodes).items():
            if count > 1:
                self.problem("duplicate_node", f"{count} nodes share this id", node_id=node_id)
        for node in self.spec.nodes:
            node_type = self.registry.get(node.type, node.type_version)
            if node_type is None:
                known = self.registry.versions(node.type)
                reason = (
                    f"version {node.type_version} of '{node.type}' is unknown (known: "
                    f"{', '.join(map(str, known))})"
                    if known
                    else f"unknown node type '{node.type}'"
                )
                self.problem("unknown_node_type", reason, node_id=node.id)
                continue
            self.types[node.id] = node_type
            messages = node_type.config_problems(node.config)
            for message in messages:
                self.problem("config_invalid", message, node_id=node.id)
            if not messages:
                self.configured[node.id] = node

    def _ports(self, node_id: str, direction: str) -> tuple[Port, ...]:
        node_type = self.types[node_id]
        node = self.configured.get(node_id)
        if direction == "in":
            return node_type.input_ports(node.config) if node else node_type.inputs
        return node_type.output_ports(node.config) if node else node_type.outputs

    def _port(self, node_id: str, direction: str, name: str) -> Port | None:
        return next((p for p in self._ports(node_id, direction) if p.name == name), None)

    # --- edges ----------------------------------------------------------------------------

    def edges(self) -> None:
        node_ids = {n.id for n in self.spec.nodes}
        seen: set[tuple[str, str, str, str]] = set()
        for edge_id, count in Counter(e.id for e in self.spec.edges).items():
            if count > 1:
                self.problem("duplicate_edge_id", f"{count} edges share this id", edge_id=edge_id)
        for edge in self.spec.edges:
            key = (edge.source, edge.source_port, edge.target, edge.target_port)
            if key in seen:
                self.problem(
                    "duplicate_edge", "connects the same ports as another edge", edge_id=edge.id
                )
            seen.add(key)
            for end, node_id in (("source", edge.source), ("target", edge.target)):
                if node_id not in node_ids:
                    self.problem(
                        "dangling_edge", f"{end} node '{node_id}' does not exist", edge_id=edge.id
                    )
            if edge.source in self.types and edge.target in self.types:
                self._edge_ports(
                    edge.id, edge.source, edge.source_port, edge.target, edge.target_port
                )

    def _edge_ports(
        self, edge_id: str, source: str, source_port: str, target: str, target_port: str
    ) -> None:
        out_port = self._port(source, "out", source_port)
        error_branch = (
            source_port == "error" and self.spec.node(source).on_error == OnError.ERROR_BRANCH
        )
        # A node with invalid config may have other ports once fixed: its config problem is
        # reported, its ports are not guessed at.
        if out_port is None and not error_branch and source in self.configured:
            self.problem(
                "unknown_port",
                f"node '{source}' has no output port '{source_port}'",
                edge_id=edge_id,
                port=source_port,
            )
        in_port = self._port(target, "in", target_port)
        if in_port is None:
            if target in self.configured:
                self.problem(
                    "unknown_port",
                    f"node '{target}' has no input port '{target_port}'",
                    edge_id=edge_id,
                    port=target_port,
                )
        elif out_port is not None and not is_assignable(out_port.type, in_port.type):
            self.problem(
                "port_type_mismatch",
                f"{source}.{source_port} gives {out_port.type.value} but "
                f"{target}.{target_port} takes {in_port.type.value}",
                edge_id=edge_id,
                port=target_port,
            )

    def inputs(self) -> None:
        feeding = Counter((e.target, e.target_port) for e in self.spec.edges)
        for node_id in self.types:
            for port in self._ports(node_id, "in"):
                count = feeding[(node_id, port.name)]
                if port.required and count == 0:
                    self.problem(
                        "missing_input",
                        "required input is not connected",
                        node_id=node_id,
                        port=port.name,
                    )
                if count > 1 and not port.multiple:
                    self.problem(
                        "too_many_inputs",
                        f"{count} edges feed an input that takes one",
                        node_id=node_id,
                        port=port.name,
                    )

    # --- topology -------------------------------------------------------------------------

    def topology(self) -> None:
        graph = self.graph
        graph.add_nodes_from(n.id for n in self.spec.nodes)
        graph.add_edges_from(
            (e.source, e.target) for e in self.spec.edges if e.source in graph and e.target in graph
        )
        for cycle in nx.simple_cycles(graph):
            self.problem(
                "cycle", "is part of a cycle: " + " → ".join([*cycle, cycle[0]]), node_id=cycle[0]
            )
        triggers = [node_id for node_id, t in self.types.items() if t.is_trigger]
        if not triggers and self.types:
            self.problem("no_trigger", "the graph has no trigger node")
        reachable: set[str] = set(triggers)
        for trigger in triggers:
            reachable |= nx.descendants(graph, trigger)
        for node in self.spec.nodes:
            if node.id not in reachable and triggers:
                self.problem("unreachable", "no path leads here from the trigger", node_id=node.id)

    # --- the template-first contract ------------------------------------------------------

    def renders(self, node_id: str) -> bool:
        """Render nodes turn findings into a report: a findings input and a report output."""
        if node_id not in self.types:
            return False
        ins, outs = self._ports(node_id, "in"), self._ports(node_id, "out")
        return any(p.type == PortType.FINDINGS for p in ins) and any(
            p.type == PortType.REPORT for p in outs
        )

    def fills(self, node_id: str) -> frozenset[str]:
        node = self.configured.get(node_id)
        own = self.types[node_id].fills(node.config) if node else frozenset()
        return own | self.extra_fills.get(node_id, frozenset())

    def template_contract(self, dataset: Dataset) -> None:
        known = {e.id for e in dataset.elements()}
        for node_id in self.configured:
            for element_id in sorted(self.fills(node_id) - known):
                self.problems.append(
                    ElementProblem(
                        "unknown_element",
                        f"fills '{element_id}', which is not an element of template "
                        f"'{dataset.slug}'",
                        node_id=node_id,
                        element_id=element_id,
                    )
                )
        for node_id in dict.fromkeys(n.id for n in self.spec.nodes):
            if not self.renders(node_id):
                continue
            filled: set[str] = set()
            for ancestor in nx.ancestors(self.graph, node_id):
                filled |= self.fills(ancestor) if ancestor in self.types else frozenset()
            for element in dataset.elements():
                if not element.required or element.id in filled:
                    continue
                if element.visible_if:
                    self.warnings.append(
                        ElementProblem(
                            "conditional_element_unfilled",
                            f"element '{element.id}' ({_label(element)}) is required when "
                            f"{element.visible_if}; no node on a path to this render fills it",
                            node_id=node_id,
                            element_id=element.id,
                        )
                    )
                else:
                    self.problems.append(
                        ElementProblem(
                            "required_element_unfilled",
                            f"required element '{element.id}' ({_label(element)}) is filled by "
                            "no node on a path to this render",
                            node_id=node_id,
                            element_id=element.id,
                        )
                    )

    # --- conditions and meaning -----------------------------------------------------------

    def unguarded_conditional_fills(self, dataset: Dataset) -> None:
        elements = {e.id: e for e in dataset.elements()}
        for node_id, node in self.configured.items():
            node_type = self.types[node_id]
            unguarded = node_type.fills(node.config) - node_type.guarded(node.config)
            for element_id in sorted(unguarded):
                element = elements.get(element_id)
                if element is None or not element.visible_if:
                    continue
                outcome = (
                    "its value is dropped from the report"
                    if element.model_sourced
                    else "the report refuses it and the case fails"
                )
                self.warnings.append(
                    ElementProblem(
                        "unguarded_conditional_element",
                        f"fills '{element_id}' ({_label(element)}), which applies only when "
                        f"{element.visible_if}; on other cases {outcome}. Run this node behind a "
                        "condition testing the same thing and list the element in 'guarded'",
                        node_id=node_id,
                        element_id=element_id,
                    )
                )

    def _model_outputs(self, source: str, catalog: EndpointOutputs) -> list[tuple[str, str]]:
        """(endpoint slug, output name) pairs an expression reads: ``nodes.<model call>.result.
        <name>``, or a map node's ``nodes.<map>.results`` with a declared output name quoted in
        the expression (``sum(attribute='positive_fraction')``) or read from an item."""
        found: list[tuple[str, str]] = []
        for path in sorted(referenced_paths(source)):
            node = self.configured.get(path[1]) if len(path) > 2 and path[0] == "nodes" else None
            if node is None:
                continue
            if path[2] == "result" and len(path) > 3:
                endpoint = node.config.get("endpoint")
                if isinstance(endpoint, str):
                    found.append((endpoint, path[3]))
            elif path[2] == "results" and isinstance(node.config.get("call"), dict):
                endpoint = node.config["call"].get("endpoint")
                for name in catalog.get(endpoint, {}) if isinstance(endpoint, str) else ():
                    if name in path[3:] or f"'{name}'" in source or f'"{name}"' in source:
                        found.append((str(endpoint), name))
        return list(dict.fromkeys(found))

    def mismatched_measures(self, dataset: Dataset, catalog: EndpointOutputs) -> None:
        elements = {e.id: e for e in dataset.elements()}
        for node_id, node in self.configured.items():
            for where, source in self.types[node_id].expressions(node.config):
                element = elements.get(where.removeprefix("mapping."))
                if not where.startswith("mapping.") or element is None or not element.measures:
                    continue
                for found in self._model_outputs(source, catalog):
                    output = catalog.get(found[0], {}).get(found[1])
                    if not output or not measures_differ(element.measures, output):
                        continue
                    self.warnings.append(
                        ElementProblem(
                            "measure_mismatch",
                            f"fills '{element.id}' ({_label(element)}), which measures "
                            f"{_measures_text(element.measures)}, from output '{found[1]}' of "
                            f"endpoint '{found[0]}', which measures {_measures_text(output)}",
                            node_id=node_id,
                            element_id=element.id,
                        )
                    )


def check_graph(
    data: Any,
    registry: NodeRegistry = REGISTRY,
    *,
    dataset: Dataset | None = None,
    extra_fills: Mapping[str, frozenset[str]] | None = None,
    endpoint_outputs: EndpointOutputs | None = None,
) -> GraphCheck:
    """Every problem and warning of a graph document: structure, types, config, ports,
    topology and, given the template version's ``dataset``, the template-first contract.

    ``extra_fills`` adds, by node id, elements a node fills that its config alone does not
    tell: what a sub-workflow node's child graph fills, which only the caller can look up.
    ``endpoint_outputs`` is what the catalog says its endpoints' outputs measure.
    """
    spec, problems = read_graph(data)
    if spec is None:
        return GraphCheck(None, problems)
    checker = _Checker(spec, registry, extra_fills)
    checker.problems.extend(problems)
    checker.node_types()
    checker.edges()
    checker.inputs()
    checker.topology()
    if dataset is not None:
        checker.template_contract(dataset)
        checker.unguarded_conditional_fills(dataset)
        checker.mismatched_measures(dataset, endpoint_outputs or {})
    return GraphCheck(spec, checker.problems, checker.warnings)


def graph_problems(
    data: Any, registry: NodeRegistry = REGISTRY, *, dataset: Dataset | None = None
) -> list[GraphProblem]:
    """Every problem with a graph document: structure, types, config, ports and topology."""
    return check_graph(data, registry, dataset=dataset).problems


def validate_graph(
    data: Any, registry: NodeRegistry = REGISTRY, *, dataset: Dataset | None = None
) -> GraphSpec:
    """Parse and validate; raises GraphInvalid with every problem."""
    check = check_graph(data, registry, dataset=dataset)
    if check.spec is None or check.problems:
        raise GraphInvalid(check.problems)
    return check.spec


def exposed_fills(
    data: Any,
    outputs: list[str],
    registry: NodeRegistry = REGISTRY,
    extra_fills: Mapping[str, frozenset[str]] | None = None,
) -> frozenset[str]:
    """The elements filled by the nodes ``outputs`` (child node ids a sub-workflow node
    passes on) and the nodes with a path to them: what a graph used as a sub-workflow fills."""
    spec, _ = read_graph(data)
    if spec is None:
        return frozenset()
    checker = _Checker(spec, registry, extra_fills)
    checker.node_types()
    checker.problems.clear()
    checker.graph.add_nodes_from(n.id for n in spec.nodes)
    checker.graph.add_edges_from(
        (e.source, e.target)
        for e in spec.edges
        if e.source in checker.graph and e.target in checker.graph
    )
    filled: set[str] = set()
    for node_id in (n for n in outputs if n in checker.graph):
        for source in {node_id, *nx.ancestors(checker.graph, node_id)}:
            filled |= checker.fills(source) if source in checker.types else frozenset()
    return frozenset(filled)
