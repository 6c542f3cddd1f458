"""Executing runs in-process against a real local model server: leases against double
execution, cancel, limits per run, review parking and resumption, sub-workflows from the
catalog of published workflows, and test runs of drafts."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from pytest_django.fixtures import Settings

from orchestrator import devstack
from orchestrator.accounts.models import Department, User
from orchestrator.audit.models import AuditEvent
from orchestrator.cases.models import Case
from orchestrator.cases.services import create_case
from orchestrator.designs.models import TemplateVersion, VersionStatus, Workflow, WorkflowVersion
from orchestrator.designs.services import import_template_dir, import_workflow
from orchestrator.runs import services
from orchestrator.runs.models import NodeRun, Run, RunStatus
from orchestrator.runs.services import (
    LeaseHeld,
    RunRejected,
    cancel_run,
    execute_run,
    hand_over_pending_runs,
    start_run,
    submit_review,
)
from tests.conftest import case_document, wait_for_run
from tests.factories import DepartmentFactory, ModelEndpointFactory
from tests.workflows.conftest import ModelServer, Reply, edge, graph, model_call, trigger
from workflows.executor import RunOutcome

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


@pytest.fixture
def template_version(department: Department) -> TemplateVersion:
    return import_template_dir(department, django_settings.REPORT_LIBRARY_DIR / "breast-carcinoma")


@pytest.fixture
def case(department: Department) -> Case:
    return create_case(department, case_document("breast-resection"))


def endpoints(department: Department, server: ModelServer, *slugs: str) -> None:
    for slug in slugs:
        ModelEndpointFactory.create(
            department=department, slug=slug, base_url=server.url, model_name=slug
        )


def publish(
    department: Department,
    template_version: TemplateVersion,
    document: dict[str, Any],
    slug: str = "wf",
) -> WorkflowVersion:
    return import_workflow(
        department, document, template_version, slug=slug, case_type="breast-resection"
    )


@dataclass
class Runs:
    """Runs of the department's workflows on a breast case, their models on the local server."""

    department: Department
    template_version: TemplateVersion
    case: Case
    server: ModelServer

    def publish(self, document: dict[str, Any], slug: str = "wf") -> WorkflowVersion:
        return publish(self.department, self.template_version, document, slug)

    def start(self, document: dict[str, Any], *models: str, enqueue: bool = False) -> Run:
        """The models' endpoints, the document published, and a run of it started (sent to the
        broker only if ``enqueue``)."""
        endpoints(self.department, self.server, *models)
        return start_run(self.case, self.publish(document), enqueue=enqueue)


@pytest.fixture
def runs(
    department: Department, template_version: TemplateVersion, case: Case, model_server: ModelServer
) -> Runs:
    return Runs(department, template_version, case, model_server)


def one_model(slug: str, **node: Any) -> dict[str, Any]:
    return graph([trigger(), model_call(slug, **node)], [edge("case", slug, source_port="case")])


def statuses(run: Run) -> list[tuple[str, int, str]]:
    return [(r.node_id, r.attempt, r.status) for r in run.node_runs.order_by("node_id", "attempt")]


# --- leases -----------------------------------------------------------------------------------


def test_a_second_delivery_while_the_lease_is_live_does_not_run_the_run(
    runs: Runs, model_server: ModelServer
) -> None:
    run = runs.start(one_model("score"), "score")
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING,
        lease_owner="other-host:1:abc",
        lease_expires_at=timezone.now() + timedelta(seconds=20),
    )

    with pytest.raises(LeaseHeld) as held:
        execute_run(run.pk)

    assert 19 <= held.value.retry_in <= 22
    assert model_server.calls == []
    assert not NodeRun.objects.filter(run=run).exists()


