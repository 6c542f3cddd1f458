"""Starting and executing runs. Views, commands and tasks call these; nothing else changes runs."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

import httpx
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from orchestrator.accounts.models import User
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.cases.models import Case
from orchestrator.designs.models import VersionStatus, WorkflowVersion
from orchestrator.runs.bridge import DjangoCheckpoints

# Callers import these from here (the task, the tests).
from orchestrator.runs.leasing import MAX_INTERRUPTIONS as MAX_INTERRUPTIONS
from orchestrator.runs.leasing import LeaseHeld as LeaseHeld
from orchestrator.runs.leasing import (
    Loaded,
    lease_owner,
    lease_until,
    not_taken,
    take_and_load,
)
from orchestrator.runs.models import NodeRun, NodeRunStatus, Run, RunStatus
from orchestrator.runs.outage import through_outage
from orchestrator.runs.render_queue import PARKED, hand_renders_over, parked_status
from workflows.context import RunContext
from workflows.datasets import OVERRIDES, findings_problems, override_problems, parse_dataset
from workflows.executor import RunControl, RunOutcome, execute_graph
from workflows.http import new_client
from workflows.nodes.review import decision_outputs, decision_problems
from workflows.spec import parse_graph

logger = logging.getLogger(__name__)
T = TypeVar("T")
# How often storing a run's end is tried before the sweep has to pick the run up again.
FINISH_ATTEMPTS = 3


class RunRejected(ValueError):
    """The run cannot start; the message says why."""


def check_can_start(
    case: Case, workflow_version: WorkflowVersion, *, allow_draft: bool = False
) -> None:
    if workflow_version.status != VersionStatus.PUBLISHED and not allow_draft:
        raise RunRejected(f"{workflow_version} is not published")
    if workflow_version.workflow.department_id != case.department_id:
        raise RunRejected("the workflow belongs to another department than the case")


def start_run(
    case: Case,
    workflow_version: WorkflowVersion,
    *,
    requested_by: User | None = None,
    enqueue: bool = True,
    allow_draft: bool = False,
) -> Run:
    """Create a queued run pinned to the workflow version and its template version, and (with
    ``enqueue``) hand it to a worker once the transaction commits. ``allow_draft`` permits a
    *test run* of a draft version (``is_test``: never delivered, never signed)."""
    check_can_start(case, workflow_version, allow_draft=allow_draft)
    with transaction.atomic():
        run = Run.objects.create(
            case=case,
            workflow_version=workflow_version,
            template_version=workflow_version.template_version,
            requested_by=requested_by,
            is_test=workflow_version.status != VersionStatus.PUBLISHED,
        )
        record_event(
            AuditAction.RUN_STARTED,
            run,
            actor=requested_by,
            department=case.department,
            workflow_version=workflow_version.pk,
        )
        if enqueue:
            # A new run cannot be marked ``handoff_pending`` yet: nothing to clear once queued
            # (one UPDATE less on the path of every run, which contended for SQLite's write
            # lock with the worker taking the run's lease).
            transaction.on_commit(lambda: hand_to_worker(run.pk, clear_pending=False))
    return run


def enqueue_run(run_id: int) -> None:
    """Hand the run to a worker once the current transaction commits."""
    transaction.on_commit(lambda: hand_to_worker(run_id))


def hand_to_worker(run_id: int, *, clear_pending: bool = True) -> bool:
    """Put the run's task on the queue. When the queue cannot be reached the run is not lost:
    it stays queued, marked ``handoff_pending``, and every worker's sweep
    (``hand_over_pending_runs``) tries again until the queue takes it. True once it is queued
    (and, with ``clear_pending``, no longer marked)."""
    from orchestrator.runs.tasks import execute_run_task

    try:
        execute_run_task.delay(run_id)
    except Exception as exc:  # kombu's OperationalError and the transports' own errors
        Run.objects.filter(pk=run_id).update(handoff_pending=True)
        logger.error(
            "run %s stays queued: the task queue cannot be reached (%s: %s); a worker hands "
            "it over when the queue is back",
            run_id,
            type(exc).__name__,
            exc,
        )
        return False
    if clear_pending:
        Run.objects.filter(pk=run_id, handoff_pending=True).update(handoff_pending=False)
    return True


def hand_over_pending_runs(*, every_queued: bool = False) -> list[int]:
    """Queue again every run whose task never reached the queue, and every run left
    ``running`` whose lease expired more than a lease period ago — its worker died and its task
    is gone (acknowledged after an error, or lost by the broker). With ``every_queued`` (the
    broker lost its queues: a restart without persistence) every queued run as well. A run
    queued twice is safe: its lease lets one execution through. Returns the ids handed over."""
    stale = timezone.now() - timedelta(seconds=settings.RUN_LEASE_SECONDS)
    queued = (
        Q(status=RunStatus.QUEUED)
        if every_queued
        else Q(handoff_pending=True, status=RunStatus.QUEUED)
    )
    pending = Run.objects.filter(
        queued
        | Q(status=RunStatus.RUNNING, lease_expires_at__lt=stale)
        | Q(status=RunStatus.RUNNING, lease_expires_at__isnull=True, started_at__lt=stale)
    )
    return [pk for pk in pending.values_list("pk", flat=True) if hand_to_worker(pk)]


def cancel_run(run: Run, user: User) -> Run:
    """Cancel a run. A queued run or one waiting for a review is cancelled at once; a running
    run is marked, and its executor stops within about a second: in-flight nodes are recorded
    ``cancelled`` and the run ends ``cancelled``. Raises RunRejected for a finished run."""
    now = timezone.now()
    label = user.get_username()
    with transaction.atomic():
        # Queued, waiting for a review, or running on a worker that is gone (its lease
        # expired): nobody would see a cancel mark, so the run ends now.
        idle = (
            Run.objects.filter(pk=run.pk)
            .filter(
                Q(
                    status__in=[
                        RunStatus.QUEUED,
                        RunStatus.WAITING_REVIEW,
                        RunStatus.WAITING_RENDER,
                    ]
                )
                | Q(status=RunStatus.RUNNING, lease_expires_at__isnull=True)
                | Q(status=RunStatus.RUNNING, lease_expires_at__lt=now)
            )
            .update(
                status=RunStatus.CANCELLED,
                cancel_requested_at=now,
                cancelled_by=user,
                finished_at=now,
                error=f"cancelled by {label}",
                lease_owner="",
                lease_expires_at=None,
            )
        )
        if idle:
            run.node_runs.filter(status__in=[NodeRunStatus.WAITING, NodeRunStatus.RUNNING]).update(
                status=NodeRunStatus.CANCELLED, finished_at=now, error=f"cancelled by {label}"
            )
        else:
            marked = Run.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
                cancel_requested_at=now, cancelled_by=user
            )
            if not marked:
                run.refresh_from_db()
                raise RunRejected(f"run {run.pk} has already finished ({run.status})")
        record_event(
            AuditAction.RUN_CANCELLED if idle else AuditAction.RUN_CANCEL_REQUESTED,
            run,
            actor=user,
            department=run.case.department,
        )
    run.refresh_from_db()
    return run


def submit_review(run: Run, node_id: str, decision: dict[str, Any], user: User) -> Run:
    """Record a person's decision on a review node that parks ``run``, and resume the run.

    ``decision`` is ``{"decision": one of the node's decisions, "values": {element id: value},
    "comment": text}``; values must be fields the review asks for and fit the run's template
    version. The decision (who, when, values) becomes the node's succeeded outputs, is audited,
    and the run is re-queued once the transaction commits. Raises RunRejected naming every
    problem."""
    if user.department_id != run.case.department_id:
        raise RunRejected("the run belongs to another department")
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        if locked.status != RunStatus.WAITING_REVIEW:
            raise RunRejected(f"run {run.pk} is not waiting for a review (it is {locked.status})")
        if locked.cancel_requested_at is not None:
            raise RunRejected(f"run {run.pk} is being cancelled; its review no longer applies")
        row = locked.node_runs.filter(node_id=node_id, status=NodeRunStatus.WAITING).first()
        if row is None:
            waiting = locked.node_runs.filter(status=NodeRunStatus.WAITING)
            names = ", ".join(sorted(w.node_id for w in waiting)) or "none"
            raise RunRejected(
                f"node '{node_id}' is not waiting for a review in run {run.pk} (waiting: {names})"
            )
        request = row.outputs.get("waiting", {})
        if request.get("kind") != "review":
            inner = ", ".join(request.get("nodes", [])) or "its own review nodes"
            raise RunRejected(
                f"node '{node_id}' is a sub-workflow waiting for {inner}; submit the decision "
                "to that review node"
            )
        problems = decision_problems(request, decision)
        if not problems:
            problems = _value_problems(locked, decision.get("values") or {})
        if problems:
            raise RunRejected(f"node '{node_id}': " + "; ".join(problems))
        now = timezone.now()
        reviewer = {"id": user.pk, "username": user.get_username(), "name": str(user)}
        row.outputs = decision_outputs(decision, reviewer, now.isoformat())
        row.status = NodeRunStatus.SUCCEEDED
        row.finished_at = now
        row.error = ""
        row.save(update_fields=["outputs", "status", "finished_at", "error"])
        # Re-queued for a worker; the resumed run skips every node that finished.
        Run.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED)
        record_event(
            AuditAction.RUN_REVIEW_SUBMITTED,
            locked,
            actor=user,
            department=run.case.department,
            node=node_id,
            decision=decision["decision"],
            fields=sorted(decision.get("values") or {}),
        )
        enqueue_run(run.pk)
    run.refresh_from_db()
    return run


def _value_problems(run: Run, values: dict[str, Any]) -> list[str]:
    """Values a person entered that do not fit the run's template version."""
    dataset = parse_dataset(run.template_version.dataset)
    known = {e.id for e in dataset.elements()}
    problems = [
        f"values: element '{k}' is not in the template"
        for k in values
        if k not in known and k != OVERRIDES
    ]
    problems.extend(f"values: {p}" for p in override_problems(dataset, values))
    for element in dataset.elements():
        if element.id in values:
            problems.extend(
                f"values: {p}"
                for p in findings_problems(
                    dataset, {element.id: values[element.id]}, complete=False
                )
                if p.element_id == element.id and "does not apply" not in p.reason
            )
    return problems


