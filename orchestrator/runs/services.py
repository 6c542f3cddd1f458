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
from orchestrator.runs.models import Run, RunStatus
from workflows.context import RunContext
from workflows.executor import NodeResult, RunOutcome, execute_graph
from workflows.http import new_client
from workflows.spec import parse_graph

logger = logging.getLogger(__name__)


class RunRejected(ValueError):
    """The run cannot start; the message says why."""


def check_can_start(case: Case, workflow_version: WorkflowVersion) -> None:
    if workflow_version.status != VersionStatus.PUBLISHED:
        raise RunRejected(f"{workflow_version} is not published")
    if workflow_version.workflow.department_id != case.department_id:
        raise RunRejected("the workflow belongs to another department than the case")


def start_run(
    case: Case,
    workflow_version: WorkflowVersion,
    *,
    requested_by: User | None = None,
    enqueue: bool = True,
) -> Run:
    """Create a queued run pinned to the workflow version and its template version, and (with
    ``enqueue``) hand it to a worker once the transaction commits."""
    check_can_start(case, workflow_version)
    with transaction.atomic():
        run = Run.objects.create(
            case=case,
            workflow_version=workflow_version,
            template_version=workflow_version.template_version,
            requested_by=requested_by,
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
