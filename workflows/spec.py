"""The graph spec (JSON, versioned by ``schema_version``) parsed into typed, frozen objects."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from workflows.errors import GraphInvalid, GraphProblem
from workflows.expressions import is_number

SCHEMA_VERSION = 1
NODE_ID_MAX = 40
NODE_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{NODE_ID_MAX}}}\Z")


class OnError(StrEnum):
    """What a node's failure does once its retries are used up."""

    STOP = "stop"  # the run fails; nothing downstream runs
    CONTINUE = "continue"  # the node is failed; its outputs are inactive, other paths go on
    ERROR_BRANCH = "error_branch"  # only the node's `error` output port is active
    DEFAULT_VALUE = "default_value"  # the node succeeds with its `default_outputs`


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 1
    backoff_s: float = 0.5


@dataclass(frozen=True)
class NodeSpec:
    id: str
    type: str
    type_version: int
    title: str
    config: dict[str, Any]
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float | None = None
    on_error: OnError = OnError.STOP
    default_outputs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EdgeSpec:
    id: str
    source: str
    source_port: str
    target: str
    target_port: str


@dataclass(frozen=True)
class GraphSpec:
    schema_version: int
    name: str
    nodes: tuple[NodeSpec, ...]
    edges: tuple[EdgeSpec, ...]
    trigger: dict[str, Any] = field(default_factory=dict)

    def node(self, node_id: str) -> NodeSpec:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _node(raw: Any, index: int, problems: list[GraphProblem]) -> NodeSpec | None:
    if not isinstance(raw, dict):
        problems.append(GraphProblem("node_not_object", f"nodes[{index}] is not an object"))
        return None
    node_id = raw.get("id")
    if not isinstance(node_id, str) or not node_id:
        problems.append(GraphProblem("node_id_missing", f"nodes[{index}] has no string 'id'"))
        return None
    if not NODE_ID.match(node_id):
        # '/' joins a sub-workflow's node ids to its parent's in checkpoints, and the joined
        # ids of the deepest nesting must still fit a checkpoint's node id.
        problems.append(
            GraphProblem(
                "node_id_invalid",
                f"nodes[{index}]: id {node_id!r} may use only letters, digits, '_' and '-', "
                f"at most {NODE_ID_MAX} characters",
                node_id=node_id,
            )
        )
    # A node without a usable type or config cannot be validated further; a bad retry,
    # timeout or on_error is reported and replaced by its default so that validation goes on.
    readable = True
    node_type = raw.get("type")
    if not isinstance(node_type, str) or not node_type:
        problems.append(GraphProblem("node_type_missing", "has no 'type'", node_id=node_id))
        readable = False
    try:
        type_version = int(raw.get("type_version", 1))
    except (TypeError, ValueError):
        problems.append(
            GraphProblem(
                "type_version_invalid", "'type_version' must be a whole number", node_id=node_id
            )
        )
        readable = False
    config = raw.get("config", {})
    if not isinstance(config, dict):
        problems.append(GraphProblem("config_not_object", "'config' is not an object", node_id))
        readable = False
    retry_raw = raw.get("retry") or {}
    try:
        attempts, backoff = retry_raw.get("max_attempts", 1), retry_raw.get("backoff_s", 0.5)
        # bool is an int in Python; "true attempts" is a mistake, not 1.
        if not _is_int(attempts) or not is_number(backoff) or attempts < 1 or backoff < 0:
            raise ValueError
        retry = RetryPolicy(max_attempts=attempts, backoff_s=float(backoff))
    except (TypeError, ValueError, AttributeError):
        problems.append(
            GraphProblem(
                "retry_invalid", "'retry' needs max_attempts ≥ 1 and backoff_s ≥ 0", node_id=node_id
            )
        )
        retry = RetryPolicy()
    timeout = raw.get("timeout_s")
    if timeout is not None and (not is_number(timeout) or timeout <= 0):
        problems.append(GraphProblem("timeout_invalid", "'timeout_s' must be > 0", node_id))
        timeout = None
    try:
        on_error = OnError(raw.get("on_error", "stop"))
    except ValueError:
        allowed = ", ".join(o.value for o in OnError)
        problems.append(
            GraphProblem(
                "on_error_invalid", f"'on_error' must be one of {allowed}", node_id=node_id
            )
        )
        on_error = OnError.STOP
    default_outputs = raw.get("default_outputs", {})
    if on_error == OnError.DEFAULT_VALUE and not isinstance(default_outputs, dict):
        problems.append(
            GraphProblem(
                "default_outputs_invalid", "'default_outputs' must be an object", node_id=node_id
            )
        )
    if not readable:
        return None
    return NodeSpec(
        id=node_id,
        type=str(node_type),
        type_version=type_version,
        title=str(raw.get("title") or node_id),
        config=config,
        retry=retry,
        timeout_s=float(timeout) if timeout is not None else None,
        on_error=on_error,
        default_outputs=default_outputs if isinstance(default_outputs, dict) else {},
    )


