"""Workers killed (SIGKILL) or stopped (SIGTERM) at random moments under load: no case lost, no
finished node run again, each report delivered once to a receiving webhook server.

The reduced forms run in ``make test``; the full forms of issue 13 (50 kills across 200 cases,
SIGTERM bursts during 500 cases) carry the ``soak`` marker (``make soak``). Each prints its
figures (``pytest -s``); the random seed is printed so that a failure can be replayed
(``PATHFLOW_RELIABILITY_SEED``).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator import devstack
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import DemoData, drafting_graph, workflow_file
from orchestrator.designs.models import WorkflowVersion
from orchestrator.designs.services import import_workflow
from orchestrator.integrations.outbox_models import Delivery
from orchestrator.runs.models import NodeRun, Run, RunStatus
from orchestrator.runs.services import start_run
from orchestrator.runs.tasks import execute_run_task
from tests.conftest import ModelServices
from tests.faults import children, fna_requests, start_fault_workers
from tests.loopback import LoopbackServer, Request
from tests.reliability.conftest import add_endpoint, new_case
from tests.workflows.conftest import ModelServer, Reply, edge, model_call

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]

QUEUE = "pathflow-signals-test"
WORKERS = 2


class WebhookReceiver(LoopbackServer):
    """A receiving system: records the Idempotency-Key of every delivery it gets (it acts on
    the first of a key and drops a repeat, as the webhook contract asks)."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []
        self._lock = threading.Lock()

    def post(self, request: Request) -> None:
        request.body()
        with self._lock:
            self.keys.append(request.header_map().get("idempotency-key", ""))
        request.reply(200, {"ok": True})


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def slow_model() -> Iterator[ModelServer]:
    with ModelServer() as server:
        server.script("slow", Reply(delay_s=0.3))
        yield server


def load_workflow(demo: DemoData, slow_url: str, webhook_url: str) -> WorkflowVersion:
    """The demo FNA workflow (MLServer model, mapping, rendered report), plus a slow model call
    after the MLServer one and a webhook delivery of the report; without the demo's sign-out
    review, so that runs end on their own (parking is not what the signals test)."""
    add_endpoint(demo, "slow", slow_url)
    ModelEndpoint.objects.create(
        department=demo.department,
        slug="hooks",
        name="Receiving webhook",
        protocol="webhook",
        base_url=webhook_url,
        timeout_s=5,
    )
    graph = drafting_graph(workflow_file("breast-fna-cytology")["graph"])
    # A worker killed mid-attempt uses one of the node's attempts: enough are allowed.
    retry = {"max_attempts": 6, "backoff_s": 0.2}
    for node in graph["nodes"]:
        node["retry"] = retry
    graph["nodes"].append(model_call("slow", retry=retry))
    graph["nodes"].append(
        {
            "id": "send",
            "type": "deliver",
            "retry": retry,
            "config": {"channel": "webhook", "destination": "hooks", "event": "report.drafted"},
        }
    )
    graph["edges"].append(edge("fna", "slow"))
    graph["edges"].append(edge("report", "send", source_port="report", target_port="report"))
    return import_workflow(
        demo.department,
        graph,
        demo.fna_workflow_version.template_version,
        slug="signals-test",
        case_type="breast-fna",
    )


def start_workers(
    log_dir: Path, env: dict[str, str], names: list[str]
) -> list[devstack.ManagedProcess]:
    worker_env = {
        **env,
        "PATHFLOW_DELIVERY_RETRY_BASE_MS": "200",
        "PATHFLOW_DELIVERY_RETRY_MAX_SECONDS": "1",
        "PATHFLOW_DELIVERY_SWEEP_SECONDS": "1",
        "PATHFLOW_DELIVERY_LEASE_MARGIN_SECONDS": "2",
        "PATHFLOW_RUN_HANDOFF_SWEEP_SECONDS": "1",
        "PATHFLOW_LOG_LEVEL": "WARNING",
    }
    return start_fault_workers(log_dir, names, worker_env, queue=QUEUE, concurrency=2)


