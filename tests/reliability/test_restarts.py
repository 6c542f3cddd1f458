"""The broker (Redis) and the database (PostgreSQL) restarted mid-load: no case lost, every case
finishes, no finished node runs again, each report delivered once.

The check owns both services (tests/reliability/own_services.py): a redis-server without
persistence — a restart empties it, queued and unacknowledged tasks included, as a restart of
the production Redis (which keeps nothing on disk) does — and a PostgreSQL cluster stopped with
``immediate`` (a crash, recovered from its WAL). Two real Celery workers, the reference MLServer,
a slow model and a receiving webhook server, as in test_worker_signals.py. Cases are submitted
before, during and after the restarts (during a broker outage their task cannot be queued: the
run waits ``handoff_pending``).

The reduced form (a few cases, one restart of each) runs in ``make test``; the full form carries
the ``soak`` marker. Figures are printed as ``name=value`` (``pytest -s``).
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import dj_database_url
import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.db import InterfaceError, OperationalError, connection, connections
from django.db.utils import ConnectionHandler

from orchestrator import devstack
from orchestrator.celery import app as celery_app
from orchestrator.demo_data import load_demo_data
from orchestrator.integrations.outbox_models import Delivery
from orchestrator.runs.models import NodeRun, Run, RunStatus
from orchestrator.runs.services import start_run
from tests.conftest import PASSWORD, ModelServices
from tests.faults import start_fault_workers
from tests.reliability.conftest import new_case
from tests.reliability.own_services import PostgresCluster, RedisServer, why_no_postgres
from tests.reliability.test_worker_signals import (
    WebhookReceiver,
    finished_nodes_rerun,
    load_workflow,
    slow_model,  # noqa: F401 (a fixture)
    webhook,  # noqa: F401 (a fixture)
)
from tests.workflows.conftest import ModelServer

# Not in the service leg: the check always runs on its own PostgreSQL and Redis, whatever the
# leg's database and broker are, so running it in both legs would prove nothing more.
pytestmark = [pytest.mark.django_db(transaction=True)]

DATABASE = "pathflow_restarts"
TERMINAL = [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED]
T = TypeVar("T")


@contextlib.contextmanager
def own_database(url: str) -> Iterator[None]:
    """This process's default database connection switched to ``url`` (every thread's), then
    back to pytest-django's test database."""
    configured = ConnectionHandler({"default": dj_database_url.parse(url)}).settings["default"]
    saved_settings = connections.settings["default"]
    saved = connections["default"]
    connections.settings["default"] = configured
    del connections["default"]
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            connections["default"].close()
        connections.settings["default"] = saved_settings
        connections["default"] = saved


def _reset_publisher() -> None:
    """Drop this process's broker connections (Celery makes them again from its settings)."""
    app: Any = celery_app
    if app._pool is not None:
        with contextlib.suppress(Exception):
            app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None


@contextlib.contextmanager
def own_broker(url: str) -> Iterator[None]:
    """This process publishes its tasks to ``url``, then to the suite's broker again."""
    saved = celery_app.conf.broker_url
    _reset_publisher()
    celery_app.conf.update(broker_url=url)
    try:
        yield
    finally:
        _reset_publisher()
        celery_app.conf.update(broker_url=saved)


@dataclass
class OwnStack:
    postgres: PostgresCluster
    redis: RedisServer
    env: dict[str, str]
    log_dir: Path


@pytest.fixture
def own_stack(
    transactional_db: None, process_env: dict[str, str], tmp_path: Path
) -> Iterator[OwnStack]:
    reason = why_no_postgres()
    if reason:
        pytest.skip(f"no PostgreSQL cluster of our own can be made: {reason}")
    postgres = PostgresCluster().init()
    redis = RedisServer(tmp_path)
    try:
        postgres.start()
        postgres.create_database(DATABASE)
        redis.start()
        with own_database(postgres.url(DATABASE)), own_broker(redis.url):
            call_command("migrate", verbosity=0, interactive=False)
            env = {
                **process_env,
                "DATABASE_URL": postgres.url(DATABASE),
                "CELERY_BROKER_URL": redis.url,
                "PATHFLOW_LOG_LEVEL": "WARNING",
            }
            yield OwnStack(postgres, redis, env, tmp_path)
    finally:
        redis.stop()
        postgres.destroy()


def start_workers(stack: OwnStack, names: list[str]) -> list[devstack.ManagedProcess]:
    worker_env = {
        **stack.env,
        "PATHFLOW_DELIVERY_RETRY_BASE_MS": "200",
        "PATHFLOW_DELIVERY_RETRY_MAX_SECONDS": "1",
        "PATHFLOW_DELIVERY_SWEEP_SECONDS": "1",
        "PATHFLOW_DELIVERY_LEASE_MARGIN_SECONDS": "2",
        "PATHFLOW_RUN_HANDOFF_SWEEP_SECONDS": "1",
    }
    # The broker is ours alone: the workers consume the queue this process publishes runs to.
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    return start_fault_workers(stack.log_dir, names, worker_env, queue=queue, concurrency=2)