# --- executing runs ---------------------------------------------------------------------------


class _EngineLoop(threading.local):
    """One event loop and one ``httpx.AsyncClient`` per process (per thread, for callers such
    as tests that execute runs from several threads), kept between runs: a client is bound to
    the loop it first runs in, and a new client per request costs about 25 ms. Created on
    first use, so that a forked worker process makes its own; closed when the process ends."""

    def __init__(self) -> None:
        self.pid = 0
        self.runner: asyncio.Runner | None = None
        self.client: httpx.AsyncClient | None = None

    def run(self, make: Callable[[httpx.AsyncClient], Coroutine[Any, Any, T]]) -> T:
        if self.runner is None or self.client is None or self.pid != os.getpid():
            self.runner, self.pid = asyncio.Runner(), os.getpid()
            self.client = self.runner.run(_new_client())
        return self.runner.run(make(self.client))

    def close(self) -> None:
        if self.runner is not None and self.pid == os.getpid():
            if self.client is not None:
                with contextlib.suppress(Exception):
                    self.runner.run(self.client.aclose())
            self.runner.close()
        self.runner = self.client = None


async def _new_client() -> httpx.AsyncClient:
    return new_client()


ENGINE_LOOP = _EngineLoop()
atexit.register(ENGINE_LOOP.close)


