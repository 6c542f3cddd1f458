"""Celery tasks of the outbox, routed to the ``delivery`` queue (settings.CELERY_TASK_ROUTES):
thin, by id, idempotent. A sweep in every worker's main process re-queues due deliveries, so a
lost task, a broker hiccup or a crashed dispatcher loses nothing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from celery import shared_task
from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.db import close_old_connections, connection

from orchestrator.celery import held_countdown
from orchestrator.integrations import dispatcher

logger = logging.getLogger(__name__)


@shared_task(name="integrations.dispatch_destination", acks_late=True, reject_on_worker_lost=True)
def dispatch_destination_task(destination_id: int) -> None:
    """Send a destination's due deliveries in order; come back when its head's retry is due
    (or earlier: a retry may wait longer than the broker's visibility timeout). A second copy
    of this task is harmless: a delivery is sent only by the dispatcher that claimed it."""
    again = dispatcher.dispatch_destination(destination_id)
    if again is not None:
        dispatch_destination_task.apply_async((destination_id,), countdown=held_countdown(again))


def enqueue_dispatch(destination_ids: Iterable[int]) -> None:
    """Hand destinations to dispatch tasks; with the broker down, the sweep does it later."""
    for destination_id in destination_ids:
        try:
            dispatch_destination_task.delay(destination_id)
        except Exception:  # the broker is down: the delivery is stored, the sweep queues it
            logger.warning("destination %s: could not queue its dispatch", destination_id)


def sweep_once() -> list[int]:
    due = dispatcher.due_destinations()
    enqueue_dispatch(due)
    dispatcher.alert_on_backlogs()
    return due


_SWEEP_STOP = threading.Event()


def _sweep() -> None:
    while True:
        try:
            close_old_connections()  # a connection the database closed (a restart) is replaced
            due = sweep_once()
            if due:
                logger.info("delivery sweep: %d destination(s) with due deliveries", len(due))
        except Exception:  # the database is briefly unreachable: try again next time
            logger.warning("could not sweep deliveries", exc_info=True)
            connection.close()
        if _SWEEP_STOP.wait(settings.DELIVERY_SWEEP_SECONDS):
            return


@worker_ready.connect
def start_delivery_sweep(**kwargs: Any) -> None:
    _SWEEP_STOP.clear()
    threading.Thread(target=_sweep, name="delivery-sweep", daemon=True).start()


@worker_shutdown.connect
def stop_delivery_sweep(**kwargs: Any) -> None:
    _SWEEP_STOP.set()
