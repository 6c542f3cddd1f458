"""REST for integrating clients: API tokens, case submission with tiles, status and reports."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image
from pytest_django import DjangoAssertNumQueries
from pytest_django.fixtures import Settings

from orchestrator.accounts.models import User
from orchestrator.audit.models import AuditEvent
from orchestrator.cases.models import Case
from orchestrator.cases.services import create_case
from orchestrator.demo_data import DemoData, load_demo_data
from orchestrator.integrations.models import ApiToken
from orchestrator.reports.models import Report, ReportStatus
from orchestrator.runs.models import Run
from tests.conftest import PASSWORD, case_document

API = "/api/v1/integration"


@pytest.fixture
def demo_db(db: None, settings: Settings, tmp_path: Path) -> DemoData:
    settings.TILE_ROOT = tmp_path / "tiles"
    return load_demo_data(PASSWORD, "http://127.0.0.1:9")


def session(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def issue_token(admin: User, name: str = "LIS") -> tuple[dict[str, Any], Client]:
    answer = session(admin).post(f"{API}/tokens/", {"name": name}, content_type="application/json")
    assert answer.status_code == 201, answer.content
    body: dict[str, Any] = answer.json()
    return body, Client(HTTP_AUTHORIZATION=f"Bearer {body['token']}")


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (120, 60, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def multipart(document: dict[str, Any], **files: bytes) -> dict[str, Any]:
    uploads = [ContentFile(content, name=name) for name, content in files.items()]
    return {"document": json.dumps(document, ensure_ascii=False), "files": uploads}


def test_a_token_submits_a_case_with_tiles_once(demo_db: DemoData, admin: User) -> None:
    token, client = issue_token(admin)
    document = case_document("breast-resection", accession="S26-API-1")
    document["specimens"][0]["tiles"] = [{"uri": "upload:ki67.png", "stain": "Ki-67"}]

    first = client.post(f"{API}/cases/submit", multipart(document, **{"ki67.png": png()}))
    again = client.post(f"{API}/cases/submit", multipart(document, **{"ki67.png": png()}))

    assert first.status_code == 201, first.json()
    assert first.json()["created"] is True
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert again.json()["case"]["id"] == first.json()["case"]["id"]
    case = Case.objects.get()
    assert case.source == "rest"
    uri = case.specimens.get().tiles[0]["uri"]
    assert uri.startswith("file:pathology/S26-API-1/A/")
    from django.conf import settings

    assert (Path(settings.TILE_ROOT) / uri[len("file:") :]).read_bytes() == png()
    run = Run.objects.get()
    assert run.workflow_version == demo_db.workflow_version
    assert first.json()["case"]["status"] == "queued"
    stored = ApiToken.objects.get()
    assert token["token"] not in (stored.key_hash, stored.prefix)
    assert stored.last_used_at is not None
    assert run.requested_by == stored.user


def test_a_bad_submission_lists_every_problem_and_a_clash_is_a_conflict(
    demo_db: DemoData, admin: User
) -> None:
    _, client = issue_token(admin)
    broken = case_document("breast-resection", accession="")
    broken["specimens"][0]["tiles"] = [{"uri": "upload:missing.png"}]
    create_case(demo_db.department, case_document("breast-resection", accession="S26-API-2"))
    clash = case_document("breast-resection", accession="S26-API-2")
    clash["patient"]["mrn"] = "SOMEONE-ELSE"
    not_image = case_document("breast-resection", accession="S26-API-3")
    not_image["specimens"][0]["tiles"] = [{"uri": "upload:notes.png"}]

    bad = client.post(f"{API}/cases/submit", broken, content_type="application/json")
    conflict = client.post(f"{API}/cases/submit", clash, content_type="application/json")
    fake = client.post(
        f"{API}/cases/submit",
        multipart(not_image, **{"notes.png": b"not an image", "extra.png": png()}),
    )

    assert bad.status_code == 400
    assert bad.json()["problems"] == ["accession: required text"]
    assert conflict.status_code == 409
    assert fake.status_code == 400
    assert fake.json()["problems"] == [
        "specimens[0].tiles[0].uri: notes.png is not a readable image",
        "files: extra.png is uploaded but no tile names upload:extra.png",
    ]
    assert Case.objects.count() == 1


def test_cases_are_listed_filtered_and_paginated(
    demo_db: DemoData, admin: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    _, client = issue_token(admin)
    for n in range(3):
        document = case_document("breast-resection", accession=f"S26-L{n}")
        document["patient"]["mrn"] = f"MRN-L{n % 2}"
        response = client.post(
            f"{API}/cases/submit",
            {"document": document, "start_run": n != 2},
            content_type="application/json",
        )
        assert response.status_code == 201, response.json()

    def accessions(query: str) -> list[str]:
        body: dict[str, Any] = client.get(f"{API}/cases/?{query}").json()
        return [row["accession"] for row in body["results"]]

    assert accessions("mrn=MRN-L0") == ["S26-L2", "S26-L0"]
    assert accessions("status=no_run") == ["S26-L2"]
    assert accessions("status=queued&limit=1&offset=1") == ["S26-L0"]
    assert accessions("accession=S26-L1") == ["S26-L1"]
    assert accessions("created_before=2000-01-01T00:00:00Z") == []
    assert client.get(f"{API}/cases/?status=lost").status_code == 400
    impossible = client.get(f"{API}/cases/?created_after=2026-13-45T00:00:00Z&status=lost")
    # The query parameters' check (orchestrator.query_parameters) names each one.
    assert (impossible.status_code, {p.split(":")[0] for p in impossible.json()["problems"]}) == (
        400,
        {"created_after", "status"},
    )
    with django_assert_num_queries(5):  # token, count, cases with status, runs, reports
        assert len(client.get(f"{API}/cases/").json()["results"]) == 3


def test_reports_are_served_as_json_and_pdf_signed_ones_to_integration(
    demo_db: DemoData, admin: User, other_department_pathologist: User
) -> None:
    _, client = issue_token(admin)
    case = create_case(demo_db.department, case_document("breast-resection"))
    for number, report_status in ((1, ReportStatus.DRAFT), (2, ReportStatus.FINAL)):
        report = Report(
            case=case,
            template_version=demo_db.workflow_version.template_version,
            version_no=number,
            status=report_status,
            data={"histologic_type": "invasive_nst"},
        )
        report.pdf.save(f"r{number}.pdf", ContentFile(b"%PDF-1.7 test"), save=False)
        report.save()
    final = Report.objects.get(status="final")

    listed = client.get(f"{API}/cases/{case.pk}/reports/").json()
    pdf = client.get(f"{API}/reports/{final.pk}/pdf")
    draft = client.get(f"{API}/reports/{final.pk - 1}/pdf")
    admin_view = session(admin).get(f"{API}/cases/{case.pk}/reports/").json()

    assert [(r["version_no"], r["status"]) for r in listed] == [(2, "final")]
    assert listed[0]["data"] == {"histologic_type": "invasive_nst"}
    assert pdf.status_code == 200
    assert b"".join(pdf.streaming_content) == b"%PDF-1.7 test"  # type: ignore[attr-defined]
    assert draft.status_code == 404
    assert [r["status"] for r in admin_view] == ["draft", "final"]
    detail = client.get(f"{API}/cases/{case.pk}/").json()
    assert [r["status"] for r in detail["reports"]] == ["final"]
    assert detail["specimens"][0]["label"] == "A"
    assert session(other_department_pathologist).get(f"{API}/cases/{case.pk}/").status_code == 403
    assert AuditEvent.objects.filter(action="report.downloaded").count() == 1


def test_a_revoked_token_is_refused_and_only_admins_issue_tokens(
    demo_db: DemoData, admin: User, pathologist: User
) -> None:
    token, client = issue_token(admin)
    assert client.get(f"{API}/cases/").status_code == 200
    listed = session(admin).get(f"{API}/tokens/").json()["results"]
    assert [(t["name"], t["revoked"]) for t in listed] == [("LIS", False)]
    assert "token" not in listed[0]

    revoked = session(admin).post(f"{API}/tokens/{token['id']}/revoke")

    assert revoked.json()["revoked"] is True
    assert client.get(f"{API}/cases/").status_code == 401
    wrong = Client(HTTP_AUTHORIZATION="Bearer pf_" + token["prefix"] + "_guess")
    assert wrong.get(f"{API}/cases/").status_code == 401
    refused = session(pathologist).post(
        f"{API}/tokens/", {"name": "mine"}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert session(pathologist).get(f"{API}/cases/").status_code == 403
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="api_token")] == [
        "api_token.revoked",
        "api_token.created",
    ]


def test_unknown_fields_are_refused_naming_each_and_a_missing_workflow_is_404(
    demo_db: DemoData, admin: User
) -> None:
    _, client = issue_token(admin)
    document = case_document("breast-resection", accession="S26-API-9")
    document["colour"] = "blue"
    document["patient"]["nickname"] = "Li"
    document["specimens"][0]["weight"] = 3
    document["specimens"][0]["tiles"] = [{"uri": "sample:immunohistochemistry", "zoom": 2}]
    wrapped = {"document": document, "start_run": "yes", "extra": 1}
    unknown_type = case_document("breast-resection", accession="S26-API-10")
    unknown_type["case_type"] = "no such type"
    nowhere = case_document("breast-resection", accession="S26-API-11")

    refused = client.post(f"{API}/cases/submit", wrapped, content_type="application/json")
    slug = client.post(f"{API}/cases/submit", unknown_type, content_type="application/json")
    missing = client.post(
        f"{API}/cases/submit",
        {"document": nowhere, "workflow": "no-such-workflow"},
        content_type="application/json",
    )

    assert refused.status_code == 400
    assert set(refused.json()) >= {"detail", "problems"}
    assert refused.json()["problems"] == [
        "extra: unknown field",
        "start_run: must be true or false",
        "colour: unknown field",
        "patient.nickname: unknown field",
        "specimens[0].weight: unknown field",
        "specimens[0].tiles[0].zoom: unknown field",
    ]
    assert slug.status_code == 400
    assert slug.json()["problems"] == ["case_type: must be a slug (letters, digits, '-' and '_')"]
    assert missing.status_code == 404
    assert missing.json()["problems"] == [
        "workflow: no workflow no-such-workflow in your department"
    ]
    assert not Case.objects.filter(accession__startswith="S26-API-").exists()


def test_a_null_workflow_is_the_default_one_as_the_schema_says(
    demo_db: DemoData, admin: User
) -> None:
    """``"workflow": null`` in a JSON submission means the case type's published workflow, and
    the schema documents it as nullable (the full schemathesis run found it undocumented)."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    workflow = schema["components"]["schemas"]["CaseSubmission"]["properties"]["workflow"]
    assert workflow["nullable"] is True
    _, client = issue_token(admin)
    document = case_document("breast-resection", accession="S26-NULL")
    answer = client.post(
        f"{API}/cases/submit",
        {"document": document, "workflow": None, "start_run": False},
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.json()