def test_a_run_longer_than_its_lease_keeps_it_by_heartbeat_and_is_not_run_twice(
    runs: Runs,
    model_server: ModelServer,
    settings: Settings,
) -> None:
    settings.RUN_LEASE_SECONDS = 2
    settings.RUN_HEARTBEAT_SECONDS = 1
    model_server.script("slow", Reply(delay_s=3.5))
    run = runs.start(one_model("slow"), "slow")
    worker = threading.Thread(target=execute_run, args=(run.pk,))
    worker.start()
    try:
        time.sleep(2.8)  # past the first lease's expiry: only the heartbeat keeps it
        with pytest.raises(LeaseHeld):
            execute_run(run.pk)
    finally:
        worker.join(timeout=20)

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert len(model_server.calls_to("slow")) == 1


def test_a_run_whose_worker_died_resumes_once_its_lease_expired_without_repeating_nodes(
    runs: Runs, model_server: ModelServer
) -> None:
    document = graph(
        [trigger(), model_call("first"), model_call("second", retry={"max_attempts": 3})],
        [edge("case", "first", source_port="case"), edge("first", "second")],
    )
    run = runs.start(document, "first", "second")
    assert execute_run(run.pk) is not None
    # Pretend the worker died while `second` was in its first attempt.
    NodeRun.objects.filter(run=run, node_id="second").update(status="running", outputs={})
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING,
        finished_at=None,
        lease_owner="dead-host:1:abc",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )

    resumed = execute_run(run.pk)

    assert resumed is not None
    assert resumed.status == RunStatus.SUCCEEDED, resumed.error
    assert len(model_server.calls_to("first")) == 1
    assert len(model_server.calls_to("second")) == 2
    assert statuses(resumed) == [
        ("case", 1, "succeeded"),
        ("first", 1, "succeeded"),
        ("second", 1, "failed"),
        ("second", 2, "succeeded"),
    ]
    interrupted = NodeRun.objects.get(run=run, node_id="second", attempt=1)
    assert interrupted.error == (
        "interrupted: the worker running this attempt stopped before it finished"
    )
    assert resumed.lease_owner == ""


def test_a_finished_run_delivered_again_is_left_alone(
    runs: Runs, model_server: ModelServer
) -> None:
    run = runs.start(one_model("score"), "score")
    execute_run(run.pk)

    again = execute_run(run.pk)

    assert again is not None
    assert again.status == RunStatus.SUCCEEDED
    assert len(model_server.calls_to("score")) == 1


# --- cancel -----------------------------------------------------------------------------------


def test_cancelling_a_queued_run_cancels_it_at_once_and_audits_who(
    runs: Runs,
    model_server: ModelServer,
    pathologist: User,
) -> None:
    run = runs.start(one_model("score"), "score")

    cancelled = cancel_run(run, pathologist)

    assert cancelled.status == RunStatus.CANCELLED
    assert cancelled.cancelled_by == pathologist
    assert cancelled.error == "cancelled by pathologist"
    assert AuditEvent.objects.filter(action="run.cancelled", object_id=str(run.pk)).exists()
    # The task that was already queued finds the run cancelled and runs nothing.
    assert execute_run(run.pk) is not None
    assert model_server.calls == []


def test_cancelling_a_running_run_stops_its_nodes_within_a_second_or_two(
    runs: Runs,
    model_server: ModelServer,
    pathologist: User,
) -> None:
    model_server.script("stuck", Reply(hang=True))
    run = runs.start(one_model("stuck"), "stuck")
    worker = threading.Thread(target=execute_run, args=(run.pk,))
    worker.start()
    deadline = time.monotonic() + 10
    while not model_server.calls_to("stuck") and time.monotonic() < deadline:
        time.sleep(0.05)

    asked = time.monotonic()
    cancel_run(Run.objects.get(pk=run.pk), pathologist)
    worker.join(timeout=10)

    assert time.monotonic() - asked < 2.5
    run.refresh_from_db()
    assert (run.status, run.error) == (RunStatus.CANCELLED, "cancelled by pathologist")
    stuck = NodeRun.objects.get(run=run, node_id="stuck")
    assert (stuck.status, stuck.attempt) == ("cancelled", 1)
    assert stuck.error == "cancelled: cancelled by pathologist"
    assert AuditEvent.objects.filter(action="run.cancel_requested", object_id=str(run.pk)).exists()


