"""Engine reliability under faults, with real Celery worker processes over the test broker:

- a poison step (a node whose execution kills its worker process) is run at most
  MAX_INTERRUPTIONS times, then its run fails naming the node while other cases keep flowing;
- a step longer than the broker's visibility timeout is redelivered by the broker but never
  executed twice at once (the run's lease).

Each check prints its figure (``pytest -s``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from orchestrator import devstack
from orchestrator.demo_data import DemoData
from orchestrator.runs.models import NodeRun, Run, RunStatus
from orchestrator.runs.services import MAX_INTERRUPTIONS, start_run
from orchestrator.runs.tasks import execute_run_task
from tests.conftest import wait_for_run
from tests.faults import ConcurrencyServer, PoisonServer
from tests.reliability.conftest import QUEUE, add_endpoint, chain_workflow, new_case
from tests.workflows.conftest import Reply

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def poison_server() -> Iterator[PoisonServer]:
    with PoisonServer() as server:
        server.script("ok", Reply(delay_s=0.2))
        yield server


def test_a_poison_step_is_run_at_most_three_times_then_its_run_fails_naming_it(
    demo: DemoData, poison_server: PoisonServer, worker: devstack.ManagedProcess
) -> None:
    add_endpoint(demo, "poison", poison_server.url)
    add_endpoint(demo, "ok", poison_server.url)
    # Five attempts allowed by the node's own retry policy: the cap comes from the engine.
    poison = chain_workflow(demo, "poison-test", ["poison"], retry={"max_attempts": 5})
    healthy = chain_workflow(demo, "healthy-test", ["ok"])
    assert worker.process is not None
    poison_server.workers = [worker.process.pid]
    started = time.monotonic()
    bad = start_run(new_case(demo, 1), poison, enqueue=False)
    execute_run_task.apply_async((bad.pk,), queue=QUEUE)
    # Other cases arrive while the poison run is being redelivered.
    good: list[Run] = []
    for number in range(2, 8):
        run = start_run(new_case(demo, number), healthy, enqueue=False)
        execute_run_task.apply_async((run.pk,), queue=QUEUE)
        good.append(run)
        time.sleep(1.0)
    good = [wait_for_run(r.pk, timeout=60) for r in good]
    bad = wait_for_run(bad.pk, timeout=90)
    failed_after = time.monotonic() - started

    executions = len(poison_server.calls_to("poison"))
    print(f"poison_executions={executions}")
    print(f"poison_worker_processes_killed={len(poison_server.killed)}")
    print(f"poison_run_failed_after_s={failed_after:.1f}")
    print(f"other_cases_succeeded={sum(r.status == RunStatus.SUCCEEDED for r in good)}/{len(good)}")
    assert executions == MAX_INTERRUPTIONS == 3
    assert len(poison_server.killed) == 3
    assert bad.status == RunStatus.FAILED
    assert bad.error.startswith("node 'poison' (model_call) stopped its worker process 3 times")
    rows = list(NodeRun.objects.filter(run=bad, node_id="poison").order_by("attempt"))
    assert [(r.attempt, r.status, r.final) for r in rows] == [
        (1, "failed", False),
        (2, "failed", False),
        (3, "failed", True),
    ]
    assert all(r.status == RunStatus.SUCCEEDED for r in good), [r.error for r in good]


SLOW_S = 5.0


@pytest.fixture
def slow_server() -> Iterator[ConcurrencyServer]:
    with ConcurrencyServer() as server:
        server.script("slow", Reply(delay_s=SLOW_S))
        yield server


def test_a_step_longer_than_the_visibility_timeout_never_runs_twice_at_once(
    demo: DemoData, slow_server: ConcurrencyServer, worker: devstack.ManagedProcess
) -> None:
    add_endpoint(demo, "slow", slow_server.url)
    version = chain_workflow(demo, "visibility-test", ["slow"], retry={"max_attempts": 3})
    log_start = len(worker.log_since_start())
    run = start_run(new_case(demo, 1), version, enqueue=False)
    execute_run_task.apply_async((run.pk,), queue=QUEUE)
    run = wait_for_run(run.pk, timeout=60)

    log = worker.log_since_start()[log_start:]
    deliveries = len(re.findall(r"Task runs\.execute_run\[[^\]]+\] received", log))
    executions = len(slow_server.calls_to("slow"))
    print(f"visibility_task_deliveries={deliveries}")
    print(f"visibility_step_executions={executions}")
    print(f"visibility_peak_concurrent_executions={slow_server.peak}")
    assert run.status == RunStatus.SUCCEEDED, run.error
    # The broker did hand the task out again while the step ran ...
    assert deliveries >= 2
    # ... and the step ran once, never overlapping itself.
    assert executions == 1
    assert slow_server.peak == 1
