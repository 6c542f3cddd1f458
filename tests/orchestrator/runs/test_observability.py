"""Trying designs out for real: test runs of a draft through a Celery worker, re-runs that reuse
checkpoints, and single-node runs against the real MLServer and a local server that hangs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from orchestrator import devstack
from orchestrator.accounts.models import User
from orchestrator.audit.models import AuditEvent
from orchestrator.cases.models import Case
from orchestrator.cases.services import create_case
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import DemoData
from orchestrator.designs.models import VersionStatus, WorkflowVersion
from orchestrator.reports.models import Report, ReportStatus
from orchestrator.runs.models import NodeRun, Run, RunStatus
from orchestrator.runs.observability import rerun_from_node
from orchestrator.runs.services import execute_run, start_run
from tests.conftest import case_document
from tests.loopback import LoopbackServer, Request
from tests.parked import SIGNOUT_NODE, sign_out_run, wait_for_draft

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]


RESECTION = "breast-resection-ki67"
FNA = "breast-fna-cytology"


def logged_in(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def make_draft(
    demo: DemoData, published: WorkflowVersion | None = None, **node_changes: dict[str, Any]
) -> WorkflowVersion:
    """A demo graph (the resection one unless ``published`` says) as its workflow's draft, with
    some nodes' fields replaced."""
    published = published or demo.workflow_version
    spec = dict(published.spec)
    spec["nodes"] = [{**n, **node_changes.get(n["id"], {})} for n in spec["nodes"]]
    return WorkflowVersion.objects.create(
        workflow=published.workflow,
        number=published.number + 1,
        spec=spec,
        template_version=published.template_version,
        status=VersionStatus.DRAFT,
    )


def finished_run(demo: DemoData, document: str = "breast-resection") -> Run:
    """A demo run to its end: it parks with its draft, the pathologist signs it out, and the
    resumed run succeeds."""
    case = create_case(demo.department, case_document(document))
    run = execute_run(start_run(case, demo.workflow_version, enqueue=False).pk)
    assert run is not None
    assert run.status == RunStatus.WAITING_REVIEW, run.error
    _, run = sign_out_run(run, User.objects.get(username="pathologist"), inline=True)
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


# --- test runs --------------------------------------------------------------------------------


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[str, list[str]]]:
    """A webhook receiver that counts what it is sent."""
    received: list[str] = []

    def receive(request: Request) -> None:
        received.append(request.path)
        request.reply(204, content_type=None)

    with LoopbackServer(post=receive) as server:
        yield server.url, received


