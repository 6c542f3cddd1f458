"""The review queue (sorted and filtered by priority, age, AI triage, case type) and the
clinician portal (search, signed versions only, amendments marked with what changed and why)."""

from __future__ import annotations

import pytest
from django.db import connection
from pytest_django import DjangoAssertNumQueries

from orchestrator.accounts.models import User
from orchestrator.audit.models import AuditEvent
from orchestrator.demo_data import DemoData, load_demo_data
from orchestrator.reports.models import Report
from orchestrator.reports.portal_api import CaseReportsSerializer, PortalCaseSerializer
from orchestrator.runs.models import Run
from tests.conftest import PASSWORD
from tests.orchestrator.reports.drafts import logged_in, parked_draft

pytestmark = [pytest.mark.service, pytest.mark.django_db]
JSON = "application/json"


@pytest.fixture
def demo_db(db: None) -> DemoData:
    return load_demo_data(PASSWORD, "http://127.0.0.1:9")


def queue(user: User, **params: str) -> list[str]:
    response = logged_in(user).get("/api/v1/review/queue", params)
    assert response.status_code == 200, response.json()
    return [item["accession"] for item in response.json()]


def test_the_queue_sorts_and_filters_by_priority_triage_age_and_case_type(
    demo_db: DemoData, pathologist: User
) -> None:
    parked_draft(demo_db, "Q-ROUTINE-LOW", ai_ki67=12.0)
    parked_draft(demo_db, "Q-STAT", priority="stat", ai_ki67=55.0)
    parked_draft(demo_db, "Q-ROUTINE-HIGH", ai_ki67=97.0)
    parked_draft(demo_db, "Q-THYROID", ai_ki67=70.0, case_type="thyroid-resection")

    assert queue(pathologist) == ["Q-STAT", "Q-ROUTINE-LOW", "Q-ROUTINE-HIGH", "Q-THYROID"]
    assert queue(pathologist, ordering="-triage") == [
        "Q-ROUTINE-HIGH",
        "Q-THYROID",
        "Q-STAT",
        "Q-ROUTINE-LOW",
    ]
    assert queue(pathologist, ordering="age")[0] == "Q-THYROID"  # newest first
    assert queue(pathologist, ordering="-age")[0] == "Q-ROUTINE-LOW"  # oldest first
    assert queue(pathologist, case_type="thyroid-resection") == ["Q-THYROID"]
    assert queue(pathologist, min_triage="0.6", ordering="triage") == [
        "Q-THYROID",
        "Q-ROUTINE-HIGH",
    ]
    assert queue(pathologist, priority="stat") == ["Q-STAT"]
    first = logged_in(pathologist).get("/api/v1/review/queue").json()[0]
    assert first["triage"] == pytest.approx(0.55)
    assert first["run_status"] == "waiting_review"


def test_signed_drafts_and_test_runs_leave_the_queue(demo_db: DemoData, pathologist: User) -> None:
    signed = parked_draft(demo_db, "Q-SIGNED")
    trial = parked_draft(demo_db, "Q-TEST")
    Run.objects.filter(reports=trial).update(is_test=True)
    parked_draft(demo_db, "Q-WAITING")
    response = logged_in(pathologist).post(
        f"/api/v1/review/reports/{signed.pk}/sign", {"password": PASSWORD}, content_type=JSON
    )
    # The answer names the next case to open.
    waiting = Report.objects.get(case__accession="Q-WAITING")
    assert response.json()["next_report_id"] == waiting.pk

    assert queue(pathologist) == ["Q-WAITING"]


def test_the_queue_takes_a_fixed_number_of_queries(
    demo_db: DemoData,
    pathologist: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    for n in range(6):
        parked_draft(demo_db, f"Q-{n}")
    client = logged_in(pathologist)
    # session + user, drafts, their runs' model calls, then the audit event (savepoint, head
    # lock, insert, head update, release)
    with django_assert_max_num_queries(10):
        assert len(client.get("/api/v1/review/queue").json()) == 6


def test_clinicians_cannot_open_the_queue(demo_db: DemoData, clinician: User) -> None:
    parked_draft(demo_db, "Q-CLIN")
    response = logged_in(clinician).get("/api/v1/review/queue")
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="access.denied", actor=clinician).exists()


