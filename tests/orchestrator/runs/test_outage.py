"""A run's database calls wait out a database restart (orchestrator/runs/outage.py); the run
sweep knows when the broker lost its queues (orchestrator.celery.broker_was_emptied). The
restarts themselves: tests/reliability/test_restarts.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError
from django.utils import timezone
from pytest_django.fixtures import Settings

from orchestrator.celery import BROKER_MARK, broker_was_emptied
from orchestrator.celery import app as celery_app
from orchestrator.runs.models import Run, RunStatus
from orchestrator.runs.outage import through_outage
from orchestrator.runs.services import hand_over_pending_runs, start_run
from tests.orchestrator.runs.test_execution_limits import (
    Runs,
    case,  # noqa: F401 (a fixture)
    model_server,  # noqa: F401 (a fixture)
    one_model,
    runs,  # noqa: F401 (a fixture)
    template_version,  # noqa: F401 (a fixture)
)


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


@pytest.mark.django_db
def test_after_the_broker_lost_its_data_every_queued_run_is_queued_again(
    runs: Runs,  # noqa: F811
    broker_url: str,
) -> None:
    queued = runs.start(one_model("score"), "score")  # its task sent, then lost with the broker
    orphan = start_run(runs.case, queued.workflow_version, enqueue=False)
    stale = timezone.now() - timedelta(seconds=3 * django_settings.RUN_LEASE_SECONDS)
    Run.objects.filter(pk=orphan.pk).update(
        status=RunStatus.RUNNING, started_at=stale, lease_owner="dead-host:1:abc",
        lease_expires_at=stale,
    )  # fmt: skip

    # Without a loss, a queued run whose task reached the broker is left to it.
    assert hand_over_pending_runs() == [orphan.pk]
    assert sorted(hand_over_pending_runs(every_queued=True)) == [queued.pk, orphan.pk]
