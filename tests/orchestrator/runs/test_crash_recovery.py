"""A worker killed with SIGKILL mid-run: the broker redelivers the task, a new worker waits
for the dead worker's lease to expire and resumes the run without calling finished nodes again.

Real parts throughout: Celery worker processes over the test broker, MLServer for the first
model call (its request counter is read from its metrics endpoint), and a slow local model
server that logs every request it gets.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator import devstack
from orchestrator.cases.services import create_case
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import DEMO_DIR, DemoData
from orchestrator.designs.services import import_workflow
from orchestrator.runs.models import NodeRun, RunStatus
from orchestrator.runs.services import start_run
from orchestrator.runs.tasks import execute_run_task
from tests.conftest import ModelServices, case_document, wait_for_run
from tests.faults import fna_requests, start_fault_worker
from tests.workflows.conftest import ModelServer, Reply, edge, graph, model_call, trigger

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]

QUEUE = "pathflow-crash-test"
SLOW_S = 4.0


@pytest.fixture
def slow_server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        server.script("slow", Reply(delay_s=SLOW_S))
        yield server


def crash_workflow() -> dict[str, Any]:
    """The demo's FNA model call (MLServer), then a slow model call, then a mapping."""
    demo = json.loads((DEMO_DIR / "workflows" / "breast-fna-cytology.json").read_text())
    fna = next(n for n in demo["graph"]["nodes"] if n["id"] == "fna")
    fields = {
        "id": "fields",
        "type": "transform",
        "config": {"mapping": {"fna_malignancy_probability": "nodes.slow.result.p * 100"}},
    }
    return graph(
        [trigger(), fna, model_call("slow", retry={"max_attempts": 2}), fields],
        [edge("case", "fna", source_port="case"), edge("fna", "slow"), edge("slow", "fields")],
    )


def start_crash_worker(log_dir: Path, name: str, env: dict[str, str]) -> devstack.ManagedProcess:
    return start_fault_worker(log_dir, name, env, queue=QUEUE)


def test_a_run_resumes_after_its_worker_is_killed_and_no_finished_node_runs_twice(
    demo: DemoData,
    model_services: ModelServices,
    slow_server: ModelServer,
    worker_env: dict[str, str],
    tmp_path: Path,
) -> None:
    ModelEndpoint.objects.create(
        department=demo.department,
        slug="slow",
        name="Slow model",
        protocol="open_inference_v2",
        base_url=slow_server.url,
        model_name="slow",
        timeout_s=30,
    )
    version = import_workflow(
        demo.department,
        crash_workflow(),
        demo.fna_workflow_version.template_version,
        slug="crash-test",
        case_type="breast-fna",
    )
    case = create_case(demo.department, case_document("breast-fna-malignant"))
    fna_before = fna_requests(model_services)
    first = start_crash_worker(tmp_path, "crash-a", worker_env)
    second: devstack.ManagedProcess | None = None
    try:
        run = start_run(case, version, enqueue=False)
        execute_run_task.apply_async((run.pk,), queue=QUEUE)
        deadline = time.monotonic() + 60
        while not slow_server.calls_to("slow") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert slow_server.calls_to("slow"), "the slow node never called its endpoint"

        first.kill()  # SIGKILL the whole worker, mid-call

        assert NodeRun.objects.get(run=run, node_id="fna").status == "succeeded"
        assert NodeRun.objects.get(run=run, node_id="slow", attempt=1).status == "running"
        second = start_crash_worker(tmp_path, "crash-b", worker_env)
        run = wait_for_run(run.pk, timeout=120)
    finally:
        first.stop()
        if second is not None:
            second.stop()

    assert run.status == RunStatus.SUCCEEDED, run.error
    # MLServer answered the finished node's call exactly once.
    assert fna_requests(model_services) - fna_before == 1
    # The slow node: its interrupted attempt and one more, with the same idempotency key.
    calls = slow_server.calls_to("slow")
    assert len(calls) == 2
    assert {c.headers["idempotency-key"] for c in calls} == {f"{run.pk}:slow"}
    rows = [
        (r.node_id, r.attempt, r.status) for r in NodeRun.objects.filter(run=run).order_by("id")
    ]
    assert sorted(rows) == [
        ("case", 1, "succeeded"),
        ("fields", 1, "succeeded"),
        ("fna", 1, "succeeded"),
        ("slow", 1, "failed"),
        ("slow", 2, "succeeded"),
    ]
    assert NodeRun.objects.get(run=run, node_id="slow", attempt=1).error.startswith(
        "interrupted: the worker running this attempt stopped"
    )
    assert NodeRun.objects.get(run=run, node_id="fields").outputs["result"] == {
        "fna_malignancy_probability": 50.0
    }
    # The second worker resumed it.
    assert second is not None
    assert "runs.execute_run[" in second.log_since_start()
