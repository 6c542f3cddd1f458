"""The REST API: department scoping, audit of downloads, the node-type palette."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from orchestrator.accounts.models import Department, User
from orchestrator.audit.models import AuditEvent
from orchestrator.cases.services import create_case
from orchestrator.demo_data import DemoData, load_demo_data
from orchestrator.reports.models import Report, ReportStatus
from orchestrator.runs.models import NodeRun, Run, RunStatus
from tests.conftest import PASSWORD, case_document

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
            case_document("breast-malignant", accession=f"S26-9{n:04d}"),
        )
        run = Run.objects.create(
            case=case,
            workflow_version=demo_db.workflow_version,
            template_version=demo_db.workflow_version.template_version,
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
                data={"ki67_index": 12.5},
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
        "slug": "breast-fna-ihc",
        "name": "Breast FNA + Ki-67",
        "version": 1,
    }
    node = body["node_runs"][0]
    assert node["title"] == "FNA malignancy classifier"
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
