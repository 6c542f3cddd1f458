"""Starting and executing runs. Views, commands and tasks call these; nothing else changes runs."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orchestrator.accounts.models import User
from orchestrator.audit.services import record_event
from orchestrator.cases.models import Case
from orchestrator.designs.models import VersionStatus, WorkflowVersion
from orchestrator.runs.bridge import (
    DjangoCheckpoints,
    DjangoServices,
    case_payload,
    completed_results,
)
from orchestrator.runs.models import NodeRunStatus, Run, RunStatus
from workflows.context import RunContext
from workflows.datasets import findings_problems, parse_dataset
from workflows.executor import NodeResult, RunOutcome, execute_graph
from workflows.http import new_client
from workflows.nodes.review import decision_outputs, decision_problems
from workflows.spec import parse_graph

logger = logging.getLogger(__name__)


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
            "run.started",
            run,
            actor=requested_by,
            department=case.department,
            workflow_version=workflow_version.pk,
        )
        if enqueue:
            from orchestrator.runs.tasks import execute_run_task

            transaction.on_commit(lambda: execute_run_task.delay(run.pk))
    return run


def _enqueue(run_id: int) -> None:
    from orchestrator.runs.tasks import execute_run_task

    transaction.on_commit(lambda: execute_run_task.delay(run_id))


def cancel_run(run: Run, user: User) -> Run:
    """Cancel a run. A queued run or one waiting for a review is cancelled at once; a running
    run is marked, and its executor stops within about a second: in-flight nodes are recorded
    ``cancelled`` and the run ends ``cancelled``. Raises RunRejected for a finished run."""
    now = timezone.now()
    label = user.get_username()
    with transaction.atomic():
        idle = Run.objects.filter(
            pk=run.pk, status__in=[RunStatus.QUEUED, RunStatus.WAITING_REVIEW]
        ).update(
            status=RunStatus.CANCELLED,
            cancel_requested_at=now,
            cancelled_by=user,
            finished_at=now,
            error=f"cancelled by {label}",
            lease_owner="",
            lease_expires_at=None,
        )
        if idle:
            run.node_runs.filter(status=NodeRunStatus.WAITING).update(
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
            "run.cancelled" if idle else "run.cancel_requested",
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
        row = locked.node_runs.filter(node_id=node_id, status=NodeRunStatus.WAITING).first()
        if row is None:
            waiting = locked.node_runs.filter(status=NodeRunStatus.WAITING)
            names = ", ".join(sorted(w.node_id for w in waiting)) or "none"
            raise RunRejected(
                f"node '{node_id}' is not waiting for a review in run {run.pk} (waiting: {names})"
            )
        request = row.outputs.get("review", {})
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
            "run.review_submitted",
            locked,
            actor=user,
            department=run.case.department,
            node=node_id,
            decision=decision["decision"],
            fields=sorted(decision.get("values") or {}),
        )
        _enqueue(run.pk)
    run.refresh_from_db()
    return run


def _value_problems(run: Run, values: dict[str, Any]) -> list[str]:
    """Values a person entered that do not fit the run's template version."""
    dataset = parse_dataset(run.template_version.dataset)
    known = {e.id for e in dataset.elements()}
    problems = [f"values: element '{k}' is not in the template" for k in values if k not in known]
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


async def _execute(
    run: Run, case: dict[str, Any], services: DjangoServices, completed: dict[str, NodeResult]
) -> RunOutcome:
    spec = parse_graph(run.workflow_version.spec)
    async with new_client() as http:
        context = RunContext(run_id=str(run.pk), case=case, services=services, http=http)
        return await execute_graph(
            spec,
            context,
            DjangoCheckpoints(run),
            completed=completed,
            concurrency=settings.RUN_CONCURRENCY,
        )


def execute_run(run_id: int) -> Run | None:
    """Run (or resume) a run to its end. Idempotent: a finished run is returned untouched, and
    nodes checkpointed by an interrupted attempt are not run again."""
    with transaction.atomic():
        run = (
            Run.objects.select_for_update()
            .select_related("case__department", "workflow_version", "template_version")
            .filter(pk=run_id)
            .first()
        )
        if run is None or run.is_terminal:
            return run
        run.status = RunStatus.RUNNING
        run.started_at = run.started_at or timezone.now()
        run.save(update_fields=["status", "started_at"])
    try:
        # Everything the ORM must load is loaded here, before the event loop starts.
        outcome = asyncio.run(
            _execute(run, case_payload(run), DjangoServices(run), completed_results(run))
        )
    except Exception as exc:  # a run must end visibly failed, never stay "running"
        logger.exception("run %s stopped by an internal error", run.pk)
        outcome = RunOutcome("failed", f"internal error: {type(exc).__name__}: {exc}", {})
    run.status = RunStatus.SUCCEEDED if outcome.status == "succeeded" else RunStatus.FAILED
    run.error = outcome.error
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    record_event(f"run.{run.status}", run, actor_label="worker", department=run.case.department)
    logger.info("run %s finished: %s", run.pk, run.status)
    return run
