"""A run's database calls wait out a database restart (orchestrator/runs/outage.py); the run
sweep knows when the broker lost its queues (orchestrator.celery.broker_was_emptied). The
restarts themselves: tests/reliability/test_restarts.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import OperationalError
from pytest_django.fixtures import Settings

from orchestrator.celery import BROKER_MARK, broker_was_emptied
from orchestrator.celery import app as celery_app
from orchestrator.runs.outage import through_outage


def flaky(failures: int) -> tuple[list[int], Callable[[], str]]:
    calls: list[int] = []

    @through_outage
    def call() -> str:
        calls.append(1)
        if len(calls) <= failures:
            raise OperationalError("server closed the connection unexpectedly")
        return "stored"

    return calls, call


def test_a_call_that_loses_its_connection_is_made_again_once_the_database_answers() -> None:
    calls, call = flaky(2)
    assert call() == "stored"
    assert len(calls) == 3


def test_a_call_gives_up_after_the_outage_allowance(settings: Settings) -> None:
    settings.RUN_DB_OUTAGE_SECONDS = 0
    calls, call = flaky(5)
    with pytest.raises(OperationalError):
        call()
    assert len(calls) == 1


@pytest.mark.django_db
def test_a_call_inside_an_outer_transaction_is_not_made_again() -> None:
    calls, call = flaky(1)
    with pytest.raises(OperationalError):
        call()
    assert len(calls) == 1


def test_the_sweep_sees_each_loss_of_the_brokers_data_once(broker_url: str) -> None:
    with celery_app.connection_for_write() as conn:
        client = conn.default_channel.client  # type: ignore[attr-defined]
        client.delete(BROKER_MARK)  # what a restart without persistence does
    assert broker_was_emptied() is True
    assert broker_was_emptied() is False