def test_a_run_cancelled_while_its_worker_was_dead_ends_cancelled_when_delivered_again(
    runs: Runs,
    model_server: ModelServer,
    pathologist: User,
) -> None:
    run = runs.start(one_model("score"), "score")
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING,
        lease_owner="dead-host:1:abc",
        lease_expires_at=timezone.now() + timedelta(seconds=30),
    )
    cancel_run(Run.objects.get(pk=run.pk), pathologist)
    Run.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))

    ended = execute_run(run.pk)

    assert ended is not None
    assert (ended.status, ended.error) == (RunStatus.CANCELLED, "cancelled by pathologist")
    assert model_server.calls == []


def test_cancelling_a_finished_run_is_refused(
    runs: Runs,
    model_server: ModelServer,
    pathologist: User,
) -> None:
    run = runs.start(one_model("score"), "score")
    execute_run(run.pk)

    with pytest.raises(RunRejected, match=rf"run {run.pk} has already finished \(succeeded\)"):
        cancel_run(run, pathologist)


# --- limits -----------------------------------------------------------------------------------


def test_a_run_over_its_step_limit_fails_naming_the_limit(
    runs: Runs,
    model_server: ModelServer,
    settings: Settings,
) -> None:
    settings.RUN_MAX_STEPS = 3
    model_server.script("flaky", Reply(status=503))
    document = one_model("flaky", retry={"max_attempts": 10, "backoff_s": 0})
    run = runs.start(document, "flaky")

    run = execute_run(run.pk) or run

    assert run.status == RunStatus.FAILED
    assert "limit of 3 node executions (PATHFLOW_RUN_MAX_STEPS)" in run.error
    assert len(model_server.calls_to("flaky")) == 2


def test_a_run_over_its_wall_time_fails_naming_the_limit(
    runs: Runs,
    model_server: ModelServer,
    settings: Settings,
) -> None:
    settings.RUN_MAX_SECONDS = 1
    model_server.script("stuck", Reply(hang=True))
    run = runs.start(one_model("stuck"), "stuck")

    run = execute_run(run.pk) or run

    assert run.status == RunStatus.FAILED
    assert run.error == "the run took longer than its limit of 1 s (PATHFLOW_RUN_MAX_SECONDS)"
    assert NodeRun.objects.get(run=run, node_id="stuck").status == "cancelled"


# --- review -----------------------------------------------------------------------------------


def review_workflow() -> dict[str, Any]:
    review = {
        "id": "review",
        "type": "review",
        "config": {"title": "Grade the tumour", "fields": ["histologic_grade"]},
    }
    report = {"id": "report", "type": "render_report", "config": {"language": "en"}}
    return graph(
        [trigger(), model_call("score"), review, report],
        [
            edge("case", "score", source_port="case"),
            edge("score", "review"),
            edge("review", "report", source_port="approved", target_port="findings"),
        ],
    )


def test_a_review_parks_the_run_and_a_decision_resumes_it_to_a_report(
    runs: Runs,
    model_server: ModelServer,
    pathologist: User,
    broker_url: str,
) -> None:
    run = runs.start(review_workflow(), "score")

    parked = execute_run(run.pk)

    assert parked is not None
    assert parked.status == RunStatus.WAITING_REVIEW
    assert parked.finished_at is None
    assert parked.lease_owner == ""
    waiting = NodeRun.objects.get(run=run, node_id="review")
    assert waiting.status == "waiting"
    assert waiting.outputs["waiting"]["fields"] == ["histologic_grade"]
    assert not run.reports.exists()

    with pytest.raises(RunRejected) as rejected:
        submit_review(parked, "review", {"decision": "ok", "values": {"ki67": 1}}, pathologist)
    assert str(rejected.value) == (
        "node 'review': 'decision' must be one of approve, reject (got 'ok'); values: element "
        "'ki67' is not one this review asks for (histologic_grade)"
    )
    with pytest.raises(RunRejected, match="histologic_grade"):
        submit_review(
            parked,
            "review",
            {"decision": "approve", "values": {"histologic_grade": 9}},
            pathologist,
        )

    queued = submit_review(
        parked,
        "review",
        {"decision": "approve", "values": {"histologic_grade": "grade_2"}},
        pathologist,
    )
    # Re-queued; a worker of this session may already have taken it up.
    assert queued.status in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.SUCCEEDED)
    event = AuditEvent.objects.get(action="run.review_submitted", object_id=str(run.pk))
    assert event.actor == pathologist
    assert event.detail == {"node": "review", "decision": "approve", "fields": ["histologic_grade"]}

    # The resumption was also sent to the broker; a worker of this test session may take it.
    with contextlib.suppress(LeaseHeld):
        execute_run(run.pk)
    done = wait_for_run(run.pk, timeout=60)

    assert done is not None
    assert done.status == RunStatus.SUCCEEDED, done.error
    assert len(model_server.calls_to("score")) == 1
    report = done.reports.get()
    assert report.data == {"histologic_grade": "grade_2"}
    assert report.provenance["histologic_grade"][0]["kind"] == "person"
    assert report.provenance["histologic_grade"][0]["user"] == pathologist.pk


