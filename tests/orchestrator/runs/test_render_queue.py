"""Renders on a queue of their own (PATHFLOW_RENDER_QUEUE): the run parks ``waiting_render``, a
render task renders exactly once and resumes it.

The first test runs real Celery worker processes, each consuming one queue only — runs, renders,
deliveries — and follows a case through all three to an ORU at a real MLLP receiver. The others
execute runs in this process and deliver the render task by hand, to check its guarantees
deterministically: a repeated delivery renders nothing, a cancelled run renders nothing, a render
that keeps killing its worker fails the node with the reason.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator import devstack
from orchestrator.accounts.models import User
from orchestrator.audit.models import AuditEvent
from orchestrator.cases.services import create_case
from orchestrator.demo_data import DemoData, drafting_graph, with_delivery, workflow_file
from orchestrator.designs.models import WorkflowVersion
from orchestrator.designs.services import import_workflow
from orchestrator.integrations.outbox_models import Delivery
from orchestrator.reports.models import Report
from orchestrator.runs import render_queue, services, tasks
from orchestrator.runs.models import NodeRun, Run, RunStatus
from orchestrator.runs.tasks import execute_run_task
from tests.conftest import case_document, wait_for_run
from tests.faults import children
from tests.mllp import MllpReceiver, control_id
from tests.orchestrator.integrations.conftest import destination, ed_payload, strictly_valid

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]

RUNS, RENDER, DELIVERY = "pathflow-rq-runs", "pathflow-rq-render", "pathflow-rq-delivery"


def rendering_workflow(demo: DemoData, *, deliver: bool = False) -> WorkflowVersion:
    """The demo FNA workflow without its sign-out review, so that runs end once their report is
    rendered (the review is not what these tests are about); with ``deliver``, a deliver node
    after its render node (HL7 ORU to ``lis``)."""
    graph = drafting_graph(workflow_file("breast-fna-cytology")["graph"])
    if deliver:
        graph = with_delivery(graph, "hl7_mllp", "lis")
    return import_workflow(
        demo.department,
        graph,
        demo.fna_workflow_version.template_version,
        slug="fna-to-lis" if deliver else "fna-rendered",
        case_type="breast-fna",
    )


@pytest.fixture(scope="module")
def queue_workers(
    worker_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, devstack.ManagedProcess]]:
    """One worker process per queue, all configured alike, each consuming its own queue only;
    a task whose worker died comes back after 2 s."""
    tmp_path = tmp_path_factory.mktemp("render-queue")
    env = {
        **worker_env,
        "PATHFLOW_BROKER_VISIBILITY_TIMEOUT": "2",
        "PATHFLOW_BROKER_RESTORE_INTERVAL": "1",
        "PATHFLOW_TASK_QUEUE": RUNS,
        "PATHFLOW_RENDER_QUEUE": RENDER,
        "PATHFLOW_DELIVERY_QUEUE": DELIVERY,
    }
    started: dict[str, devstack.ManagedProcess] = {}
    try:
        for name, queue in (("runs", RUNS), ("render", RENDER), ("delivery", DELIVERY)):
            started[name] = devstack.start_worker(
                tmp_path, name=f"rq-{name}", concurrency=1, env=env, queues=[queue]
            )
        yield started
    finally:
        for worker in started.values():
            worker.stop()


def test_a_case_goes_through_the_run_render_and_delivery_queues_each_on_its_own_worker(
    demo: DemoData, queue_workers: dict[str, devstack.ManagedProcess]
) -> None:
    with MllpReceiver() as receiver:
        destination(demo.department, "lis", "hl7_mllp", receiver.address)
        version = rendering_workflow(demo, deliver=True)
        case = create_case(demo.department, case_document("breast-fna-malignant"))
        run = services.start_run(case, version, enqueue=False)
        execute_run_task.apply_async((run.pk,), queue=RUNS)

        run = wait_for_run(run.pk)
        [message] = receiver.wait_for(1)

    assert run.status == RunStatus.SUCCEEDED, run.error
    # It parked for its render once, and resumed after it.
    actions = list(
        AuditEvent.objects.filter(object_id=str(run.pk), action__startswith="run.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["run.started", "run.waiting_render", "run.succeeded"]
    report = Report.objects.get(run=run)
    render = NodeRun.objects.get(run=run, node_type="render_report")
    assert (render.status, render.attempt) == ("succeeded", 1)
    assert render.outputs["report"]["report_id"] == report.pk
    # The rendered PDF is the one the LIS received, sent by the delivery worker.
    strictly_valid(message)
    assert hashlib.sha256(ed_payload(message)).hexdigest() == report.pdf_sha256
    assert control_id(message) == Delivery.objects.get(run=run).control_id
    logs = {name: worker.log_since_start() for name, worker in queue_workers.items()}
    assert "runs.execute_run[" in logs["runs"]
    assert "reports.render_node[" in logs["render"]
    assert "integrations." in logs["delivery"]
    assert "reports.render_node[" not in logs["runs"] + logs["delivery"]
    assert "runs.execute_run[" not in logs["render"] + logs["delivery"]


def test_a_render_worker_killed_mid_render_renders_the_report_once_on_redelivery(
    demo: DemoData, queue_workers: dict[str, devstack.ManagedProcess]
) -> None:
    render_worker = queue_workers["render"]
    version = rendering_workflow(demo)
    case = create_case(demo.department, case_document("breast-fna-benign", accession="K26-00001"))
    run = services.start_run(case, version, enqueue=False)
    execute_run_task.apply_async((run.pk,), queue=RUNS)

    # As soon as a delivery of the render task has begun rendering, kill the pool process
    # running it (its renderer child goes with it).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = NodeRun.objects.filter(run=run, node_type="render_report").first()
        if row is not None and row.outputs.get("waiting", {}).get("starts") == 1:
            break
        time.sleep(0.005)
    else:
        raise AssertionError("the render never started")
    assert render_worker.process is not None
    for pid in children(render_worker.process.pid):
        os.kill(pid, signal.SIGKILL)

    run = wait_for_run(run.pk)

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert Report.objects.filter(run=run).count() == 1
    render = NodeRun.objects.get(run=run, node_type="render_report")
    assert (render.status, render.attempt) == ("succeeded", 1)
    assert "WorkerLostError" in render_worker.log_since_start()  # it died holding the task


# --- the render task's guarantees, delivered by hand --------------------------------------------


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch, settings: Any) -> dict[str, list[Any]]:
    """The render queue configured; the tasks this process would queue are recorded instead."""
    settings.RENDER_QUEUE = "pathflow-rq-unused"
    sent: dict[str, list[Any]] = {"renders": [], "runs": []}
    monkeypatch.setattr(tasks.render_node_task, "delay", lambda *a: sent["renders"].append(a))
    monkeypatch.setattr(services, "hand_to_worker", lambda run_id: sent["runs"].append(run_id))
    return sent


def parked_run(demo: DemoData, accession: str) -> Run:
    case = create_case(demo.department, case_document("breast-fna-malignant", accession=accession))
    run = services.start_run(case, rendering_workflow(demo), enqueue=False)
    services.execute_run(run.pk)
    parked = Run.objects.get(pk=run.pk)
    assert parked.status == RunStatus.WAITING_RENDER, parked.error
    return parked


def executed(run: Run) -> Run:
    services.execute_run(run.pk)
    return Run.objects.get(pk=run.pk)


def test_a_render_delivered_twice_renders_once_and_resumes_the_run_once(
    demo: DemoData, queued: dict[str, list[Any]]
) -> None:
    run = parked_run(demo, "Q26-00001")
    [(run_id, node_id, attempt)] = queued["renders"]
    waiting = NodeRun.objects.get(run=run, node_id=node_id, attempt=attempt)
    assert waiting.status == "waiting"
    assert waiting.outputs["waiting"]["kind"] == "render"
    assert not Report.objects.filter(run=run).exists()  # nothing rendered in the run's process

    assert render_queue.render_node(run_id, node_id, attempt) == "rendered"
    assert render_queue.render_node(run_id, node_id, attempt) == "nothing to do"

    assert Report.objects.filter(run=run).count() == 1
    assert queued["runs"] == [run.pk]
    assert Run.objects.get(pk=run.pk).status == RunStatus.QUEUED
    assert executed(run).status == RunStatus.SUCCEEDED
    assert Report.objects.filter(run=run).count() == 1
    assert NodeRun.objects.filter(run=run, node_id=node_id).count() == 1


def test_a_run_cancelled_while_waiting_for_its_render_renders_nothing(
    demo: DemoData, queued: dict[str, list[Any]]
) -> None:
    run = parked_run(demo, "Q26-00002")
    services.cancel_run(run, User.objects.get(username="pathologist"))

    [(run_id, node_id, attempt)] = queued["renders"]
    assert render_queue.render_node(run_id, node_id, attempt) == "nothing to do"

    assert Run.objects.get(pk=run.pk).status == RunStatus.CANCELLED
    assert not Report.objects.filter(run=run).exists()
    assert queued["runs"] == []


def test_a_render_that_keeps_killing_its_worker_fails_the_run_naming_the_node(
    demo: DemoData, queued: dict[str, list[Any]]
) -> None:
    run = parked_run(demo, "Q26-00003")
    [(run_id, node_id, attempt)] = queued["renders"]
    # Three deliveries began rendering and their worker died before committing.
    for _ in range(render_queue.MAX_RENDER_STARTS):
        assert render_queue._count_start(run_id, node_id, attempt) is not None

    assert render_queue.render_node(run_id, node_id, attempt) == "poisoned"

    assert not Report.objects.filter(run=run).exists()
    failed = executed(run)  # the run failed at once; a late delivery of its task changes nothing
    assert failed.status == RunStatus.FAILED
    assert f"rendering node '{node_id}' stopped its render worker 3 times" in failed.error
    assert NodeRun.objects.get(run=run, node_id=node_id).status == "failed"
    assert queued["runs"] == []


def test_without_a_render_queue_the_run_renders_in_its_own_process(demo: DemoData) -> None:
    case = create_case(demo.department, case_document("breast-fna-benign"))
    run = services.start_run(case, rendering_workflow(demo), enqueue=False)

    finished = executed(run)

    assert finished.status == RunStatus.SUCCEEDED, finished.error
    assert Report.objects.filter(run=run).count() == 1
