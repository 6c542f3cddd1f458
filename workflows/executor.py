"""Run a validated graph: ready nodes run concurrently; each finished attempt is checkpointed.

Scheduling rule (documented in docs/architecture.md): a node becomes *resolved* when every node
feeding it has finished, failed or been skipped. It then runs if at least one incoming edge is
*active* — its source succeeded and produced that output port (a condition produces only the
port it chose; a failed ``error_branch`` node produces only ``error``) — and every required
input port has an active edge; otherwise it is skipped.

Failures: a node is retried first (``retry.max_attempts``, exponential backoff with jitter;
permanent errors such as 4xx answers are not retried), and only then does its ``on_error``
apply: ``stop`` fails the run and cancels the nodes still running (recorded ``cancelled`` at
their current attempt); ``continue`` fails the node and skips its branch; ``error_branch``
fails the node but activates its ``error`` port, and downstream expressions read
``nodes.<id>.error.message``; ``default_value`` succeeds with ``default_outputs``.

Resume: nodes in ``completed`` (checkpoints of an earlier, interrupted execution that finished
for good: succeeded, skipped, or failed after their last attempt) never run again. A node that
was interrupted mid-attempt resumes at its next attempt number: ``attempts`` says how many it
used, and they count against ``retry.max_attempts``.

Review: a node raising ``AwaitingPerson`` is recorded ``waiting``; nothing downstream of it is
scheduled, independent branches finish, and the run ends ``waiting_review``. The host stores
the person's decision as the node's succeeded checkpoint and resumes the run.

Limits (``RunControl``, shared with sub-workflows): node executions (attempts, including
retries) and wall time per execution; a stop request (cancel) ends the run ``cancelled``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import random
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import workflows.nodes  # noqa: F401  (registers the built-in node types)
from workflows.context import ChildOutcome, RunContext
from workflows.errors import AwaitingPerson, NodeError
from workflows.registry import REGISTRY, NodeRegistry, NodeType, Port
from workflows.spec import EdgeSpec, GraphSpec, NodeSpec, OnError, parse_graph

logger = logging.getLogger(__name__)

NodeStatus = Literal["succeeded", "failed", "skipped", "cancelled", "waiting"]
RunStatus = Literal["succeeded", "failed", "cancelled", "waiting_review"]


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
    # False for a failed attempt that another attempt follows; a final failure is not re-run.
    final: bool = True

    @property
    def active_ports(self) -> frozenset[str]:
        if self.status in ("succeeded", "failed"):
            return frozenset(self.outputs)
        return frozenset()


@dataclass
class RunOutcome:
    status: RunStatus
    error: str
    results: dict[str, NodeResult]
    # Node ids (as checkpointed) waiting for a person when the status is waiting_review.
    waiting: tuple[str, ...] = ()


class Checkpoints(Protocol):
    """Where the executor records progress. Each call must be durable when it returns."""

    async def node_started(
        self, node_id: str, node_type: str, attempt: int, inputs: dict[str, Any]
    ) -> None: ...

    async def node_finished(self, result: NodeResult) -> None: ...


class RunControl:
    """Limits and stop requests of one run, shared by its executor and its sub-workflows.

    ``max_steps`` bounds node executions (attempts, retries included; ``steps_taken`` counts
    those of earlier executions of the run), ``max_seconds`` the wall time of this execution.
    ``stop`` (e.g. from a cancel request) makes every executor cancel its running nodes."""

    def __init__(
        self,
        *,
        max_steps: int | None = None,
        max_seconds: float | None = None,
        steps_taken: int = 0,
    ) -> None:
        self.max_steps = max_steps
        self.max_seconds = max_seconds
        self.steps = steps_taken
        self.deadline = time.monotonic() + max_seconds if max_seconds else None
        self.stopped = asyncio.Event()
        self.status: Literal["failed", "cancelled"] = "failed"
        self.reason = ""

    def stop(self, status: Literal["failed", "cancelled"], reason: str) -> None:
        """Stop the run; the first reason given wins."""
        if not self.stopped.is_set():
            self.status, self.reason = status, reason
            self.stopped.set()

    def take_step(self, node_id: str) -> bool:
        """Count one node execution; False (and the run stopped) when over the limit."""
        self.steps += 1
        if self.max_steps is not None and self.steps > self.max_steps:
            self.stop(
                "failed",
                f"the run reached its limit of {self.max_steps} node executions "
                f"(PATHFLOW_RUN_MAX_STEPS) when node '{node_id}' was to run",
            )
            return False
        return True

    def remaining(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def stop_for_time(self) -> None:
        self.stop(
            "failed",
            f"the run took longer than its limit of {self.max_seconds:g} s "
            "(PATHFLOW_RUN_MAX_SECONDS)",
        )


class _PrefixedCheckpoints:
    """A child graph's checkpoints, recorded as ``<prefix><child node id>``."""

    def __init__(self, inner: Checkpoints, prefix: str) -> None:
        self.inner = inner
        self.prefix = prefix

    async def node_started(
        self, node_id: str, node_type: str, attempt: int, inputs: dict[str, Any]
    ) -> None:
        await self.inner.node_started(self.prefix + node_id, node_type, attempt, inputs)

    async def node_finished(self, result: NodeResult) -> None:
        await self.inner.node_finished(
            dataclasses.replace(result, node_id=self.prefix + result.node_id)
        )