def _check_in(run_id: int, owner: str, renew: bool) -> tuple[bool, str | None]:
    """(whether we still hold the lease, who asked to cancel the run if someone did)."""
    if renew:
        held = Run.objects.filter(pk=run_id, lease_owner=owner).update(
            lease_expires_at=lease_until()
        )
        if not held:
            return False, None
    row = (
        Run.objects.filter(pk=run_id)
        .values_list("lease_owner", "cancel_requested_at", "cancelled_by__username")
        .first()
    )
    if row is None or row[0] != owner:
        return False, None
    return True, (row[2] or "a user") if row[1] else None


# The heartbeat has a thread (and database connection) of its own: the ORM thread of the
# checkpoints may be busy for seconds (a render), and the lease must not lapse meanwhile.
_WATCH_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="run-heartbeat")


def _close_connection() -> None:
    # `connection` is looked up in the thread that runs this, so it closes that thread's own
    # connection; `connection.close` passed from another thread would be the caller's.
    connection.close()


def close_run_connections() -> None:
    """Close the database connections the heartbeat and ORM threads keep between runs. A worker
    never needs this; a process that drops its database afterwards (the test suite on
    PostgreSQL) does, or the database is still "being accessed by other users"."""
    _WATCH_THREAD.submit(_close_connection).result()
    asyncio.run(sync_to_async(_close_connection)())


async def _watch(run_id: int, owner: str, control: RunControl) -> None:
    """Renew the lease every RUN_HEARTBEAT_SECONDS; look for a cancel request every second."""
    loop = asyncio.get_running_loop()
    beats = max(1, settings.RUN_HEARTBEAT_SECONDS)
    tick = 0
    while True:
        await asyncio.sleep(1.0)
        tick += 1
        renew = tick % beats == 0
        try:
            held, cancelled_by = await loop.run_in_executor(
                _WATCH_THREAD, _check_in, run_id, owner, renew
            )
        except Exception:  # a busy or briefly unreachable database: try again next second
            logger.warning("run %s: heartbeat failed; retrying", run_id, exc_info=True)
            # With a fresh connection, in case the server closed this one.
            await loop.run_in_executor(_WATCH_THREAD, _close_connection)
            continue
        if not held:
            control.stop("cancelled", "another worker took the run over (its lease expired)")
            return
        if cancelled_by:
            control.stop("cancelled", f"cancelled by {cancelled_by}")
            return