@pytest.mark.service
def test_a_worker_parks_a_run_for_review_and_resumes_it_after_the_decision(
    runs: Runs,
    model_server: ModelServer,
    pathologist: User,
    celery_worker: devstack.ManagedProcess,
) -> None:
    run = runs.start(review_workflow(), "score", enqueue=True)
    deadline = time.monotonic() + 60
    while Run.objects.get(pk=run.pk).status != RunStatus.WAITING_REVIEW:
        assert time.monotonic() < deadline, "the run never parked for its review"
        time.sleep(0.1)

    submit_review(
        Run.objects.get(pk=run.pk),
        "review",
        {"decision": "approve", "values": {"histologic_grade": "grade_3"}},
        pathologist,
    )
    done = wait_for_run(run.pk, timeout=60)

    assert done.status == RunStatus.SUCCEEDED, done.error
    assert done.reports.get().data == {"histologic_grade": "grade_3"}
    assert len(model_server.calls_to("score")) == 1


def test_a_review_of_another_department_or_a_run_not_waiting_is_refused(
    runs: Runs,
    model_server: ModelServer,
    pathologist: User,
    other_department_pathologist: User,
) -> None:
    run = runs.start(review_workflow(), "score")

    with pytest.raises(RunRejected, match="is not waiting for a review \\(it is queued\\)"):
        submit_review(run, "review", {"decision": "approve"}, pathologist)
    parked = execute_run(run.pk) or run
    with pytest.raises(RunRejected, match="another department"):
        submit_review(parked, "review", {"decision": "approve"}, other_department_pathologist)
    with pytest.raises(RunRejected, match=r"node 'score' is not waiting .* \(waiting: review\)"):
        submit_review(parked, "score", {"decision": "approve"}, pathologist)


# --- sub-workflows and test runs --------------------------------------------------------------


def test_a_sub_workflow_runs_the_latest_published_version_of_the_departments_workflow(
    runs: Runs, model_server: ModelServer
) -> None:
    endpoints(runs.department, model_server, "score", "score2")
    runs.publish(one_model("score"), slug="child")
    runs.publish(one_model("score2"), slug="child")
    child = {"id": "child", "type": "sub_workflow", "config": {"workflow": "child"}}
    document = graph([trigger(), child], [edge("case", "child", source_port="case")])
    run = runs.start(document)

    run = execute_run(run.pk) or run

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert model_server.calls_to("score") == []
    assert len(model_server.calls_to("score2")) == 1
    assert NodeRun.objects.get(run=run, node_id="child/score2").status == "succeeded"


