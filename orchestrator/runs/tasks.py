"""Celery tasks: take primary keys, re-fetch, call a service. Policy lives on the decorator."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.signals import worker_process_shutdown

from orchestrator.runs import services


@shared_task(name="runs.execute_run", acks_late=True, reject_on_worker_lost=True)
def execute_run_task(run_id: int) -> None:
    """Execute or resume a run. A second delivery while another worker holds the run's lease
    (the broker redelivered a task whose worker is slow or dead) comes back when the lease
    would expire, and then either finds the run finished or resumes it."""
    try:
        services.execute_run(run_id)
    except services.LeaseHeld as held:
        execute_run_task.apply_async((run_id,), countdown=held.retry_in)


@worker_process_shutdown.connect
def close_engine_loop(**kwargs: Any) -> None:
    """Close the process's shared HTTP client and event loop."""
    services.ENGINE_LOOP.close()