def _edge(raw: Any, index: int, problems: list[GraphProblem]) -> EdgeSpec | None:
    if not isinstance(raw, dict):
        problems.append(GraphProblem("edge_not_object", f"edges[{index}] is not an object"))
        return None
    edge_id = str(raw.get("id") or f"edges[{index}]")
    missing = [k for k in ("source", "target") if not isinstance(raw.get(k), str)]
    if missing:
        problems.append(
            GraphProblem("edge_incomplete", f"missing {', '.join(missing)}", edge_id=edge_id)
        )
        return None
    return EdgeSpec(
        id=edge_id,
        source=raw["source"],
        source_port=str(raw.get("source_port") or "out"),
        target=raw["target"],
        target_port=str(raw.get("target_port") or "in"),
    )


def read_graph(data: Any) -> tuple[GraphSpec | None, list[GraphProblem]]:
    """Parse a graph document, collecting every structural problem.

    The spec comes back even when there are problems, as long as every node and edge could be
    read (a bad retry, timeout, on_error or default_outputs falls back to its default), so that
    validation can go on and report the rest at once. It is None when the document's shape is
    broken: not an object, another schema_version, or a node or edge that cannot be read.
    """
    if not isinstance(data, dict):
        return None, [GraphProblem("graph_not_object", "the graph is not a JSON object")]
    problems: list[GraphProblem] = []
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        problems.append(
            GraphProblem(
                "schema_version",
                f"schema_version {version!r} is not supported (this engine reads {SCHEMA_VERSION})",
            )
        )
    raw_nodes = data.get("nodes")
    raw_edges = data.get("edges", [])
    if not isinstance(raw_nodes, list) or not raw_nodes:
        problems.append(GraphProblem("no_nodes", "'nodes' must be a non-empty list"))
        raw_nodes = []
    if not isinstance(raw_edges, list):
        problems.append(GraphProblem("edges_not_list", "'edges' must be a list"))
        raw_edges = []
    shape_problems = len(problems)
    nodes = [n for i, raw in enumerate(raw_nodes) if (n := _node(raw, i, problems))]
    edges = [e for i, raw in enumerate(raw_edges) if (e := _edge(raw, i, problems))]
    if shape_problems or len(nodes) < len(raw_nodes) or len(edges) < len(raw_edges):
        return None, problems
    trigger = data.get("trigger")
    spec = GraphSpec(
        schema_version=SCHEMA_VERSION,
        name=str(data.get("name") or ""),
        nodes=tuple(nodes),
        edges=tuple(edges),
        trigger=trigger if isinstance(trigger, dict) else {},
    )
    return spec, problems


def parse_graph(data: Any) -> GraphSpec:
    """Parse a graph document; raises GraphInvalid listing every structural problem."""
    spec, problems = read_graph(data)
    if spec is None or problems:
        raise GraphInvalid(problems)
    return spec


# --- older and newer documents ------------------------------------------------------------


def _from_unversioned(data: dict[str, Any]) -> dict[str, Any]:
    """Graphs written before ``schema_version`` existed: the same shape, with every node's
    ``type_version`` defaulting to 1 and every edge's ports to ``out``/``in``."""
    nodes = [
        {"type_version": 1, **node} if isinstance(node, dict) else node
        for node in data.get("nodes", [])
    ]
    edges = [
        {"source_port": "out", "target_port": "in", **edge} if isinstance(edge, dict) else edge
        for edge in data.get("edges", [])
    ]
    return {**data, "schema_version": 1, "nodes": nodes, "edges": edges}


# One step per older schema_version, each giving the document of the next version.
_UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _from_unversioned}