def json_safe(value: Any) -> Any:
    """A JSON-serialisable copy for checkpoints (tuples become lists, unknowns become text)."""
    return json.loads(json.dumps(value, default=str))


def _now() -> datetime:
    return datetime.now(UTC)


def _own(items: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The entries of one graph level: ids under ``prefix`` without a further ``/``."""
    return {
        key[len(prefix) :]: value
        for key, value in items.items()
        if key.startswith(prefix) and "/" not in key[len(prefix) :]
    }


class GraphExecutor:
    def __init__(
        self,
        spec: GraphSpec,
        context: RunContext,
        checkpoints: Checkpoints,
        *,
        registry: NodeRegistry = REGISTRY,
        concurrency: int = 8,
        control: RunControl | None = None,
        prefix: str = "",
        semaphore: asyncio.Semaphore | None = None,
    ) -> None:
        self.spec = spec
        self.context = dataclasses.replace(context, children=self)
        self.checkpoints = checkpoints
        self.registry = registry
        self.control = control or RunControl()
        self.prefix = prefix
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
        self.semaphore = semaphore or asyncio.Semaphore(concurrency)
        self.results: dict[str, NodeResult] = {}
        self.waiting: dict[str, NodeResult] = {}
        # Checkpoints and used attempts of the whole run (prefixed ids), for child graphs.
        self.all_completed: Mapping[str, NodeResult] = {}
        self.all_attempts: Mapping[str, int] = {}
        self.attempts: dict[str, int] = {}
        # The attempt each running node is at, and its inputs, for recording a cancellation.
        self.current: dict[str, tuple[int, dict[str, Any]]] = {}
        # Final checkpoints being written. The scheduler does not wait for them before starting
        # the next nodes: those nodes' own start checkpoints are committed after (or together
        # with) them, and no node does any work before its start checkpoint is committed.
        self.finishing: list[asyncio.Future[None]] = []

    # --- the run loop ---------------------------------------------------------------------

    async def execute(
        self,
        completed: Mapping[str, NodeResult] | None = None,
        attempts: Mapping[str, int] | None = None,
    ) -> RunOutcome:
        """Run to the end; ``completed`` and ``attempts`` are keyed by checkpointed node id."""
        self.all_completed = completed or {}
        self.all_attempts = attempts or {}
        self.results = {
            node_id: result if result.node_id == node_id else replace(result, node_id=node_id)
            for node_id, result in _own(self.all_completed, self.prefix).items()
        }
        self.attempts = _own(self.all_attempts, self.prefix)
        for result in self.results.values():
            self._publish(result)
        running: dict[asyncio.Task[NodeResult], str] = {}
        stop = asyncio.ensure_future(self.control.stopped.wait())
        try:
            failure = await self._loop(running, stop)
        except asyncio.CancelledError:
            # Our own node was cancelled (timeout, or the parent graph stopped).
            await self._cancel(running, self.control.reason or "its sub-workflow node stopped")
            raise
        except Exception:
            # A checkpoint could not be written: stop the nodes, which must not outlive the run.
            for task in running:
                task.cancel()
            raise
        finally:
            stop.cancel()
        if self.control.stopped.is_set() and not failure:
            await self._cancel(running, self.control.reason)
        await self._flush()
        if failure:
            return RunOutcome("failed", failure, self.results)
        if self.control.stopped.is_set():
            return RunOutcome(self.control.status, self.control.reason, self.results)
        if self.waiting:
            waiting = tuple(self.prefix + node_id for node_id in self.waiting)
            return RunOutcome("waiting_review", "", {**self.results, **self.waiting}, waiting)
        return RunOutcome("succeeded", "", self.results)

    async def _loop(
        self, running: dict[asyncio.Task[NodeResult], str], stop: asyncio.Future[Any]
    ) -> str:
        """Schedule until nothing is left to run; returns the failure that stopped the graph."""
        while not self.control.stopped.is_set():
            await self._start_ready(running)
            if not running:
                return ""
            # Final checkpoints are waited on too, so that one that fails stops the run at once.
            done, _ = await asyncio.wait(
                [*running, stop, *self.finishing],
                timeout=self.control.remaining(),
                return_when=asyncio.FIRST_COMPLETED,
            )
            if not done:
                self.control.stop_for_time()
            await self._flush(only_done=True)
            for task in [t for t in running if t in done]:
                node = self.spec.node(running.pop(task))
                result = task.result()
                self.current.pop(node.id, None)
                self._record_finish(result)
                if result.status == "waiting":
                    self.waiting[node.id] = result
                    continue
                self.results[node.id] = result
                self._publish(result)
                if result.status == "failed" and node.on_error == OnError.STOP:
                    await self._cancel(running, f"the run stopped because node '{node.id}' failed")
                    return f"node '{self.prefix}{node.id}' ({node.title}) failed: {result.error}"
        return ""

    def _record_finish(self, result: NodeResult) -> None:
        self.finishing.append(asyncio.ensure_future(self.checkpoints.node_finished(result)))

    async def _flush(self, *, only_done: bool = False) -> None:
        """Wait for the final checkpoints written so far (or only look at those already
        written); a checkpoint that could not be written stops the run with its error."""
        pending = [f for f in self.finishing if f.done()] if only_done else self.finishing
        self.finishing = [f for f in self.finishing if f not in pending]
        if pending:
            await asyncio.gather(*pending)

    def _publish(self, result: NodeResult) -> None:
        """Make a finished node's outputs readable as ``nodes.<id>`` in expressions."""
        if result.status == "succeeded" or (
            result.status == "failed" and "error" in result.outputs
        ):
            self.context.node_outputs[result.node_id] = result.outputs

    async def _start_ready(self, running: dict[asyncio.Task[NodeResult], str]) -> None:
        """Start every resolved node; skipping one may resolve others, so repeat until stable."""
        progress = True
        while progress:
            progress = False
            busy = set(running.values())
            for node in self.spec.nodes:
                if node.id in self.results or node.id in busy or node.id in self.waiting:
                    continue
                edges = self.incoming[node.id]
                if any(e.source not in self.results for e in edges):
                    continue
                active = [e for e in edges if e.source_port in self.results[e.source].active_ports]
                if self._should_skip(node, edges, active):
                    result = NodeResult(node.id, node.type, "skipped", finished_at=_now())
                    self.results[node.id] = result
                    self._record_finish(result)
                    progress = True
                    continue
                inputs = self._gather_inputs(node, active)
                task = asyncio.create_task(self._run_node(node, inputs), name=node.id)
                running[task] = node.id
                busy.add(node.id)

    def _inputs_of(self, node: NodeSpec) -> tuple[Port, ...]:
        return self.types[node.id].input_ports(node.config)

    def _should_skip(self, node: NodeSpec, edges: list[EdgeSpec], active: list[EdgeSpec]) -> bool:
        if not edges:
            return not self.types[node.id].is_trigger
        if not active:
            return True
        fed = {e.target_port for e in active}
        return any(p.required and p.name not in fed for p in self._inputs_of(node))

    def _gather_inputs(self, node: NodeSpec, active: list[EdgeSpec]) -> dict[str, Any]:
        inputs: dict[str, Any] = {}
        for port in self._inputs_of(node):
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

    # --- one node -------------------------------------------------------------------------

    async def _run_node(self, node: NodeSpec, inputs: dict[str, Any]) -> NodeResult:
        safe_inputs = json_safe(inputs)
        first = self.attempts.get(node.id, 0) + 1
        if first > node.retry.max_attempts:
            return await self._out_of_attempts(node, safe_inputs, first - 1)
        for attempt in range(first, node.retry.max_attempts + 1):
            self.current[node.id] = (attempt, safe_inputs)
            if not self.control.take_step(self.prefix + node.id):
                await asyncio.Future()  # parked until the executor cancels it (run stopped)
            result = await self._attempt(node, inputs, safe_inputs, attempt)
            if result.status != "failed" or result.final:
                return result  # the scheduler records it (see ``finishing``)
            await self.checkpoints.node_finished(result)
            self.current[node.id] = (attempt + 1, safe_inputs)
            # Exponential backoff with jitter so that retries from many runs do not align.
            delay = node.retry.backoff_s * 2 ** (attempt - 1)
            await asyncio.sleep(delay * (1 + random.random() / 4))  # noqa: S311 (not crypto)
        raise AssertionError("unreachable: the last attempt is always final")

    async def _attempt(
        self, node: NodeSpec, inputs: dict[str, Any], safe_inputs: dict[str, Any], attempt: int
    ) -> NodeResult:
        node_type = self.types[node.id]
        context = dataclasses.replace(self.context, node_id=self.prefix + node.id)
        await self.checkpoints.node_started(node.id, node.type, attempt, safe_inputs)
        started = _now()
        error, permanent = "", False
        try:
            call = node_type.run(context, inputs, node.config)
            if getattr(node_type, "runs_graph", False):
                # A sub-workflow's own nodes take the run's slots; holding one here could
                # starve them.
                outputs = await asyncio.wait_for(call, node.timeout_s)
            else:
                async with self.semaphore:
                    outputs = await asyncio.wait_for(call, node.timeout_s)
        except AwaitingPerson as exc:
            return NodeResult(
                node.id,
                node.type,
                "waiting",
                attempt,
                safe_inputs,
                {"waiting": json_safe(exc.request)},
                "",
                started,
            )
        except NodeError as exc:
            error, permanent = str(exc), exc.permanent
        except TimeoutError:
            error = f"no result within the node's timeout of {node.timeout_s:g} s"
        except Exception as exc:  # a bug in a node type must fail the node, not the worker
            logger.exception("node %s (%s) raised unexpectedly", node.id, node.type)
            error, permanent = f"internal error: {type(exc).__name__}: {exc}", True
        else:
            return NodeResult(
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
        failed = NodeResult(
            node.id, node.type, "failed", attempt, safe_inputs, {}, error, started, _now()
        )
        if permanent or attempt == node.retry.max_attempts:
            return self._apply_on_error(node, failed)
        return dataclasses.replace(failed, final=False)

    async def _out_of_attempts(
        self, node: NodeSpec, safe_inputs: dict[str, Any], used: int
    ) -> NodeResult:
        """A resumed node whose every attempt was interrupted (e.g. the worker was killed)."""
        error = (
            f"interrupted: the worker running it stopped during its attempt {used} of "
            f"{node.retry.max_attempts}, and no attempt is left"
        )
        failed = NodeResult(
            node.id, node.type, "failed", used, safe_inputs, {}, error, None, _now()
        )
        return self._apply_on_error(node, failed)

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

    async def _cancel(self, running: dict[asyncio.Task[NodeResult], str], reason: str) -> None:
        """Cancel the running nodes and record each as cancelled at its current attempt."""
        for task in running:
            task.cancel()
        for task, node_id in running.items():
            with contextlib.suppress(asyncio.CancelledError):
                await task
            node = self.spec.node(node_id)
            attempt, inputs = self.current.pop(node_id, (self.attempts.get(node_id, 0) + 1, {}))
            result = NodeResult(
                node_id,
                node.type,
                "cancelled",
                attempt,
                inputs,
                error=f"cancelled: {reason}",
                finished_at=_now(),
            )
            self.results[node_id] = result
            await self.checkpoints.node_finished(result)
        running.clear()

    # --- sub-workflows --------------------------------------------------------------------

    async def run_child(
        self, document: dict[str, Any], node_id: str, path: tuple[str, ...]
    ) -> ChildOutcome:
        """Run a child graph for node ``node_id``; its nodes are checkpointed as
        ``<node_id>/<child id>`` so that a resumed run does not repeat finished ones."""
        spec = parse_graph(document)
        prefix = f"{self.prefix}{node_id}/"
        context = dataclasses.replace(self.context, node_outputs={}, workflow_path=path, node_id="")
        child = GraphExecutor(
            spec,
            context,
            _PrefixedCheckpoints(self.checkpoints, f"{node_id}/"),
            registry=self.registry,
            control=self.control,
            prefix=prefix,
            semaphore=self.semaphore,
        )
        outcome = await child.execute(self.all_completed, self.all_attempts)
        outputs = {
            result.node_id: result.outputs
            for result in outcome.results.values()
            if result.status == "succeeded"
        }
        return ChildOutcome(outcome.status, outcome.error, outputs, outcome.waiting)


async def execute_graph(
    spec: GraphSpec,
    context: RunContext,
    checkpoints: Checkpoints,
    *,
    completed: Mapping[str, NodeResult] | None = None,
    attempts: Mapping[str, int] | None = None,
    registry: NodeRegistry = REGISTRY,
    concurrency: int = 8,
    control: RunControl | None = None,
) -> RunOutcome:
    """Run ``spec`` to the end, to the first failure of an ``on_error: stop`` node, to a stop
    request or limit (``control``), or until only nodes waiting for a person remain."""
    executor = GraphExecutor(
        spec, context, checkpoints, registry=registry, concurrency=concurrency, control=control
    )
    return await executor.execute(completed, attempts)