def test_a_test_run_of_the_draft_on_a_sample_case_runs_on_the_worker_and_never_delivers(
    demo: DemoData,
    celery_worker: devstack.ManagedProcess,
    webhook_receiver: tuple[str, list[str]],
) -> None:
    url, received = webhook_receiver
    ModelEndpoint.objects.create(
        department=demo.department,
        slug="lis-hook",
        name="LIS webhook",
        protocol="webhook",
        base_url=f"{url}/reports",
    )
    draft = make_draft(demo, report={"config": {"language": "en"}})
    draft.spec = {
        **draft.spec,
        "nodes": [
            *draft.spec["nodes"],
            {
                "id": "send",
                "type": "deliver",
                "type_version": 1,
                "title": "Send to the LIS",
                "config": {"channel": "webhook", "destination": "lis-hook", "event": "drafted"},
            },
        ],
        "edges": [
            *draft.spec["edges"],
            {
                "id": "e_send",
                "source": "report",
                "source_port": "report",
                "target": "send",
                "target_port": "report",
            },
        ],
    }
    draft.save()

    response = logged_in("admin").post(
        "/api/v1/workflows/breast-resection-ki67/test-run",
        {"case_document": case_document("breast-resection")},
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["is_test"] is True
    assert body["workflow"]["version_id"] == draft.pk
    assert body["workflow"]["version_status"] == "draft"
    run = wait_for_draft(body["id"])
    # Like a real run, the test run parks with its draft at the sign-out review (never signed:
    # test runs stay out of the pathologist's queue).
    assert run.status == RunStatus.WAITING_REVIEW, run.error
    assert NodeRun.objects.get(run=run, node_id=SIGNOUT_NODE).status == "waiting"
    assert run.is_test
    case = Case.objects.get(pk=run.case_id)
    assert case.source == "sample"
    assert case.accession.startswith("TEST-S26-00001-")
    report = Report.objects.get(run=run)
    assert report.status == ReportStatus.DRAFT
    assert report.language == "en"
    send = NodeRun.objects.get(run=run, node_id="send")
    assert send.status == "succeeded"
    assert send.outputs["delivery"]["status"] == "not sent"
    assert received == []
    # A real case with the document's own accession can still arrive later.
    create_case(demo.department, case_document("breast-resection"))


def test_a_test_run_needs_a_draft_and_an_acting_role(demo: DemoData) -> None:
    case = create_case(demo.department, case_document("breast-resection-no-ki67-slide"))

    no_draft = logged_in("admin").post(
        "/api/v1/workflows/breast-resection-ki67/test-run", {"case": case.pk}, "application/json"
    )
    make_draft(demo)
    clinician = logged_in("clinician").post(
        "/api/v1/workflows/breast-resection-ki67/test-run", {"case": case.pk}, "application/json"
    )
    bad_document = logged_in("admin").post(
        "/api/v1/workflows/breast-resection-ki67/test-run",
        {"case_document": {"accession": "X1"}},
        "application/json",
    )

    assert no_draft.status_code == 400
    assert "has no draft version" in no_draft.json()["detail"]
    assert clinician.status_code == 403
    assert bad_document.status_code == 400
    assert "patient: required object with name and mrn" in bad_document.json()["problems"]
    assert Run.objects.count() == 0
    denials = AuditEvent.objects.filter(action="workflow.test_run_denied").count()
    assert denials == 3


# --- re-runs ----------------------------------------------------------------------------------


def test_a_rerun_reuses_upstream_checkpoints_so_a_broken_model_server_does_not_matter(
    demo: DemoData,
) -> None:
    original = finished_run(demo)
    admin = User.objects.get(username="admin")
    dead_url = f"http://127.0.0.1:{devstack.free_port()}"
    ModelEndpoint.objects.filter(department=demo.department).update(base_url=dead_url)

    from_fields = rerun_from_node(original, "fields", admin, enqueue=False)
    from_fields = execute_run(from_fields.pk) or from_fields
    from_ihc = rerun_from_node(original, "ihc", admin, enqueue=False)
    from_ihc = execute_run(from_ihc.pk) or from_ihc

    # The re-run renders a new draft, which waits for the pathologist's sign-out again.
    assert from_fields.status == RunStatus.WAITING_REVIEW, from_fields.error
    assert (from_fields.rerun_of_id, from_fields.rerun_from_node) == (original.pk, "fields")
    before = {r.node_id: r for r in NodeRun.objects.filter(run=original)}
    after = {r.node_id: r for r in NodeRun.objects.filter(run=from_fields)}
    for reused in ("case", "triage", "ihc", "ki67"):
        assert after[reused].outputs == before[reused].outputs
        assert after[reused].started_at == before[reused].started_at
    rendered, refilled = before["report"].finished_at, after["fields"].started_at
    assert rendered is not None
    assert refilled is not None
    assert refilled > rendered
    old_report = Report.objects.get(run=original, status=ReportStatus.DRAFT)
    new_report = Report.objects.get(run=from_fields)
    assert new_report.pk != old_report.pk
    assert new_report.data == old_report.data
    # From the model call on, the broken server is called again and the run fails naming it.
    assert from_ihc.status == RunStatus.FAILED
    assert dead_url in from_ihc.error
    assert "cannot connect" in from_ihc.error


def test_a_running_run_cannot_be_rerun(demo: DemoData) -> None:
    case = create_case(demo.department, case_document("breast-resection-no-ki67-slide"))
    run = start_run(case, demo.workflow_version, enqueue=False)

    response = logged_in("pathologist").post(
        f"/api/v1/runs/{run.pk}/rerun", {"from_node": "ihc"}, "application/json"
    )

    assert response.status_code == 400
    assert "is still queued" in response.json()["detail"]


# --- single-node runs -------------------------------------------------------------------------


def node_run(
    node_id: str, body: dict[str, Any], username: str = "admin", workflow: str = FNA
) -> Any:
    return logged_in(username).post(
        f"/api/v1/workflows/{workflow}/nodes/{node_id}/run", body, "application/json"
    )


def test_a_single_model_call_runs_against_the_real_model_server_and_stores_nothing(
    demo: DemoData,
) -> None:
    case = create_case(demo.department, case_document("breast-fna-malignant"))
    runs_before = (Run.objects.count(), NodeRun.objects.count())

    response = node_run("fna", {"inputs": {"in": {"from": "editor"}}, "case": case.pk})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "succeeded", body["error"]
    assert body["version"] == 1
    probability = body["outputs"]["result"]["predict_proba"][0][1]
    assert probability > 0.5
    assert (Run.objects.count(), NodeRun.objects.count()) == runs_before
    event = AuditEvent.objects.get(action="workflow.node_run")
    assert event.detail == {
        "node_id": "fna",
        "node_type": "model_call",
        "status": "succeeded",
        "case": case.pk,
    }


def test_a_single_switch_reads_the_case_it_is_given(demo: DemoData) -> None:
    make_draft(demo)
    without = create_case(demo.department, case_document("breast-resection-no-ki67-slide"))
    scanned = create_case(demo.department, case_document("breast-resection"))

    skipped = node_run("triage", {"inputs": {"in": {}}, "case": without.pk}, workflow=RESECTION)
    chosen = node_run("triage", {"inputs": {"in": {}}, "case": scanned.pk}, workflow=RESECTION)

    assert (skipped.json()["status"], list(skipped.json()["outputs"])) == ("succeeded", ["default"])
    assert list(chosen.json()["outputs"]) == ["ki67_slide"]
    assert chosen.json()["version"] == 2  # the draft


def test_a_single_node_run_reports_every_problem_with_the_request(demo: DemoData) -> None:
    render = node_run("report", {"inputs": {}})
    ports = node_run("fna", {"inputs": {"image": 1}, "nodes": {"x": 3}})
    missing = node_run("nope", {})
    clinician = node_run("fna", {"inputs": {}}, username="clinician")

    assert render.status_code == 400
    assert "not available as a single-node run" in render.json()["detail"]
    assert ports.status_code == 400
    problems = ports.json()["problems"]
    assert any("has no input port 'image'" in p for p in problems)
    assert any(p.startswith("nodes:") for p in problems)
    assert "node 'nope' is not in breast-fna-cytology v1" in missing.json()["detail"]
    assert clinician.status_code == 403
    assert not AuditEvent.objects.filter(action="workflow.node_run").exists()
    assert AuditEvent.objects.filter(action="workflow.node_run_denied").count() == 4


def hang(request: Request) -> None:
    request.hang(5)
    request.reply(500, content_type=None)


@pytest.fixture
def hanging_server() -> Iterator[str]:
    with LoopbackServer(post=hang) as server:
        yield server.url


def test_a_single_node_run_stops_at_the_nodes_timeout(demo: DemoData, hanging_server: str) -> None:
    ModelEndpoint.objects.filter(slug="breast-fna").update(base_url=hanging_server)
    make_draft(demo, demo.fna_workflow_version, fna={"timeout_s": 1})
    case = create_case(demo.department, case_document("breast-fna-malignant"))

    started = time.monotonic()
    body = node_run("fna", {"inputs": {"in": {}}, "case": case.pk}).json()

    assert time.monotonic() - started < 4
    assert body["status"] == "failed"
    assert body["error"] == "no result within the node's timeout of 1 s"
    assert body["outputs"] == {}


def test_a_clinician_is_refused_trying_a_workflow_even_with_a_malformed_body(
    demo: DemoData,
) -> None:
    client = logged_in("clinician")

    test_run = client.post(
        "/api/v1/workflows/breast-resection-ki67/test-run", {"case": "x"}, "application/json"
    )
    single = node_run("fna", {"inputs": "not an object", "version": 0}, username="clinician")

    assert (test_run.status_code, single.status_code) == (403, 403)
    assert "only department admins and pathologists may test a workflow" in str(test_run.json())
    denied = AuditEvent.objects.filter(actor__username="clinician").values_list("action", flat=True)
    assert sorted(denied) == ["workflow.node_run_denied", "workflow.test_run_denied"]