@pytest.fixture
def workers(
    worker_env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[list[devstack.ManagedProcess], Path]]:
    """Two fresh workers for each check, which replaces the ones it kills in place. (Not shared:
    a worker one of whose pool processes was SIGKILLed may hang in a later warm shutdown.)"""
    log_dir = tmp_path
    pair = start_workers(log_dir, worker_env, [f"w0-{n}" for n in range(WORKERS)])
    yield pair, log_dir
    for worker in pair:
        worker.stop()


def under_signals(
    demo: DemoData,
    version: WorkflowVersion,
    env: dict[str, str],
    pool: tuple[list[devstack.ManagedProcess], Path],
    *,
    cases: int,
    strikes: int,
    signum: signal.Signals,
) -> tuple[list[Run], float]:
    """Start ``cases`` runs over two workers and, at random moments while they run, send
    ``signum`` ``strikes`` times: SIGKILL to a random pool process of a random worker, or (every
    fourth, starting with the first) to a whole worker, which is replaced; SIGTERM to every
    worker at once (a burst: warm shutdowns), all replaced. Returns the runs and seconds."""
    seed = int(os.environ.get("PATHFLOW_RELIABILITY_SEED", random.randrange(1 << 30)))
    print(f"seed={seed}")
    rng = random.Random(seed)
    workers, log_dir = pool
    generation = len(list(log_dir.iterdir()))  # fresh log names for the replacements
    started = time.monotonic()
    runs = [start_run(new_case(demo, n), version, enqueue=False) for n in range(cases)]
    for run in runs:
        execute_run_task.apply_async((run.pk,), queue=QUEUE)
    for strike in range(strikes):
        time.sleep(rng.uniform(0.5, 2.5))
        generation += 1
        if signum == signal.SIGKILL:
            victim = rng.randrange(WORKERS)
            main = workers[victim].process
            assert main is not None
            pooled = children(main.pid)  # not the renderer children
            if strike % 4 == 0 or not pooled:
                # The whole worker, main process and pool at once; a replacement starts.
                workers[victim].kill()
                [workers[victim]] = start_workers(log_dir, env, [f"w{generation}-{victim}"])
            else:
                # One pool process, as the kernel's OOM killer would; the worker replaces it.
                os.kill(rng.choice(pooled), signal.SIGKILL)
        else:
            for worker in workers:
                assert worker.process is not None
                os.kill(worker.process.pid, signal.SIGTERM)
            for worker in workers:
                assert worker.process is not None
                worker.process.wait(120)  # a warm shutdown: running tasks finish first
            workers[:] = start_workers(log_dir, env, [f"w{generation}-{n}" for n in range(WORKERS)])
    deadline = time.monotonic() + 60 + cases * 2
    while (
        Run.objects.filter(pk__in=[r.pk for r in runs])
        .exclude(status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED])
        .exists()
    ):
        assert time.monotonic() < deadline, "runs did not finish"
        time.sleep(0.25)
    ids = [r.pk for r in runs]
    while Delivery.objects.filter(run_id__in=ids).exclude(status="delivered").exists():
        assert time.monotonic() < deadline, "deliveries did not finish"
        time.sleep(0.25)
    time.sleep(1.0)  # a duplicate would arrive now
    elapsed = time.monotonic() - started
    return list(Run.objects.filter(pk__in=ids).order_by("pk")), elapsed


def finished_nodes_rerun(runs: list[Run]) -> int:
    """Nodes of these runs that ran again after an attempt of theirs succeeded."""
    again = 0
    for run in runs:
        rows = NodeRun.objects.filter(run=run).order_by("node_id", "attempt")
        done: set[str] = set()
        for row in rows:
            if row.node_id in done:
                again += 1
            if row.status == "succeeded":
                done.add(row.node_id)
    return again