def upgrade_graph(data: Any) -> tuple[Any, list[str]]:
    """Bring a graph document written by another Pathflow release to this ``SCHEMA_VERSION``.

    Returns the document to validate and notes for the person importing it: which upgrade
    steps ran, or that the document is newer than this engine (it is then read as this
    version, and validation reports whatever it does not understand). A document without
    ``schema_version`` counts as version 0. Anything that is not an object is returned as is.
    """
    if not isinstance(data, dict):
        return data, []
    raw = data.get("schema_version", 0)
    if not _is_int(raw):
        return data, []
    version: int = raw
    if version > SCHEMA_VERSION:
        return {**data, "schema_version": SCHEMA_VERSION}, [
            f"the graph has schema_version {version}, newer than this Pathflow reads "
            f"({SCHEMA_VERSION}); it was read as version {SCHEMA_VERSION} and anything "
            "this version does not know is reported as a problem or ignored"
        ]
    notes: list[str] = []
    while version < SCHEMA_VERSION:
        step = _UPGRADES.get(version)
        if step is None:
            notes.append(f"no upgrade path from schema_version {version}")
            break
        data = step(data)
        notes.append(
            f"the graph had schema_version {version}; upgraded to {data['schema_version']}"
        )
        version = data["schema_version"]
    return data, notes


# --- differences between two graphs -------------------------------------------------------

# Node fields compared as a whole; `config` is compared key by key and `position` (editor
# layout only) is reported apart, as `moved`.
_NODE_FIELDS = (
    "type",
    "type_version",
    "title",
    "retry",
    "timeout_s",
    "on_error",
    "default_outputs",
)
_EDGE_FIELDS = ("source", "source_port", "target", "target_port")


def _changed_keys(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the keys that differ, descending into objects (lists compare whole)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [prefix] if old != new and prefix else []
    changed: list[str] = []
    for key in sorted(set(old) | set(new), key=str):
        path = f"{prefix}.{key}" if prefix else str(key)
        if key not in old or key not in new:
            changed.append(path)
        else:
            changed.extend(_changed_keys(old[key], new[key], path))
    return changed


def _by_id(items: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(items, list):
        return {}
    return {str(i["id"]): i for i in items if isinstance(i, dict) and "id" in i}


def diff_graphs(old: Any, new: Any) -> dict[str, Any]:
    """What changed from graph document ``old`` to ``new``, by node and edge id.

    ``nodes``: ``added``/``removed`` ids, ``changed`` as ``{id, fields, config_keys}`` (the
    node fields and the dotted config keys that differ) and ``moved`` ids (position only);
    ``edges``: ``added``/``removed`` edges (an edge whose ends changed is both);
    ``graph``: the top-level fields (name, trigger, schema_version) that differ.
    """
    old = old if isinstance(old, dict) else {}
    new = new if isinstance(new, dict) else {}
    old_nodes, new_nodes = _by_id(old.get("nodes")), _by_id(new.get("nodes"))
    changed, moved = [], []
    for node_id in (n for n in new_nodes if n in old_nodes):
        before, after = old_nodes[node_id], new_nodes[node_id]
        fields = [f for f in _NODE_FIELDS if before.get(f) != after.get(f)]
        config_keys = _changed_keys(before.get("config") or {}, after.get("config") or {})
        if config_keys:
            fields.append("config")
        if fields:
            changed.append({"id": node_id, "fields": fields, "config_keys": config_keys})
        elif before.get("position") != after.get("position"):
            moved.append(node_id)
    old_edges, new_edges = _by_id(old.get("edges")), _by_id(new.get("edges"))

    def same_edge(edge_id: str) -> bool:
        a, b = old_edges.get(edge_id), new_edges.get(edge_id)
        return a is not None and b is not None and all(a.get(f) == b.get(f) for f in _EDGE_FIELDS)

    def edge_view(edge: dict[str, Any]) -> dict[str, Any]:
        return {"id": edge["id"], **{f: edge.get(f) for f in _EDGE_FIELDS}}

    return {
        "nodes": {
            "added": [n for n in new_nodes if n not in old_nodes],
            "removed": [n for n in old_nodes if n not in new_nodes],
            "changed": changed,
            "moved": moved,
        },
        "edges": {
            "added": [edge_view(e) for i, e in new_edges.items() if not same_edge(i)],
            "removed": [edge_view(e) for i, e in old_edges.items() if not same_edge(i)],
        },
        "graph": [
            key for key in ("schema_version", "name", "trigger") if old.get(key) != new.get(key)
        ],
    }