def test_a_sub_workflow_of_another_department_is_not_found(
    department: Department, template_version: TemplateVersion, case: Case, model_server: ModelServer
) -> None:
    other = DepartmentFactory.create(code="elsewhere")
    other_template = import_template_dir(
        other, django_settings.REPORT_LIBRARY_DIR / "breast-carcinoma"
    )
    endpoints(other, model_server, "score")
    publish(other, other_template, one_model("score"), slug="theirs")
    child = {"id": "child", "type": "sub_workflow", "config": {"workflow": "theirs"}}
    document = graph([trigger(), child], [edge("case", "child", source_port="case")])
    # Stored without the loader's checks: the department scope must hold at run time too.
    workflow = Workflow.objects.create(
        department=department, slug="ours", name="ours", case_type="breast-resection"
    )
    version = WorkflowVersion.objects.create(
        workflow=workflow,
        number=1,
        status=VersionStatus.PUBLISHED,
        spec=document,
        template_version=template_version,
    )

    run = execute_run(start_run(case, version, enqueue=False).pk)

    assert run is not None
    assert run.status == RunStatus.FAILED
    assert "workflow 'theirs' is not one of the department's" in run.error
    assert model_server.calls == []


def test_a_draft_runs_only_as_a_test_run(
    department: Department, template_version: TemplateVersion, case: Case, model_server: ModelServer
) -> None:
    endpoints(department, model_server, "score")
    draft = import_workflow(
        department,
        one_model("score"),
        template_version,
        slug="drafty",
        case_type="breast-resection",
        publish=False,
    )

    with pytest.raises(RunRejected, match="is not published"):
        start_run(case, draft, enqueue=False)
    run = start_run(case, draft, enqueue=False, allow_draft=True)

    assert run.is_test
    assert (execute_run(run.pk) or run).status == RunStatus.SUCCEEDED


# --- runs whose worker is gone ----------------------------------------------------------------


def test_cancelling_a_running_run_whose_worker_is_gone_cancels_it_at_once(
    runs: Runs, pathologist: User
) -> None:
    run = runs.start(one_model("score"), "score")
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING,
        lease_owner="dead-host:1:abc",
        lease_expires_at=timezone.now() - timedelta(minutes=5),
    )
    NodeRun.objects.create(run=run, node_id="score", node_type="model_call", status="running")

    cancelled = cancel_run(Run.objects.get(pk=run.pk), pathologist)

    # No worker would ever see a cancel mark: the run ends now.
    assert (cancelled.status, cancelled.error) == (RunStatus.CANCELLED, "cancelled by pathologist")
    assert NodeRun.objects.get(run=run, node_id="score").status == "cancelled"


def test_a_cancel_pressed_while_a_run_parks_for_review_wins(runs: Runs, pathologist: User) -> None:
    run = runs.start(review_workflow())
    # The executor is about to store "waiting for review" when the cancel arrives.
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, lease_owner="this-worker", cancel_requested_at=timezone.now(),
        cancelled_by=pathologist,
    )  # fmt: skip
    NodeRun.objects.create(run=run, node_id="review", node_type="review", status="waiting")

    ended = services._finish(run.pk, "this-worker", RunOutcome("waiting_review", "", {}))

    assert ended is not None
    assert (ended.status, ended.error) == (RunStatus.CANCELLED, "cancelled by pathologist")
    assert NodeRun.objects.get(run=run, node_id="review").status == "cancelled"


def test_a_review_of_a_run_being_cancelled_is_refused(runs: Runs, pathologist: User) -> None:
    run = runs.start(review_workflow(), "score")
    run = execute_run(run.pk) or run
    assert run.status == RunStatus.WAITING_REVIEW
    Run.objects.filter(pk=run.pk).update(cancel_requested_at=timezone.now())

    with pytest.raises(RunRejected, match="is being cancelled; its review no longer applies"):
        submit_review(run, "review", {"decision": "approve"}, pathologist)


def test_a_running_run_whose_worker_and_task_are_gone_is_swept_back_and_finishes(
    runs: Runs, celery_worker: devstack.ManagedProcess
) -> None:
    run = runs.start(one_model("score"), "score")
    stale = timezone.now() - timedelta(seconds=3 * django_settings.RUN_LEASE_SECONDS)
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=stale, lease_owner="dead-host:1:abc",
        lease_expires_at=stale,
    )  # fmt: skip

    assert hand_over_pending_runs() == [run.pk]

    finished = wait_for_run(run.pk, timeout=60)
    assert finished.status == RunStatus.SUCCEEDED, finished.error
    assert len(runs.server.calls_to("score")) == 1