def check(
    runs: list[Run],
    webhook: WebhookReceiver,
    slow_model: ModelServer,
    fna_calls: int,
    *,
    name: str,
    strikes: int,
    elapsed: float,
) -> None:
    ids = {r.pk for r in runs}
    lost = [r.pk for r in runs if r.status != RunStatus.SUCCEEDED]
    rerun = finished_nodes_rerun(runs)
    copies = Counter(webhook.keys)
    expected = {f"{pk}:send" for pk in ids}
    # A dispatcher killed after its send and before recording the answer: the delivery is sent
    # again with the same Idempotency-Key, which the receiver drops (the webhook contract). A
    # duplicated delivery would be a second message (another key) for the same run.
    duplicated = len(copies) - len(expected & set(copies))
    resent = sum(n - 1 for n in copies.values())
    slow_done = Counter(c.headers["idempotency-key"] for c in slow_model.calls_to("slow"))
    fna_rows = NodeRun.objects.filter(run_id__in=ids, node_id="fna").count()
    print(f"{name}_cases={len(runs)}")
    print(f"{name}_signals={strikes}")
    print(f"{name}_lost={len(lost)}")
    print(f"{name}_finished_nodes_rerun={rerun}")
    print(f"{name}_duplicated_deliveries={duplicated}")
    print(f"{name}_resent_same_key_dropped_by_receiver={resent}")
    interrupted = NodeRun.objects.filter(run_id__in=ids, final=False, status="failed").count()
    print(f"{name}_interrupted_attempts={interrupted}")
    print(f"{name}_seconds={elapsed:.1f}")
    assert lost == [], [(r.pk, r.status, r.error) for r in runs if r.pk in lost]
    assert rerun == 0
    assert set(copies) == expected
    assert duplicated == 0
    # The model servers: MLServer answered no more calls than there were attempts of its node,
    # and the slow model was called once per attempt at most.
    assert len(runs) <= fna_calls <= fna_rows
    assert all(
        n <= NodeRun.objects.filter(run_id=int(key.split(":")[0]), node_id="slow").count()
        for key, n in slow_done.items()
    )


@pytest.mark.parametrize(
    ("cases", "kills"),
    [
        pytest.param(10, 4, id="reduced"),
        pytest.param(200, 50, id="full", marks=pytest.mark.soak),
    ],
)
def test_workers_killed_at_random_moments_lose_nothing_and_rerun_nothing(
    demo: DemoData,
    model_services: ModelServices,
    slow_model: ModelServer,
    webhook: WebhookReceiver,
    worker_env: dict[str, str],
    workers: tuple[list[devstack.ManagedProcess], Path],
    cases: int,
    kills: int,
) -> None:
    version = load_workflow(demo, slow_model.url, webhook.url)
    fna_before = fna_requests(model_services)
    runs, elapsed = under_signals(
        demo, version, worker_env, workers, cases=cases, strikes=kills, signum=signal.SIGKILL
    )
    check(
        runs,
        webhook,
        slow_model,
        fna_requests(model_services) - fna_before,
        name="sigkill",
        strikes=kills,
        elapsed=elapsed,
    )


@pytest.mark.parametrize(
    ("cases", "bursts"),
    [
        pytest.param(6, 1, id="reduced"),
        pytest.param(500, 20, id="full", marks=pytest.mark.soak),
    ],
)
def test_sigterm_bursts_during_load_complete_each_case_exactly_once(
    demo: DemoData,
    model_services: ModelServices,
    slow_model: ModelServer,
    webhook: WebhookReceiver,
    worker_env: dict[str, str],
    workers: tuple[list[devstack.ManagedProcess], Path],
    cases: int,
    bursts: int,
) -> None:
    version = load_workflow(demo, slow_model.url, webhook.url)
    fna_before = fna_requests(model_services)
    runs, elapsed = under_signals(
        demo, version, worker_env, workers, cases=cases, strikes=bursts, signum=signal.SIGTERM
    )
    fna_calls = fna_requests(model_services) - fna_before
    check(runs, webhook, slow_model, fna_calls, name="sigterm", strikes=bursts, elapsed=elapsed)
    # A warm shutdown lets running attempts finish: every node ran exactly once.
    assert fna_calls == len(runs)
    assert not NodeRun.objects.filter(run__in=runs, attempt__gt=1).exists()