async def _execute(loaded: Loaded, owner: str, http: httpx.AsyncClient) -> RunOutcome:
    run = loaded.run
    spec = parse_graph(run.workflow_version.spec)
    control = RunControl(
        max_steps=settings.RUN_MAX_STEPS,
        max_seconds=settings.RUN_MAX_SECONDS,
        steps_taken=loaded.resume.steps,
    )
    context = RunContext(
        run_id=str(run.pk),
        case=loaded.case,
        services=loaded.services,
        http=http,
        workflow_path=(run.workflow_version.workflow.slug,),
    )
    watcher = asyncio.create_task(_watch(run.pk, owner, control))
    try:
        return await execute_graph(
            spec,
            context,
            DjangoCheckpoints(run, loaded.services),
            completed=loaded.resume.completed,
            attempts=loaded.resume.attempts,
            concurrency=settings.RUN_CONCURRENCY,
            control=control,
        )
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


def execute_run(run_id: int) -> Run | None:
    """Run (or resume) a run until it ends or waits for a review.

    Idempotent and safe against a second delivery: the run's lease is taken first; a run that
    is finished, cancelled or waiting for a review is returned untouched; raises LeaseHeld while
    another live worker holds it. Nodes that finished for good in an interrupted execution are
    not run again."""
    return ENGINE_LOOP.run(lambda http: _execute_run(run_id, http))


async def _execute_run(run_id: int, http: httpx.AsyncClient) -> Run | None:
    # Every database touch goes through the one ORM thread, whose connection is kept from run
    # to run (Celery closes the task thread's connection before each task: a reconnect per run).
    orm = sync_to_async
    owner = lease_owner()
    # The lease and the loading in one trip to the ORM thread (each trip is a thread hand-off
    # on the path of every run).
    taken = await orm(take_and_load)(run_id, owner)
    if taken is None:
        return await orm(not_taken)(run_id)
    try:
        if isinstance(taken, Exception):
            raise taken
        loaded = taken
        if loaded.run.cancel_requested_at is not None:
            by = loaded.run.cancelled_by
            label = by.get_username() if by else "a user"
            outcome = RunOutcome("cancelled", f"cancelled by {label}", {})
        elif loaded.poisoned:
            outcome = RunOutcome("failed", loaded.poisoned, {})
        else:
            outcome = await _execute(loaded, owner, http)
    except Exception as exc:  # a run must end visibly failed, never stay "running"
        logger.exception("run %s stopped by an internal error", run_id)
        outcome = RunOutcome("failed", f"internal error: {type(exc).__name__}: {exc}", {})
    for attempt in range(1, FINISH_ATTEMPTS + 1):
        try:
            return await orm(_finish)(run_id, owner, outcome)
        except DatabaseError:
            if attempt == FINISH_ATTEMPTS:
                # The run stays "running" with a lease that expires; a worker's sweep queues it
                # again and the resumed run, whose nodes all finished, ends it.
                raise
            logger.warning("run %s: could not store its end; retrying", run_id, exc_info=True)
            await orm(_close_connection)()
            await asyncio.sleep(0.5 * attempt)
    return None


_STATUS = {
    "succeeded": RunStatus.SUCCEEDED,
    "failed": RunStatus.FAILED,
    "cancelled": RunStatus.CANCELLED,
    "waiting_review": RunStatus.WAITING_REVIEW,
}


@through_outage
def _finish(run_id: int, owner: str, outcome: RunOutcome) -> Run | None:
    """Store how the execution ended and release the lease, unless another worker took it."""
    status = _STATUS[outcome.status]
    error = outcome.error
    if status == RunStatus.WAITING_REVIEW:
        # Parked for a person, or only for renders on the render queue (render_queue.py).
        status = parked_status(run_id)
        # A cancel pressed while the run was parking for a review wins over the parking.
        requested_at, by = (
            Run.objects.filter(pk=run_id)
            .values_list("cancel_requested_at", "cancelled_by__username")
            .get()
        )
        if requested_at is not None:
            status, error = RunStatus.CANCELLED, f"cancelled by {by or 'a user'}"
            NodeRun.objects.filter(run_id=run_id, status=NodeRunStatus.WAITING).update(
                status=NodeRunStatus.CANCELLED, finished_at=timezone.now(), error=error
            )
    finished = None if status in PARKED else timezone.now()
    stored = Run.objects.filter(pk=run_id, lease_owner=owner).update(
        status=status,
        error=error,
        finished_at=finished,
        lease_owner="",
        lease_expires_at=None,
    )
    run = Run.objects.select_related("case__department").filter(pk=run_id).first()
    if not stored or run is None:
        logger.warning("run %s: lease lost before the end; another worker goes on", run_id)
        return run
    if status in PARKED:
        hand_renders_over(run_id)
    detail: dict[str, Any] = {"waiting": list(outcome.waiting)} if outcome.waiting else {}
    record_event(
        AuditAction(f"run.{status}"),
        run,
        actor_label="worker",
        department=run.case.department,
        **detail,
    )
    logger.info("run %s: %s", run_id, status)
    return run
