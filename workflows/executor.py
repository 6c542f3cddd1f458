"""Run a validated graph: ready nodes run concurrently; each finished attempt is checkpointed.

Scheduling rule (documented in docs/architecture.md): a node becomes *resolved* when every node
feeding it has finished, failed or been skipped. It then runs if at least one incoming edge is
*active* — its source succeeded and produced that output port (a condition produces only the
port it chose) — and every required input port has an active edge; otherwise it is skipped.
Nodes already in ``completed`` (checkpoints from an earlier, interrupted attempt) never run again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import workflows.nodes  # noqa: F401  (registers the built-in node types)
from workflows.context import RunContext
from workflows.errors import NodeError
from workflows.registry import REGISTRY, NodeRegistry, NodeType
from workflows.spec import EdgeSpec, GraphSpec, NodeSpec, OnError

logger = logging.getLogger(__name__)

NodeStatus = Literal["succeeded", "failed", "skipped"]


@dataclass
class NodeResult:
    node_id: str
    node_type: str
    status: NodeStatus
    attempt: int = 0
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def active_ports(self) -> frozenset[str]:
        return frozenset(self.outputs) if self.status != "skipped" else frozenset()


@dataclass
class RunOutcome:
    status: Literal["succeeded", "failed"]
    error: str
    results: dict[str, NodeResult]


class Checkpoints(Protocol):
    """Where the executor records progress. Each call must be durable when it returns."""

    async def node_started(
        self, node_id: str, node_type: str, attempt: int, inputs: dict[str, Any]
    ) -> None: ...

    async def node_finished(self, result: NodeResult) -> None: ...


def json_safe(value: Any) -> Any:
    """A JSON-serialisable copy for checkpoints (tuples become lists, unknowns become text)."""
    return json.loads(json.dumps(value, default=str))


def _now() -> datetime:
    return datetime.now(UTC)


class GraphExecutor:
    def __init__(
        self,
        spec: GraphSpec,
        context: RunContext,
        checkpoints: Checkpoints,
        *,
        registry: NodeRegistry = REGISTRY,
        concurrency: int = 8,
    ) -> None:
        self.spec = spec
        self.context = context
        self.checkpoints = checkpoints
        self.types: dict[str, NodeType] = {}
        for node in spec.nodes:
            node_type = registry.get(node.type, node.type_version)
            if node_type is None:
                raise ValueError(
                    f"node '{node.id}': unknown type {node.type} "
                    f"v{node.type_version}; validate the graph first"
                )
            self.types[node.id] = node_type
        self.incoming: dict[str, list[EdgeSpec]] = defaultdict(list)
        for edge in spec.edges:
            self.incoming[edge.target].append(edge)
        self.semaphore = asyncio.Semaphore(concurrency)
        self.results: dict[str, NodeResult] = {}

    async def execute(self, completed: Mapping[str, NodeResult] | None = None) -> RunOutcome:
        self.results = dict(completed or {})
        for result in self.results.values():
            if result.status == "succeeded":
                self.context.node_outputs[result.node_id] = result.outputs
        running: dict[asyncio.Task[NodeResult], str] = {}
        while True:
            await self._start_ready(running)
            if not running:
                break
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                node = self.spec.node(running.pop(task))
                result = task.result()
                self.results[node.id] = result
                if result.status == "succeeded":
                    self.context.node_outputs[node.id] = result.outputs
                if result.status == "failed" and node.on_error == OnError.STOP:
                    await self._cancel(running, node.id)
                    return RunOutcome(
                        "failed",
                        f"node '{node.id}' ({node.title}) failed: {result.error}",
                        self.results,
                    )
        return RunOutcome("succeeded", "", self.results)

    async def _start_ready(self, running: dict[asyncio.Task[NodeResult], str]) -> None:
        """Start every resolved node; skipping one may resolve others, so repeat until stable."""
        progress = True
        while progress:
            progress = False
            busy = set(running.values())
            for node in self.spec.nodes:
                if node.id in self.results or node.id in busy:
                    continue
                edges = self.incoming[node.id]
                if any(e.source not in self.results for e in edges):
                    continue
                active = [e for e in edges if e.source_port in self.results[e.source].active_ports]
                if self._should_skip(node, edges, active):
                    result = NodeResult(node.id, node.type, "skipped", finished_at=_now())
                    self.results[node.id] = result
                    await self.checkpoints.node_finished(result)
                    progress = True
                    continue
                inputs = self._gather_inputs(node, active)
                task = asyncio.create_task(self._run_node(node, inputs), name=node.id)
                running[task] = node.id
                busy.add(node.id)

    def _should_skip(self, node: NodeSpec, edges: list[EdgeSpec], active: list[EdgeSpec]) -> bool:
        if not edges:
            return not self.types[node.id].is_trigger
        if not active:
            return True
        fed = {e.target_port for e in active}
        return any(p.required and p.name not in fed for p in self.types[node.id].inputs)

    def _gather_inputs(self, node: NodeSpec, active: list[EdgeSpec]) -> dict[str, Any]:
        inputs: dict[str, Any] = {}
        for port in self.types[node.id].inputs:
            values = [
                self.results[e.source].outputs[e.source_port]
                for e in active
                if e.target_port == port.name
            ]
            if port.multiple:
                inputs[port.name] = values
            elif values:
                inputs[port.name] = values[0]
        return inputs

    async def _run_node(self, node: NodeSpec, inputs: dict[str, Any]) -> NodeResult:
        node_type = self.types[node.id]
        context = dataclasses.replace(self.context, node_id=node.id)
        safe_inputs = json_safe(inputs)
        for attempt in range(1, node.retry.max_attempts + 1):
            await self.checkpoints.node_started(node.id, node.type, attempt, safe_inputs)
            started = _now()
            error, permanent = "", False
            try:
                async with self.semaphore:
                    call = node_type.run(context, inputs, node.config)
                    outputs = await asyncio.wait_for(call, node.timeout_s)
            except NodeError as exc:
                error, permanent = str(exc), exc.permanent
            except TimeoutError:
                error = f"no result within the node's timeout of {node.timeout_s:g} s"
            except Exception as exc:  # a bug in a node type must fail the node, not the worker
                logger.exception("node %s (%s) raised unexpectedly", node.id, node.type)
                error, permanent = f"internal error: {type(exc).__name__}: {exc}", True
            else:
                result = NodeResult(
                    node.id,
                    node.type,
                    "succeeded",
                    attempt,
                    safe_inputs,
                    json_safe(outputs),
                    "",
                    started,
                    _now(),
                )
                await self.checkpoints.node_finished(result)
                return result
            result = NodeResult(
                node.id, node.type, "failed", attempt, safe_inputs, {}, error, started, _now()
            )
            if permanent or attempt == node.retry.max_attempts:
                result = self._apply_on_error(node, result)
                await self.checkpoints.node_finished(result)
                return result
            await self.checkpoints.node_finished(result)
            # Exponential backoff with jitter so that retries from many runs do not align.
            delay = node.retry.backoff_s * 2 ** (attempt - 1)
            await asyncio.sleep(delay * (1 + random.random() / 4))  # noqa: S311 (not crypto)
        raise AssertionError("unreachable: the last attempt always returns")

    @staticmethod
    def _apply_on_error(node: NodeSpec, failed: NodeResult) -> NodeResult:
        if node.on_error == OnError.DEFAULT_VALUE:
            return dataclasses.replace(
                failed,
                status="succeeded",
                outputs=json_safe(node.default_outputs),
                error=f"used default outputs after: {failed.error}",
            )
        if node.on_error == OnError.ERROR_BRANCH:
            return dataclasses.replace(
                failed, outputs={"error": {"node": node.id, "message": failed.error}}
            )
        return failed

    async def _cancel(self, running: dict[asyncio.Task[NodeResult], str], cause: str) -> None:
        for task in running:
            task.cancel()
        for task, node_id in running.items():
            with contextlib.suppress(asyncio.CancelledError):
                await task
            node = self.spec.node(node_id)
            result = NodeResult(
                node_id,
                node.type,
                "failed",
                1,
                error=f"cancelled: the run stopped because node '{cause}' failed",
                finished_at=_now(),
            )
            self.results[node_id] = result
            await self.checkpoints.node_finished(result)
        running.clear()


async def execute_graph(
    spec: GraphSpec,
    context: RunContext,
    checkpoints: Checkpoints,
    *,
    completed: Mapping[str, NodeResult] | None = None,
    registry: NodeRegistry = REGISTRY,
    concurrency: int = 8,
) -> RunOutcome:
    """Run ``spec`` to the end (or to the first failure of an ``on_error: stop`` node)."""
    executor = GraphExecutor(spec, context, checkpoints, registry=registry, concurrency=concurrency)
    return await executor.execute(completed)
