"""Who may do what on release safety, in one department: pathologists and admins mark golden
cases; only admins set tolerances, the threshold and start shadow runs; clinicians and the model
team see none of it. Refusals are 403 and audited; bad input is a 400 that says why."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

from orchestrator.accounts.models import Role, User
from orchestrator.audit.models import AuditEvent
from orchestrator.cases.services import create_case
from orchestrator.demo_data import DemoData, load_demo_data
from orchestrator.quality.models import GoldenCase
from orchestrator.reports.models import Report, ReportStatus
from orchestrator.runs.models import Run
from tests.conftest import PASSWORD, case_document
from tests.factories import UserFactory
from tests.orchestrator.reports.drafts import logged_in

pytestmark = pytest.mark.django_db

FNA = "/api/v1/workflows/breast-fna-cytology"


@pytest.fixture
def demo_db(db: None) -> DemoData:
    return load_demo_data(PASSWORD, "http://127.0.0.1:9")


def _signed_case(demo: DemoData, accession: str, *, signed: bool = True) -> None:
    case = create_case(demo.department, case_document("breast-fna-benign", accession=accession))
    Report.objects.create(
        case=case,
        template_version=demo.fna_workflow_version.template_version,
        status=ReportStatus.FINAL if signed else ReportStatus.DRAFT,
        data=case.findings,
        signed_at=timezone.now() if signed else None,
    )


def _client(username: str) -> Client:
    return logged_in(User.objects.get(username=username))


def _post(client: Client, url: str, body: object) -> tuple[int, dict[str, object]]:
    response = client.post(url, json.dumps(body), content_type="application/json")
    return response.status_code, response.json() if response.content else {}


def test_a_pathologist_marks_a_signed_case_golden_but_not_a_draft(demo_db: DemoData) -> None:
    _signed_case(demo_db, "C26-50001")
    _signed_case(demo_db, "C26-50002", signed=False)
    pathologist = _client("pathologist")

    status, body = _post(pathologist, f"{FNA}/golden-cases", {"accession": "C26-50001"})
    assert status == 201, body
    assert body["accession"] == "C26-50001"
    assert body["signed_version"] == 1

    status, body = _post(pathologist, f"{FNA}/golden-cases", {"accession": "C26-50002"})
    assert status == 400
    assert "no signed report" in str(body["detail"])
    status, body = _post(pathologist, f"{FNA}/golden-cases", {"accession": "C26-50001"})
    assert status == 400
    assert "already" in str(body["detail"])
    assert AuditEvent.objects.filter(action="golden_case.marked").count() == 1


def test_only_admins_set_tolerances_thresholds_and_start_shadow_runs(demo_db: DemoData) -> None:
    pathologist, admin = _client("pathologist"), _client("admin")
    tolerance = f"{FNA}/tolerances/fna_malignancy_probability"

    refused = pathologist.put(tolerance, json.dumps({"tolerance": 2}), "application/json")
    assert refused.status_code == 403
    assert _post(pathologist, f"{FNA}/shadow-runs", {"source": "golden"})[0] == 403
    settings = pathologist.put(
        "/api/v1/quality/settings", json.dumps({"golden_threshold": 0.5}), "application/json"
    )
    assert settings.status_code == 403
    assert AuditEvent.objects.filter(action="access.denied").count() == 3

    saved = admin.put(tolerance, json.dumps({"tolerance": 2}), "application/json")
    assert saved.status_code == 200
    row = next(r for r in saved.json() if r["element"] == "fna_malignancy_probability")
    assert row["tolerance"] == 2
    not_numeric = admin.put(
        f"{FNA}/tolerances/recommendation", json.dumps({"tolerance": 1}), "application/json"
    )
    assert not_numeric.status_code == 400
    assert "not a number" in not_numeric.json()["detail"]
    status, body = _post(admin, f"{FNA}/shadow-runs", {"source": "golden"})
    assert status == 400
    assert "no golden cases" in str(body["detail"])
    threshold = admin.put(
        "/api/v1/quality/settings", json.dumps({"golden_threshold": 0.8}), "application/json"
    )
    assert threshold.json() == {"golden_threshold": 0.8}
    # A boolean is not a number (DRF's FloatField read false as 0.0: found by schemathesis).
    boolean = admin.put(
        "/api/v1/quality/settings", json.dumps({"golden_threshold": False}), "application/json"
    )
    assert boolean.status_code == 400
    assert boolean.json()["problems"] == ["golden_threshold: A valid number is required."]
    # Nor a number a string (DRF read 0 as "0": found by schemathesis).
    status, body = _post(admin, f"{FNA}/shadow-runs", {"source": "golden", "case_type": 0})
    assert status == 400
    assert body["problems"] == ["case_type: Not a valid string."]
    assert _client("pathologist").get("/api/v1/quality/settings").json()["golden_threshold"] == 0.8


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.MODEL_TEAM, Role.INTEGRATION])
def test_other_roles_see_no_golden_cases_or_shadow_runs(demo_db: DemoData, role: str) -> None:
    _signed_case(demo_db, "C26-50003")
    workflow = demo_db.fna_workflow_version.workflow
    case = Report.objects.get(case__accession="C26-50003").case
    GoldenCase.objects.create(workflow=workflow, case=case)
    user = UserFactory.create(username=f"someone-{role}", department=demo_db.department, role=role)
    client = logged_in(user)

    for url in (f"{FNA}/golden-cases", f"{FNA}/shadow-runs", f"{FNA}/publish-gates"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"C26-50003" not in response.content
    assert _post(client, f"{FNA}/golden-cases", {"accession": "C26-50003"})[0] == 403


def test_a_signed_report_marks_its_case_golden_for_the_workflow_that_drafted_it(
    demo_db: DemoData,
) -> None:
    version = demo_db.fna_workflow_version
    case = create_case(demo_db.department, case_document("breast-fna-benign", accession="C26-6"))
    run = Run.objects.create(
        case=case, workflow_version=version, template_version=version.template_version
    )
    draft = Report.objects.create(
        case=case, run=run, template_version=version.template_version, version_no=1,
        status=ReportStatus.DRAFT, data=case.findings,
    )  # fmt: skip
    pathologist = _client("pathologist")

    status, body = _post(pathologist, f"/api/v1/reports/{draft.pk}/golden", {})
    assert status == 400
    assert "signed" in str(body["detail"])
    signed = Report.objects.create(
        case=case, template_version=version.template_version, version_no=2,
        status=ReportStatus.FINAL, data=case.findings, signed_at=timezone.now(),
    )  # fmt: skip
    status, body = _post(pathologist, f"/api/v1/reports/{signed.pk}/golden", {"note": "classic"})
    assert status == 201, body
    assert body["workflow"] == "breast-fna-cytology"
    assert body["signed_version"] == 2
    assert GoldenCase.objects.get(case=case).note == "classic"
    clinician = logged_in(UserFactory.create(username="c", department=demo_db.department,
                                             role=Role.CLINICIAN))  # fmt: skip
    assert _post(clinician, f"/api/v1/reports/{signed.pk}/golden", {})[0] == 403
