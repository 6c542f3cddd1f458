"""The REST API: department scoping, audit of downloads, the node-type palette."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from orchestrator.accounts.models import Department, User
from orchestrator.audit.models import AuditEvent
from orchestrator.cases.services import create_case
from orchestrator.demo_data import DemoData, load_demo_data
from orchestrator.reports.models import Report, ReportStatus
from orchestrator.runs.models import NodeRun, Run, RunStatus
from tests.conftest import PASSWORD, case_document
from workflows.nodes.review import review_request

pytestmark = [pytest.mark.service, pytest.mark.django_db]


@pytest.fixture
def demo_db(db: None) -> DemoData:
    return load_demo_data(PASSWORD, "http://127.0.0.1:9")


@pytest.fixture
def make_run(demo_db: DemoData) -> Callable[..., Run]:
    counter = iter(range(1, 1000))

    def make(department: Department | None = None, *, with_report: bool = True) -> Run:
        n = next(counter)
        case = create_case(
            department or demo_db.department,
            case_document("breast-fna-malignant", accession=f"S26-9{n:04d}"),
        )
        run = Run.objects.create(
            case=case,
            workflow_version=demo_db.fna_workflow_version,
            template_version=demo_db.fna_workflow_version.template_version,
            status=RunStatus.FAILED,
            error="node 'fna' failed: boom",
        )
        NodeRun.objects.create(
            run=run,
            node_id="fna",
            node_type="model_call",
            status="failed",
            error="endpoint 'breast-fna': cannot connect",
        )
        if with_report:
            report = Report(
                case=case,
                run=run,
                template_version=run.template_version,
                status=ReportStatus.DRAFT,
                data={"fna_malignancy_probability": 12.5},
            )
            report.pdf.save("r.pdf", ContentFile(b"%PDF-1.7 test"), save=False)
            report.save()
        return run

    return make


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_lists_only_the_runs_of_the_users_department(
    make_run: Callable[..., Run], pathologist: User, other_department_pathologist: User
) -> None:
    ours = make_run()
    theirs = make_run(other_department_pathologist.department)

    mine = logged_in(pathologist).get("/api/v1/runs/").json()
    others = logged_in(other_department_pathologist).get("/api/v1/runs/").json()

    assert [r["id"] for r in mine["results"]] == [ours.pk]
    assert [r["id"] for r in others["results"]] == [theirs.pk]


def test_a_run_shows_its_failed_node_and_report_link(
    make_run: Callable[..., Run], pathologist: User
) -> None:
    run = make_run()

    body: dict[str, Any] = logged_in(pathologist).get("/api/v1/runs/").json()["results"][0]

    assert body["status"] == "failed"
    assert body["workflow"] == {
        "slug": "breast-fna-cytology",
        "name": "Breast FNA cytology + AI estimate",
        "version": 1,
    }
    node = body["node_runs"][0]
    assert node["title"] == "FNA malignancy classifier (AI)"
    assert node["error"] == "endpoint 'breast-fna': cannot connect"
    report = Report.objects.get(run=run)
    assert body["report"]["pdf_url"] == f"/api/v1/reports/{report.pk}/pdf"


def test_the_run_list_query_count_does_not_grow_with_runs(
    make_run: Callable[..., Run],
    pathologist: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    client = logged_in(pathologist)
    for _ in range(8):
        make_run()
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/runs/")
    assert response.json()["count"] == 8


def test_it_refuses_anonymous_requests(make_run: Callable[..., Run]) -> None:
    make_run()
    assert Client().get("/api/v1/runs/").status_code == 403
    assert Client().get("/api/v1/me").status_code == 403


def test_a_report_pdf_download_is_served_and_audited(
    make_run: Callable[..., Run], pathologist: User
) -> None:
    report = Report.objects.get(run=make_run())

    response = logged_in(pathologist).get(f"/api/v1/reports/{report.pk}/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]
    event = AuditEvent.objects.get(action="report.downloaded")
    assert (event.actor, event.object_id) == (pathologist, str(report.pk))


def test_another_departments_report_is_not_found_and_the_denial_is_audited(
    make_run: Callable[..., Run], other_department_pathologist: User
) -> None:
    report = Report.objects.get(run=make_run())

    response = logged_in(other_department_pathologist).get(f"/api/v1/reports/{report.pk}/pdf")

    assert response.status_code == 404
    event = AuditEvent.objects.get(action="report.download_denied")
    assert event.actor == other_department_pathologist


def test_a_clinician_gets_signed_reports_but_not_ai_drafts(
    make_run: Callable[..., Run], clinician: User
) -> None:
    run = make_run()
    draft = Report.objects.get(run=run)
    client = logged_in(clinician)

    listed = client.get("/api/v1/runs/").json()
    detail = client.get(f"/api/v1/runs/{run.pk}/").json()
    download = client.get(f"/api/v1/reports/{draft.pk}/pdf")

    # An unsigned AI draft is for the pathologists who review and sign it.
    assert [r["report"] for r in listed["results"]] == [None]
    assert detail["report"] is None
    assert download.status_code == 404
    denied = AuditEvent.objects.get(action="report.download_denied")
    assert (denied.actor, denied.detail["status"]) == (clinician, "draft")
    Report.objects.filter(pk=draft.pk).update(status=ReportStatus.FINAL)
    assert client.get("/api/v1/runs/").json()["results"][0]["report"]["id"] == draft.pk
    assert client.get(f"/api/v1/reports/{draft.pk}/pdf").status_code == 200


def test_the_palette_lists_every_node_type_with_schema_and_ports(pathologist: User) -> None:
    types = logged_in(pathologist).get("/api/v1/node-types").json()

    by_name = {t["name"]: t for t in types}
    assert set(by_name) >= {"case_trigger", "model_call", "condition", "transform", "render_report"}
    assert by_name["condition"]["outputs"] == [
        {"name": "true", "type": "boolean", "required": False, "multiple": False, "title": "Yes"},
        {"name": "false", "type": "boolean", "required": False, "multiple": False, "title": "No"},
    ]
    assert "endpoint" in by_name["model_call"]["config_schema"]["properties"]


def test_me_names_the_user_their_department_and_role(pathologist: User) -> None:
    body = logged_in(pathologist).get("/api/v1/me").json()
    assert body["username"] == "pathologist"
    assert body["role"] == "pathologist"
    assert body["department"]["name"] == "Pathology"
    assert body["department"]["code"] == "pathology"


def test_the_openapi_schema_describes_the_api(pathologist: User) -> None:
    response = logged_in(pathologist).get("/api/v1/schema")
    assert response.status_code == 200
    assert b"/api/v1/runs/" in response.content


def test_audit_events_cannot_be_changed(make_run: Callable[..., Run]) -> None:
    event = AuditEvent.objects.first()
    assert event is not None
    event.action = "tampered"
    with pytest.raises(Exception, match="append-only"):
        event.save()
    with pytest.raises(Exception, match="append-only"):
        event.delete()


# --- run detail, filters, actions -------------------------------------------------------------


@pytest.fixture
def detailed_run(make_run: Callable[..., Run]) -> Run:
    """A failed run whose model call was retried once: two attempts with inputs and outputs."""
    run = make_run()
    run.node_runs.all().delete()
    now = timezone.now()
    rows = [
        ("case", "case_trigger", 1, "succeeded", {}, {"case": {"accession": "S26-90001"}}, ""),
        ("fna", "model_call", 1, "failed", {"in": {"n": 1}}, {}, "endpoint 'breast-fna': HTTP 500"),
        ("fna", "model_call", 2, "failed", {"in": {"n": 1}}, {}, "endpoint 'breast-fna': HTTP 503"),
    ]
    for index, (node_id, node_type, attempt, status, inputs, outputs, error) in enumerate(rows):
        NodeRun.objects.create(
            run=run,
            node_id=node_id,
            node_type=node_type,
            attempt=attempt,
            status=status,
            inputs=inputs,
            outputs=outputs,
            error=error,
            started_at=now + timedelta(seconds=10 * index),
            finished_at=now + timedelta(seconds=10 * index, milliseconds=40),
            duration_ms=40,
        )
    return run


def test_the_run_detail_shows_every_attempt_with_inputs_outputs_and_pinned_versions(
    detailed_run: Run, pathologist: User
) -> None:
    response = logged_in(pathologist).get(f"/api/v1/runs/{detailed_run.pk}/")

    assert response.status_code == 200
    body = response.json()
    # The demo FNA graph, its sign-out review the last node.
    assert [n["node_id"] for n in body["nodes"]] == [
        "case",
        "fna",
        "fields",
        "report",
        "signout",
    ]
    attempts = [(a["node_id"], a["attempt"], a["status"]) for a in body["node_runs"]]
    assert attempts == [("case", 1, "succeeded"), ("fna", 1, "failed"), ("fna", 2, "failed")]
    second = body["node_runs"][2]
    assert second["title"] == "FNA malignancy classifier (AI)"
    assert second["inputs"] == {"in": {"n": 1}}
    assert second["error"] == "endpoint 'breast-fna': HTTP 503"
    assert second["duration_ms"] == 40
    assert second["started_at"]
    assert second["finished_at"]
    assert body["node_runs"][0]["outputs"] == {"case": {"accession": "S26-90001"}}
    assert body["workflow"]["version_id"] == detailed_run.workflow_version_id
    assert body["template"]["slug"] == "breast-fna-cytology"
    assert body["template"]["version_id"] == detailed_run.template_version_id
    assert body["permissions"] == {"act": True, "see_io": True}
    event = AuditEvent.objects.get(action="run.viewed")
    assert (event.actor, event.object_id) == (pathologist, str(detailed_run.pk))
    assert "S26-90001" not in str(event.detail)


def test_a_clinician_sees_statuses_but_not_inputs_outputs_or_test_runs(
    detailed_run: Run, make_run: Callable[..., Run], clinician: User
) -> None:
    test_run = make_run()
    Run.objects.filter(pk=test_run.pk).update(is_test=True)
    client = logged_in(clinician)

    listed = client.get("/api/v1/runs/").json()
    body = client.get(f"/api/v1/runs/{detailed_run.pk}/").json()

    assert [r["id"] for r in listed["results"]] == [detailed_run.pk]
    assert client.get(f"/api/v1/runs/{test_run.pk}/").status_code == 404
    assert {a["status"] for a in body["node_runs"]} == {"succeeded", "failed"}
    assert all(a["inputs"] is None and a["outputs"] is None for a in body["node_runs"])
    assert body["permissions"] == {"act": False, "see_io": False}


def test_a_clinician_cannot_cancel_or_rerun_and_the_denial_is_audited(
    detailed_run: Run, clinician: User
) -> None:
    client = logged_in(clinician)

    cancel = client.post(f"/api/v1/runs/{detailed_run.pk}/cancel")
    rerun = client.post(
        f"/api/v1/runs/{detailed_run.pk}/rerun",
        {"from_node": "fna"},
        content_type="application/json",
    )

    assert cancel.status_code == 403
    assert "only department admins and pathologists" in cancel.json()["detail"]
    assert rerun.status_code == 403
    assert set(AuditEvent.objects.filter(actor=clinician).values_list("action", flat=True)) == {
        "run.cancel_denied",
        "run.rerun_denied",
    }
    assert Run.objects.count() == 1
    # A malformed body is still a refusal of the person, audited, not a 400 about the body.
    for action in ("review", "rerun"):
        malformed = client.post(
            f"/api/v1/runs/{detailed_run.pk}/{action}", {}, content_type="application/json"
        )
        assert malformed.status_code == 403
    assert AuditEvent.objects.filter(actor=clinician, action="run.review_denied").exists()
    assert AuditEvent.objects.filter(actor=clinician, action="run.rerun_denied").count() == 2


def test_another_departments_run_is_not_found_and_the_denial_is_audited(
    detailed_run: Run, other_department_pathologist: User
) -> None:
    client = logged_in(other_department_pathologist)

    assert client.get(f"/api/v1/runs/{detailed_run.pk}/").status_code == 404
    assert client.get(f"/api/v1/runs/{detailed_run.pk}/progress").status_code == 404
    assert client.post(f"/api/v1/runs/{detailed_run.pk}/cancel").status_code == 404

    actions = AuditEvent.objects.filter(actor=other_department_pathologist).values_list(
        "action", flat=True
    )
    assert sorted(actions) == ["run.cancel_denied", "run.progress_denied", "run.retrieve_denied"]


def test_the_run_list_filters_by_status_workflow_accession_and_test_flag(
    make_run: Callable[..., Run], pathologist: User
) -> None:
    failed, succeeded, test = make_run(), make_run(), make_run()
    Run.objects.filter(pk=succeeded.pk).update(status=RunStatus.SUCCEEDED)
    Run.objects.filter(pk=test.pk).update(is_test=True)
    client = logged_in(pathologist)

    def ids(query: str) -> list[int]:
        return [r["id"] for r in client.get(f"/api/v1/runs/?{query}").json()["results"]]

    assert ids("status=succeeded") == [succeeded.pk]
    assert ids("is_test=true") == [test.pk]
    assert ids("is_test=false") == [succeeded.pk, failed.pk]
    assert ids(f"accession={failed.case.accession}") == [failed.pk]
    assert ids("workflow=breast-fna-cytology&status=failed") == [test.pk, failed.pk]
    assert ids("workflow=no-such-workflow") == []
    assert client.get("/api/v1/runs/?is_test=maybe").status_code == 400


def test_the_run_detail_query_count_does_not_grow_with_attempts(
    detailed_run: Run,
    pathologist: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    client = logged_in(pathologist)
    for attempt in range(3, 30):
        NodeRun.objects.create(
            run=detailed_run,
            node_id="fna",
            node_type="model_call",
            attempt=attempt,
            status="failed",
        )
    # 8 to read the run, + 2 for its audit event: lock and advance the audit chain's head.
    with django_assert_max_num_queries(10):
        response = client.get(f"/api/v1/runs/{detailed_run.pk}/")
    assert len(response.json()["node_runs"]) == 30


def test_cancelling_a_queued_run_ends_it_at_once(make_run: Callable[..., Run], admin: User) -> None:
    run = make_run(with_report=False)
    Run.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED, error="")

    response = logged_in(admin).post(f"/api/v1/runs/{run.pk}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancelled_by"] == str(admin)
    again = logged_in(admin).post(f"/api/v1/runs/{run.pk}/cancel")
    assert again.status_code == 400
    assert "already finished" in again.json()["detail"]
    assert AuditEvent.objects.filter(action="run.cancel_denied", actor=admin).exists()


def test_a_review_decision_resumes_a_parked_run(
    make_run: Callable[..., Run], pathologist: User
) -> None:
    run = make_run(with_report=False)
    Run.objects.filter(pk=run.pk).update(status=RunStatus.WAITING_REVIEW, error="")
    NodeRun.objects.create(
        run=run,
        node_id="check",
        node_type="review",
        status="waiting",
        outputs={
            "waiting": review_request(
                {
                    "title": "Check",
                    "fields": ["fna_malignancy_probability"],
                    "decisions": ["approve"],
                },
                {},
            )
        },
    )
    client = logged_in(pathologist)

    wrong = client.post(
        f"/api/v1/runs/{run.pk}/review",
        {"node_id": "check", "decision": "maybe"},
        content_type="application/json",
    )
    right = client.post(
        f"/api/v1/runs/{run.pk}/review",
        {"node_id": "check", "decision": "approve", "values": {"fna_malignancy_probability": 20}},
        content_type="application/json",
    )

    assert wrong.status_code == 400
    assert "'decision' must be one of approve" in wrong.json()["detail"]
    assert right.status_code == 200
    assert right.json()["status"] == "queued"
    review = NodeRun.objects.get(run=run, node_id="check")
    assert review.status == "succeeded"
    assert review.outputs["decision"]["values"] == {"fna_malignancy_probability": 20}


def test_a_rerun_reuses_the_checkpoints_upstream_of_the_chosen_node(
    make_run: Callable[..., Run], pathologist: User
) -> None:
    run = make_run(with_report=False)
    run.node_runs.all().delete()
    for node_id, node_type in (("case", "case_trigger"), ("fna", "model_call")):
        NodeRun.objects.create(
            run=run,
            node_id=node_id,
            node_type=node_type,
            status="succeeded",
            outputs={"seen": node_id},
        )
    NodeRun.objects.create(run=run, node_id="fields", node_type="transform", status="failed")
    # A node of a sub-workflow run inside 'fna' goes with it.
    NodeRun.objects.create(run=run, node_id="fna/inner", node_type="transform", status="succeeded")
    client = logged_in(pathologist)

    response = client.post(
        f"/api/v1/runs/{run.pk}/rerun", {"from_node": "fna"}, content_type="application/json"
    )
    unknown = client.post(
        f"/api/v1/runs/{run.pk}/rerun", {"from_node": "nope"}, content_type="application/json"
    )

    assert response.status_code == 201
    body = response.json()
    assert body["id"] != run.pk
    assert (body["rerun_of"], body["rerun_from_node"], body["status"]) == (run.pk, "fna", "queued")
    assert [(a["node_id"], a["outputs"]) for a in body["node_runs"]] == [("case", {"seen": "case"})]
    reused = {n["node_id"]: n["reused"] for n in body["nodes"]}
    assert reused == {
        "case": True,
        "fna": False,
        "fields": False,
        "report": False,
        "signout": False,
    }
    assert unknown.status_code == 400
    assert "node 'nope' is not in breast-fna-cytology v1" in unknown.json()["detail"]


def test_progress_returns_only_what_changed_since_the_cursor(
    detailed_run: Run,
    pathologist: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    client = logged_in(pathologist)
    first = client.get(f"/api/v1/runs/{detailed_run.pk}/progress").json()
    assert first["status"] == "failed"
    assert first["active"] is False
    assert len(first["node_runs"]) == 3
    assert "inputs" not in first["node_runs"][0]
    assert "outputs" not in first["node_runs"][0]

    later = timezone.now() + timedelta(minutes=5)
    NodeRun.objects.create(
        run=detailed_run,
        node_id="fna",
        node_type="model_call",
        attempt=3,
        status="running",
        started_at=later,
    )
    with django_assert_max_num_queries(4):
        second = client.get(
            f"/api/v1/runs/{detailed_run.pk}/progress", {"since": first["cursor"]}
        ).json()
    # The new attempt, and the last one seen, which is within the overlap behind the cursor.
    assert [(n["node_id"], n["attempt"]) for n in second["node_runs"]] == [("fna", 2), ("fna", 3)]
    assert second["cursor"] == later.isoformat()
    third = client.get(f"/api/v1/runs/{detailed_run.pk}/progress", {"since": second["cursor"]})
    assert [n["attempt"] for n in third.json()["node_runs"]] == [3]
    bad = client.get(f"/api/v1/runs/{detailed_run.pk}/progress", {"since": "yesterday"})
    assert bad.status_code == 400
    assert "since:" in bad.json()["detail"]


@pytest.mark.parametrize("path", ["/app/", "/app/runs/7", "/app/studio/workflows/breast-fna"])
def test_every_screen_url_serves_the_app_to_a_signed_in_user_only(
    pathologist: User, path: str, settings: Any, tmp_path: Any
) -> None:
    settings.FRONTEND_DIST = tmp_path
    (tmp_path / "index.html").write_text("<div id=root></div>")

    anonymous = Client().get(path)
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"/accounts/login/?next={path}"

    page = logged_in(pathologist).get(path)
    assert page.status_code == 200
    assert b"<div id=root>" in b"".join(page.streaming_content)  # type: ignore[attr-defined]