def through_outages(read: Callable[[], T], timeout: float = 60) -> T:
    """``read`` from the database, waiting out a restart of it (a fresh connection each try)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return read()
        except (OperationalError, InterfaceError):
            connection.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


@pytest.mark.parametrize(
    ("cases", "broker_restarts", "db_restarts"),
    [
        pytest.param(12, 1, 1, id="reduced"),
        pytest.param(120, 5, 5, id="full", marks=pytest.mark.soak),
    ],
)
def test_broker_and_database_restarts_mid_load_lose_nothing(
    own_stack: OwnStack,
    model_services: ModelServices,
    slow_model: ModelServer,  # noqa: F811
    webhook: WebhookReceiver,  # noqa: F811
    cases: int,
    broker_restarts: int,
    db_restarts: int,
) -> None:
    seed = int(os.environ.get("PATHFLOW_RELIABILITY_SEED", random.randrange(1 << 30)))
    print(f"seed={seed}")
    rng = random.Random(seed)
    demo = load_demo_data(PASSWORD, model_services.url)
    version = load_workflow(demo, slow_model.url, webhook.url)
    workers = start_workers(own_stack, ["w0", "w1"])
    try:
        started = time.monotonic()
        events = ["broker"] * broker_restarts + ["db"] * db_restarts
        rng.shuffle(events)
        batches = [cases // (len(events) + 1)] * (len(events) + 1)
        batches[-1] += cases - sum(batches)
        runs: list[int] = []
        number = 0

        def submit(count: int) -> None:
            nonlocal number
            for _ in range(count):
                number += 1
                case = through_outages(partial(new_case, demo, number))
                runs.append(through_outages(partial(start_run, case, version)).pk)

        handed_during_outage = waiting = unacked = 0
        redis_client = redis.Redis(host="127.0.0.1", port=own_stack.redis.port)
        for event, batch in zip(events, batches, strict=False):
            submit(batch)
            if event == "broker":
                # Soon after a batch: its tasks are still queued or held by the workers, and
                # go with the broker's data.
                time.sleep(rng.uniform(0.1, 0.6))
                with contextlib.suppress(Exception):  # waiting, and handed out unacknowledged
                    waiting += int(redis_client.llen(settings.CELERY_TASK_DEFAULT_QUEUE))
                    unacked += int(redis_client.hlen("unacked"))
                # Down for a while; cases submitted meanwhile cannot queue their task.
                own_stack.redis.stop()
                before = len(runs)
                submit(max(1, batch // 3))
                handed_during_outage += len(runs) - before
                time.sleep(rng.uniform(0.2, 1.0))
                own_stack.redis.start()
            else:
                time.sleep(rng.uniform(0.5, 2.0))  # runs are at their nodes
                own_stack.postgres.restart("immediate", down_s=rng.uniform(0.2, 1.5))
        submit(batches[-1])
        pending = through_outages(
            lambda: Run.objects.filter(pk__in=runs, handoff_pending=True).count()
        )
        print(f"runs_submitted_while_broker_down={handed_during_outage}")
        print(f"runs_pending_handoff_after_submission={pending}")

        deadline = time.monotonic() + 120 + cases * 2
        while through_outages(
            lambda: Run.objects.filter(pk__in=runs).exclude(status__in=TERMINAL).exists()
        ):
            assert time.monotonic() < deadline, "runs did not finish: " + str(
                list(
                    Run.objects.filter(pk__in=runs)
                    .exclude(status__in=TERMINAL)
                    .values_list("pk", "status", "handoff_pending", "lease_expires_at")
                )
            )
            time.sleep(0.25)
        while Delivery.objects.filter(run_id__in=runs).exclude(status="delivered").exists():
            assert time.monotonic() < deadline, "deliveries did not finish"
            time.sleep(0.25)
        time.sleep(1.0)  # a duplicate would arrive now
        elapsed = time.monotonic() - started
    finally:
        for worker in workers:
            worker.stop()
    # What the workers' sweeps queued again after a loss of the broker's data (one worker's
    # sweep sees each loss; the first report is the start-up, on an empty broker).
    reports = sorted(
        found
        for worker in workers
        for found in re.findall(
            r"^(\S+ \S+) WARNING \S+ the broker lost its queues .*: queued (\d+) run",
            worker.log_since_start(),
            re.M,
        )
    )
    requeued = [int(n) for _, n in reports[1:]]

    finished = list(Run.objects.filter(pk__in=runs).order_by("pk"))
    lost = [r for r in finished if r.status != RunStatus.SUCCEEDED]
    rerun = finished_nodes_rerun(finished)
    copies = Counter(webhook.keys)
    expected = {f"{pk}:send" for pk in runs}
    duplicated = len(copies) - len(expected & set(copies))
    interrupted = NodeRun.objects.filter(run_id__in=runs, final=False, status="failed").count()
    print(f"broker_restarts={broker_restarts}")
    print(f"db_restarts={db_restarts}")
    print(f"cases={len(finished)}")
    print(f"lost={len(lost)}")
    print(f"finished_nodes_rerun={rerun}")
    print(f"duplicated_deliveries={duplicated}")
    print(f"resent_same_key_dropped_by_receiver={sum(n - 1 for n in copies.values())}")
    print(f"interrupted_attempts={interrupted}")
    print(f"tasks_waiting_in_broker_when_it_stopped={waiting}")
    print(f"tasks_unacknowledged_in_broker_when_it_stopped={unacked}")
    print(f"runs_queued_again_after_broker_loss={sum(requeued)}")
    print(f"seconds={elapsed:.1f}")
    assert lost == [], [(r.pk, r.status, r.error) for r in lost]
    assert rerun == 0
    assert set(copies) == expected
    assert duplicated == 0
    # Tasks were lost with the broker's data: the sweep queued their runs again.
    assert waiting == 0 or sum(requeued) > 0
