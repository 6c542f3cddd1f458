"""Celery tasks: take primary keys, re-fetch, call a service. Policy lives on the decorator."""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import shared_task
from celery.signals import worker_process_shutdown, worker_ready, worker_shutdown
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

from orchestrator.celery import broker_was_emptied, held_countdown
from orchestrator.runs import render_queue, services
from orchestrator.runs.outage import CONNECTION_ERRORS

logger = logging.getLogger(__name__)


@shared_task(name="runs.execute_run", acks_late=True, reject_on_worker_lost=True)
def execute_run_task(run_id: int) -> None:
    """Execute or resume a run. A second delivery while another worker holds the run's lease
    (the broker redelivered a task whose worker is slow or dead) comes back when the lease
    would expire, and then either finds the run finished or resumes it."""
    try:
        services.execute_run(run_id)
    except services.LeaseHeld as held:
        execute_run_task.apply_async((run_id,), countdown=held_countdown(held.retry_in))
    except CONNECTION_ERRORS:
        # The database stayed unreachable (PATHFLOW_RUN_DB_OUTAGE_SECONDS) before the run could
        # be taken or its end stored: come back once its lease can have lapsed. (If this cannot
        # be queued either, the sweep queues the run again.)
        logger.warning("run %s: the database is unreachable; trying again later", run_id)
        execute_run_task.apply_async(
            (run_id,), countdown=held_countdown(settings.RUN_LEASE_SECONDS + 1)
        )


@shared_task(
    name="reports.render_node",
    acks_late=True,
    reject_on_worker_lost=True,
    # The database was unreachable: nothing was committed, so rendering again is safe.
    autoretry_for=(DatabaseError,),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=None,
)
def render_node_task(run_id: int, node_id: str, attempt: int) -> None:
    """Render the report a render node parked its run for, on the render queue
    (PATHFLOW_RENDER_QUEUE), and resume the run; a repeated delivery does nothing."""
    render_queue.render_node(run_id, node_id, attempt)


@worker_process_shutdown.connect
def close_engine_loop(**kwargs: Any) -> None:
    """Close the process's shared HTTP client and event loop."""
    services.ENGINE_LOOP.close()


_SWEEP_STOP = threading.Event()


def _sweep_pending_handoffs() -> None:
    """In the worker's main process: every PATHFLOW_RUN_HANDOFF_SWEEP_SECONDS, queue the runs
    whose task could not be put on the queue when they were started (the broker was down), and
    — when the broker lost its queues (a restart of a Redis without persistence) — every queued
    run, whose task went with them."""
    emptied = False
    while True:
        try:
            emptied = broker_was_emptied() or emptied
        except Exception:  # the broker is down: its loss is seen once it is back
            logger.warning("could not reach the broker to sweep runs", exc_info=True)
        try:
            close_old_connections()  # a connection the database closed (a restart) is replaced
            handed = services.hand_over_pending_runs(every_queued=emptied)
            if emptied:
                logger.warning(
                    "the broker lost its queues (restarted without its data): queued %d run(s) "
                    "again",
                    len(handed),
                )
            elif handed:
                logger.info("handed %d queued run(s) over to the queue again", len(handed))
            renders = render_queue.hand_over_pending_renders(every_parked=emptied)
            if renders:
                logger.info("queued the renders of %d parked run(s) again", len(renders))
            emptied = False
        except Exception:  # the database is briefly unreachable: try again next time
            logger.warning("could not sweep runs waiting for the queue", exc_info=True)
            connection.close()
        if _SWEEP_STOP.wait(settings.RUN_HANDOFF_SWEEP_SECONDS):
            return


@worker_ready.connect
def start_handoff_sweep(**kwargs: Any) -> None:
    _SWEEP_STOP.clear()
    threading.Thread(target=_sweep_pending_handoffs, name="run-handoff-sweep", daemon=True).start()


@worker_shutdown.connect
def stop_handoff_sweep(**kwargs: Any) -> None:
    _SWEEP_STOP.set()
