"""The Celery worker's consumer, made to survive a broker restart (CELERY_WORKER_CONSUMER).

With Redis, kombu 5.7's channel of a connection that was lost and closed still reaches for the
broker in two places — the consumer's close of the broken connection (restoring unacknowledged
messages) and the acknowledgement of a task that was running when the connection was lost
(``acks_late``) — and finds the transport's client gone: ``AttributeError: 'NoneType' object
has no attribute 'hostname'``. That is not one of the connection errors Celery expects there,
so it ended the worker ("Unrecoverable error") at each restart of Redis, killing the tasks it
was running (tests/reliability/test_restarts.py found it). Here such a channel raises Redis's
``ConnectionError`` instead, which Celery handles: the close is ignored, the lost ack is logged
(the broker has forgotten the message anyway), and the consumer reconnects."""

from __future__ import annotations

import logging
from typing import Any

from celery.worker.consumer import Consumer
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

logger = logging.getLogger(__name__)

_channel: Any = kombu_redis.Channel
_connparams = _channel._connparams


def _connparams_of_open_connection(self: Any, asynchronous: bool = False) -> Any:
    if self.connection.client is None:
        raise RedisConnectionError("the broker connection of this channel was closed")
    return _connparams(self, asynchronous=asynchronous)


_channel._connparams = _connparams_of_open_connection


class ReconnectingConsumer(Consumer):
    def on_connection_error_after_connected(self, exc: Any) -> None:
        try:
            super().on_connection_error_after_connected(exc)
        except AttributeError:  # any other path to the same kombu fault
            logger.warning(
                "the broken broker connection could not be closed cleanly; reconnecting",
                exc_info=True,
            )