def test_the_portal_shows_a_clinician_signed_versions_and_marks_what_an_amendment_changed(
    demo_db: DemoData, pathologist: User, clinician: User
) -> None:
    draft = parked_draft(demo_db, "P-0001")
    doctor = logged_in(clinician)
    found = doctor.get("/api/v1/portal/search", {"q": draft.case.patient_mrn}).json()
    assert [(c["accession"], c["reports"]) for c in found] == [("P-0001", 0)]  # a draft only

    reviewer = logged_in(pathologist)
    first = reviewer.post(
        f"/api/v1/review/reports/{draft.pk}/sign", {"password": PASSWORD}, content_type=JSON
    ).json()
    amended = reviewer.post(
        f"/api/v1/reports/{first['report_id']}/amend",
        {
            "kind": "corrected",
            "reason": "Closest margin misread",
            "changes": {"margin_distance_mm": 1.5},
            "password": PASSWORD,
        },
        content_type=JSON,
    ).json()

    body = doctor.get(f"/api/v1/portal/cases/{draft.case_id}/reports").json()
    versions = body["versions"]
    assert [(v["version"], v["status"]) for v in versions] == [(3, "corrected"), (2, "final")]
    newest, original = versions
    assert newest["report_id"] == amended["report_id"]
    assert newest["reason"] == "Closest margin misread"
    assert newest["replaces_version"] == 2
    assert newest["changes"] == [
        {
            "element": "margin_distance_mm",
            "old": 3.5,
            "new": 1.5,
            "label": {
                "zh": "浸润性癌距最近切缘距离",
                "en": "Distance from invasive carcinoma to closest margin",
            },
        }
    ]
    assert original["changes"] == []
    assert doctor.get(original["pdf_url"]).status_code == 200
    assert doctor.get(f"/api/v1/reports/{draft.pk}/pdf").status_code == 404  # the AI draft
    assert doctor.get("/api/v1/portal/search", {"q": "P-0001"}).json()[0]["reports"] == 2
    listed = AuditEvent.objects.filter(action="report.listed", actor=clinician).get()
    assert listed.detail == {"versions": [3, 2]}


def test_the_portal_search_finds_nothing_of_another_department(
    demo_db: DemoData, other_department_pathologist: User
) -> None:
    draft = parked_draft(demo_db, "P-0002")
    outsider = logged_in(other_department_pathologist)
    assert outsider.get("/api/v1/portal/search", {"q": "P-0002"}).json() == []
    assert outsider.get(f"/api/v1/portal/cases/{draft.case_id}/reports").status_code == 404


def test_a_portal_lookup_takes_a_fixed_number_of_queries_however_many_versions(
    demo_db: DemoData,
    pathologist: User,
    clinician: User,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    """The lookup ``bench/lookup.py`` measures (search by accession, then the case's versions):
    its queries stay few and do not grow with the versions shown."""
    draft = parked_draft(demo_db, "P-0003")
    parked_draft(demo_db, "P-0004")  # a draft only: nothing a clinician may read yet
    reviewer = logged_in(pathologist)
    signed = reviewer.post(
        f"/api/v1/review/reports/{draft.pk}/sign", {"password": PASSWORD}, content_type=JSON
    ).json()
    for kind, margin in (("corrected", 1.5), ("amended", 1.5)):
        signed = reviewer.post(
            f"/api/v1/reports/{signed['report_id']}/amend",
            {
                "kind": kind,
                "reason": "Closest margin re-measured",
                "changes": {"margin_distance_mm": margin},
                "password": PASSWORD,
            },
            content_type=JSON,
        ).json()
    doctor = logged_in(clinician)
    # The audit event: one statement on PostgreSQL; elsewhere savepoint, head lock, insert,
    # head update, release.
    audit = 1 if connection.vendor == "postgresql" else 5
    # session, user with department, the cases with their counts, the audit event
    with django_assert_num_queries(3 + audit):
        found = doctor.get("/api/v1/portal/search", {"q": "P-0003"}).json()
    assert [(c["accession"], c["reports"]) for c in found] == [("P-0003", 3)]
    # session, user, the versions with their case and signatures, the labels of what the
    # correction changed (its template's data set, once), the audit event
    with django_assert_num_queries(4 + audit):
        body = doctor.get(f"/api/v1/portal/cases/{found[0]['case_id']}/reports").json()
    assert [(v["version"], v["status"]) for v in body["versions"]] == [
        (4, "amended"),
        (3, "corrected"),
        (2, "final"),
    ]
    assert [c["element"] for c in body["versions"][1]["changes"]] == ["margin_distance_mm"]
    assert body["versions"][0]["changes"] == []  # amended to the same value: nothing changed
    # The answers are built ready to send; they have the shape the schema documents.
    assert PortalCaseSerializer(found, many=True).data == found
    assert CaseReportsSerializer(body).data == body

    other = Report.objects.get(case__accession="P-0004")
    # A case without a version the clinician may read: the case is read on its own.
    with django_assert_num_queries(4 + audit):
        body = doctor.get(f"/api/v1/portal/cases/{other.case_id}/reports").json()
    assert (body["case"]["accession"], body["versions"]) == ("P-0004", [])
