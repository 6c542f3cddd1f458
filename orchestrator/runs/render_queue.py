"""Renders on a queue of their own (``PATHFLOW_RENDER_QUEUE``), so that render workers can run
on machines of their own.

With the queue configured, a render_report node does not render in the run's process: the bridge
raises ``AwaitingTask`` with the render request, the executor records the node ``waiting`` (like
a review) and the run ends its execution ``waiting_render``, releasing its lease and its worker.
``hand_renders_over`` then puts a ``reports.render_node`` task per waiting render on the render
queue; the task (``render_node``) renders, stores the draft report and the node's succeeded
checkpoint in one transaction, and queues the run again, which resumes after the node.

Exactly once: the render and the node's checkpoint commit together, and only while the node is
still ``waiting`` and the run still parked — a second delivery of the task (its worker died
after committing, or the sweep queued it again) finds the node done and does nothing; one whose
worker died before committing renders again, and only its commit counts. A render task that
stopped its worker MAX_INTERRUPTIONS times is a poison step: the node fails for good and the run
goes on to fail (or take its error branch) with that reason.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from orchestrator.runs.bridge import render_draft
from orchestrator.runs.models import NodeRun, NodeRunStatus, Run, RunStatus
from workflows.context import ReportFigure
from workflows.errors import NodeError
from workflows.nodes.render_report import report_outputs

logger = logging.getLogger(__name__)

# Statuses of a run parked with a render outstanding: a review may be outstanding beside it.
PARKED = (RunStatus.WAITING_RENDER, RunStatus.WAITING_REVIEW)
# Deliveries of one render task that began rendering; more means it kills its worker.
MAX_RENDER_STARTS = 3


class _Abandon(Exception):
    """Roll the render back: the node or the run moved on while it was rendering."""


def _waiting_renders(run_id: int) -> Any:
    return NodeRun.objects.filter(
        run_id=run_id, status=NodeRunStatus.WAITING, outputs__waiting__kind="render"
    )


def parked_status(run_id: int) -> RunStatus:
    """How a run whose execution ended with waiting nodes is parked: ``waiting_review`` while
    a person is asked anything, else ``waiting_render`` when renders are outstanding."""
    waiting = NodeRun.objects.filter(run_id=run_id, status=NodeRunStatus.WAITING)
    if waiting.filter(outputs__waiting__kind="review").exists():
        return RunStatus.WAITING_REVIEW
    if waiting.filter(outputs__waiting__kind="render").exists():
        return RunStatus.WAITING_RENDER
    return RunStatus.WAITING_REVIEW


def hand_renders_over(run_id: int) -> int:
    """Queue a render task for every render the run waits for, once the current transaction
    commits (a task queued twice is harmless). When the queue cannot be reached the run is
    marked ``handoff_pending`` and the workers' sweep tries again. Returns the renders found."""
    from orchestrator.runs.tasks import render_node_task

    keys = list(_waiting_renders(run_id).values_list("node_id", "attempt"))

    def send() -> None:
        try:
            for node_id, attempt in keys:
                render_node_task.delay(run_id, node_id, attempt)
        except Exception as exc:  # kombu's OperationalError and the transports' own errors
            Run.objects.filter(pk=run_id).update(handoff_pending=True)
            logger.error(
                "run %s: its renders could not be queued (%s); a worker queues them again",
                run_id,
                type(exc).__name__,
            )
            return
        Run.objects.filter(pk=run_id, handoff_pending=True).update(handoff_pending=False)

    if keys:
        transaction.on_commit(send)
    return len(keys)


def hand_over_pending_renders(*, every_parked: bool = False) -> list[int]:
    """Queue again the renders of parked runs whose render tasks never reached the queue; with
    ``every_parked`` (the broker lost its queues: a restart without persistence) the renders of
    every parked run, whose tasks went with them. A render delivered twice renders once."""
    pending = Run.objects.filter(status=RunStatus.WAITING_RENDER)
    if not every_parked:
        pending = pending.filter(handoff_pending=True)
    return [pk for pk in pending.values_list("pk", flat=True) if hand_renders_over(pk)]


