"""Celery tasks: take primary keys, re-fetch, call a service. Policy lives on the decorator."""

from __future__ import annotations

from celery import shared_task

from orchestrator.runs import services


@shared_task(name="runs.execute_run", acks_late=True, reject_on_worker_lost=True)
def execute_run_task(run_id: int) -> None:
    services.execute_run(run_id)
