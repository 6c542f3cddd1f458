"""Celery tasks of shadow runs: take primary keys, re-fetch, call a service."""

from __future__ import annotations

from celery import shared_task

from orchestrator.quality import services


@shared_task(name="quality.execute_shadow_cases", acks_late=True, reject_on_worker_lost=True)
def execute_shadow_cases_task(case_ids: list[int]) -> None:
    """Execute and compare one batch of a shadow run's cases; cases already done are skipped,
    so a second delivery of the task does no harm."""
    services.execute_shadow_cases(case_ids)