def render_node(run_id: int, node_id: str, attempt: int) -> str:
    """Render the report a parked render node asked for, store it as the node's checkpoint and
    resume the run. Safe to deliver any number of times (see the module docstring). Returns
    what happened: ``rendered``, ``failed``, ``poisoned`` or ``nothing to do``."""
    request = _count_start(run_id, node_id, attempt)
    if request is None:
        return "nothing to do"
    if request["starts"] > MAX_RENDER_STARTS:
        reason = (
            f"interrupted: rendering node '{node_id}' stopped its render worker "
            f"{MAX_RENDER_STARTS} times (the process was killed or ran out of memory each "
            "time); it is not tried again"
        )
        logger.error("run %s: %s", run_id, reason)
        return _settle_outside(run_id, node_id, attempt, NodeRunStatus.FAILED, {}, reason)
    try:
        with transaction.atomic():
            run = Run.objects.select_related("case", "template_version").get(pk=run_id)
            figures = [ReportFigure(f["reference"], f["caption"]) for f in request["figures"]]
            rendered = render_draft(
                run, request["findings"], request["provenance"], request["language"], figures
            )
            _settle(
                run_id,
                node_id,
                attempt,
                NodeRunStatus.SUCCEEDED,
                report_outputs(rendered),
                "",
                final=True,
            )
    except _Abandon:
        return "nothing to do"
    except DatabaseError:
        raise  # nothing was stored: the task is tried again (tasks.render_node_task)
    except Exception as exc:  # a render that failed: the node's retry policy decides
        logger.warning("run %s: rendering node %s failed", run_id, node_id, exc_info=True)
        error = str(exc) if isinstance(exc, NodeError) else f"{type(exc).__name__}: {exc}"
        return _settle_outside(run_id, node_id, attempt, NodeRunStatus.FAILED, {}, error)
    return "rendered"


def _count_start(run_id: int, node_id: str, attempt: int) -> dict[str, Any] | None:
    """The node's render request with this delivery counted in ``starts``; None when the node
    no longer waits for a render or the run is no longer parked."""
    with transaction.atomic():
        row = (
            _waiting_renders(run_id)
            .select_for_update()
            .filter(node_id=node_id, attempt=attempt)
            .first()
        )
        if row is None or not Run.objects.filter(pk=run_id, status__in=PARKED).exists():
            return None
        request: dict[str, Any] = dict(row.outputs["waiting"])
        request["starts"] = int(request.get("starts", 0)) + 1
        row.outputs = {**row.outputs, "waiting": request}
        row.save(update_fields=["outputs"])
    return request


def _settle_outside(
    run_id: int,
    node_id: str,
    attempt: int,
    status: NodeRunStatus,
    outputs: dict[str, Any],
    error: str,
) -> str:
    """Store a failed render. A poison render fails the run at once, as a poison step in a run
    worker does (leasing._poisoned); any other failed attempt is not ``final``: the resumed
    run tries the node again within its retry policy, and then applies its error policy."""
    poisoned = error.startswith("interrupted:")
    try:
        with transaction.atomic():
            _settle(run_id, node_id, attempt, status, outputs, error, final=poisoned)
            if poisoned:
                _fail_run(run_id, error.removeprefix("interrupted: "))
    except _Abandon:
        return "nothing to do"
    return "poisoned" if poisoned else "failed"


def _fail_run(run_id: int, reason: str) -> None:
    from orchestrator.audit.actions import AuditAction
    from orchestrator.audit.services import record_event

    Run.objects.filter(pk=run_id).update(
        status=RunStatus.FAILED, error=reason, finished_at=timezone.now()
    )
    run = Run.objects.select_related("case__department").get(pk=run_id)
    record_event(AuditAction.RUN_FAILED, run, actor_label="worker", department=run.case.department)


def _settle(
    run_id: int,
    node_id: str,
    attempt: int,
    status: NodeRunStatus,
    outputs: dict[str, Any],
    error: str,
    *,
    final: bool,
) -> None:
    """Inside the caller's transaction: store the node's checkpoint if it still waits and the
    run is still parked (else raise _Abandon, rolling the render back), and queue the run again
    when no render is left to wait for. A failed attempt that is not ``final`` leaves the next
    attempt to the resumed run, within the node's retry policy."""
    from orchestrator.runs.services import enqueue_run

    run = Run.objects.select_for_update().filter(pk=run_id, status__in=PARKED).first()
    if run is None:
        raise _Abandon
    row = _waiting_renders(run_id).filter(node_id=node_id, attempt=attempt).first()
    if row is None:
        raise _Abandon
    now = timezone.now()
    started = row.started_at or now
    NodeRun.objects.filter(pk=row.pk).update(
        status=status,
        outputs=outputs,
        error=error,
        finished_at=now,
        duration_ms=int((now - started).total_seconds() * 1000),
        final=final,
    )
    if final and status == NodeRunStatus.FAILED:
        return  # a poison render: the caller fails the run
    if run.status == RunStatus.WAITING_RENDER and not _waiting_renders(run_id).exists():
        Run.objects.filter(pk=run_id).update(status=RunStatus.QUEUED)
        enqueue_run(run_id)
