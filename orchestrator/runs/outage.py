"""Database calls of a run that wait out a restart of the database.

A restart of PostgreSQL closes every connection; the ORM thread of a run keeps its connection
from call to call, so without this the next checkpoint, report or delivery of every run in
flight failed (an ``internal error`` that failed the node and its run), and a lease or a run
could not be taken until the task was delivered again. Wrapped calls close the broken
connection and try again, with backoff, for up to PATHFLOW_RUN_DB_OUTAGE_SECONDS; the run
simply pauses meanwhile. Each wrapped call is one transaction of its own (or one statement),
so trying it again is trying it whole. Inside an outer transaction (a test's) nothing is tried
again: the outer transaction is lost with the connection."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
# The errors of a lost or refused connection (psycopg's and sqlite3's, as Django wraps them).
CONNECTION_ERRORS = (OperationalError, InterfaceError)


def through_outage(call: Callable[P, T]) -> Callable[P, T]:
    @functools.wraps(call)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        deadline = time.monotonic() + settings.RUN_DB_OUTAGE_SECONDS
        pause = 0.2
        while True:
            try:
                return call(*args, **kwargs)
            except CONNECTION_ERRORS as exc:
                if connection.in_atomic_block or time.monotonic() + pause > deadline:
                    raise
                logger.warning(
                    "%s: the database is unreachable (%s); trying again in %.1f s",
                    call.__name__,
                    type(exc).__name__,
                    pause,
                )
                connection.close()
                time.sleep(pause)
                pause = min(pause * 2, 2.0)

    return wrapper
