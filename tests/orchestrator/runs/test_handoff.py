"""A run started while the task queue is down is not lost: a worker hands it over later."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator import devstack
from orchestrator.cases.services import create_case
from orchestrator.demo_data import DemoData
from orchestrator.runs.models import Run, RunStatus
from tests.conftest import case_document, manage
from tests.parked import wait_for_draft

pytestmark = pytest.mark.django_db(transaction=True)

START_RUN = """
from orchestrator.cases.models import Case
from orchestrator.designs.models import WorkflowVersion
from orchestrator.runs.services import start_run
run = start_run(Case.objects.get(pk={case}), WorkflowVersion.objects.get(pk={version}))
print(run.pk)
"""


def test_a_run_started_while_the_queue_is_down_stays_queued_and_runs_once_it_is_back(
    demo: DemoData, worker_env: dict[str, str], tmp_path: Path
) -> None:
    case = create_case(demo.department, case_document("breast-resection"))
    dead_queue = f"redis+socket://{tmp_path / 'no-broker.sock'}"

    # A web or CLI process whose broker is unreachable starts a run.
    started = manage(
        {**worker_env, "CELERY_BROKER_URL": dead_queue},
        "shell",
        "-c",
        START_RUN.format(case=case.pk, version=demo.workflow_version.pk),
    )

    assert started.returncode == 0, started.stderr  # the caller is not failed with a 500
    run = Run.objects.get(pk=int(started.stdout.split()[-1]))
    assert (run.status, run.handoff_pending) == (RunStatus.QUEUED, True)
    assert f"run {run.pk} stays queued: the task queue cannot be reached" in started.stderr

    # A worker on the live queue sweeps it up and runs it.
    worker = devstack.start_worker(
        tmp_path, name="sweeper", concurrency=1,
        env={**worker_env, "PATHFLOW_RUN_HANDOFF_SWEEP_SECONDS": "1"},
    )  # fmt: skip
    try:
        finished = wait_for_draft(run.pk, timeout=60)
    finally:
        worker.stop()

    # It ran to the demo workflow's sign-out review, where the draft waits for the pathologist.
    assert finished.status == RunStatus.WAITING_REVIEW, finished.error
    assert not finished.handoff_pending
    assert finished.reports.count() == 1
