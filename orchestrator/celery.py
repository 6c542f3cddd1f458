"""The Celery application. Tasks are thin: they take primary keys and call a service."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")

app = Celery("pathflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def held_countdown(seconds: float) -> float:
    """A countdown for a task that comes back later, at most half the broker's visibility
    timeout. Redis hands out again a task left unacknowledged longer than that timeout — and a
    worker holds a task with a countdown unacknowledged until it is due — so a longer countdown
    would put a second copy of the task on the queue at each timeout. Coming back early is
    harmless: the task finds nothing due yet and asks to come back for the rest."""
    from django.conf import settings

    timeout = float(settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"])
    return max(0.0, min(seconds, timeout / 2))


# A mark each worker's run sweep keeps in the broker. Redis without persistence forgets every
# queued and unacknowledged task when it restarts; the mark is forgotten with them, so a sweep
# that finds it missing knows the broker's queues were emptied.
BROKER_MARK = "pathflow:broker-mark"


def broker_was_emptied() -> bool:
    """Whether the broker lost what it held since this was last asked (a restart without
    persistence, a flush) — or is new. Sets the mark again, so that one caller sees each loss.
    Always False for brokers other than Redis (RabbitMQ's durable queues keep their tasks)."""
    import uuid

    with app.connection_for_write() as conn:
        if conn.transport.driver_type != "redis":
            return False
        client: Any = getattr(conn.default_channel, "client")  # noqa: B009 (Redis's own)
        return bool(client.set(BROKER_MARK, uuid.uuid4().hex, nx=True))
