"""FHIR R4: DiagnosticReport + Observations for every report status validate with
fhir.resources, the read/search API is department-scoped and audited, and the fhir_rest
channel pushes a transaction Bundle a real server on loopback accepts and validates."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.observation import Observation

from orchestrator.accounts.models import Role, User
from orchestrator.audit.models import AuditEvent
from orchestrator.demo_data import DemoData
from orchestrator.integrations.dispatcher import dispatch_destination
from orchestrator.integrations.fhir.resources import (
    diagnostic_report,
    observations,
    problems_of,
    transaction_bundle,
)
from orchestrator.integrations.outbox import queue_report_deliveries
from orchestrator.reports.models import ReportStatus
from tests.factories import DepartmentFactory, UserFactory
from tests.loopback import LoopbackServer, Request

from .conftest import destination, new_case, route, signed_report

MODEL_SOURCE = {
    "kind": "model",
    "endpoint": "ihc-dab",
    "model_name": "ihc-dab",
    "model_version": "1",
    "run": "42",
}


def ai_data(findings: dict[str, Any]) -> dict[str, Any]:
    return {**findings, "ki67_index": 32.5}


@pytest.mark.parametrize(
    ("status", "fhir_status"),
    [
        (ReportStatus.DRAFT, "preliminary"),
        (ReportStatus.PRELIMINARY, "preliminary"),
        (ReportStatus.FINAL, "final"),
        (ReportStatus.AMENDED, "amended"),
        (ReportStatus.CORRECTED, "corrected"),
        (ReportStatus.ADDENDUM, "appended"),
    ],
)
def test_every_status_gives_valid_resources_with_its_fhir_status(
    outbox_demo: DemoData, signer: User, status: str, fhir_status: str
) -> None:
    case = new_case(outbox_demo.department)
    report = signed_report(
        case,
        signer,
        status=status,
        data=ai_data(case.findings),
        provenance={"ki67_index": [MODEL_SOURCE]},
    )
    pdf = report.pdf.open("rb").read()

    found = observations(report)
    resource = diagnostic_report(report, pdf, found)

    assert problems_of(resource) == []
    assert all(problems_of(o) == [] for o in found)
    parsed = DiagnosticReport.model_validate(resource)
    assert parsed.status == fhir_status
    assert {Observation.model_validate(o).status for o in found} == {
        "amended" if fhir_status == "appended" else fhir_status
    }
    [form] = resource["presentedForm"]
    assert base64.b64decode(form["data"]) == pdf
    assert form["hash"] == base64.b64encode(hashlib.sha1(pdf).digest()).decode()  # noqa: S324


def test_observations_carry_codes_units_and_ai_provenance(
    outbox_demo: DemoData, signer: User
) -> None:
    case = new_case(outbox_demo.department)
    report = signed_report(
        case, signer, data=ai_data(case.findings), provenance={"ki67_index": [MODEL_SOURCE]}
    )

    by_code = {o["code"]["coding"][0]["code"]: o for o in observations(report)}

    histologic = by_code["histologic_type"]["valueCodeableConcept"]["coding"][0]
    assert histologic["system"] == "urn:pathflow:codesystem:pathflow"
    assert histologic["code"] == "invasive_nst"
    assert by_code["tumour_size_mm"]["valueQuantity"] == {
        "value": 18,
        "unit": "mm",
        "system": "http://unitsofmeasure.org",
        "code": "mm",
    }
    assert by_code["ki67_index"]["valueQuantity"]["value"] == 32.5
    assert by_code["ki67_index"]["note"][0]["text"].startswith("AI: model ihc-dab version 1")
    assert len(by_code["tumour_site"]["component"]) == len(case.findings["tumour_site"])
    assert by_code["dcis_present"]["valueBoolean"] is True
    assert by_code["procedure_date"]["valueDateTime"] == "2025-03-18"


def test_a_bad_status_is_caught_by_our_value_set_checks(
    outbox_demo: DemoData, signer: User
) -> None:
    report = signed_report(new_case(outbox_demo.department), signer)
    resource = diagnostic_report(report, b"%PDF-", observations(report))
    resource["status"] = "signed"

    assert "DiagnosticReport.status 'signed' not in value set" in problems_of(resource)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_read_and_search_are_department_scoped_and_audited(
    outbox_demo: DemoData, signer: User
) -> None:
    case = new_case(outbox_demo.department)
    final = signed_report(case, signer)
    draft = signed_report(
        new_case(outbox_demo.department, "S26-00002"), None, status=ReportStatus.DRAFT
    )
    clinician = User.objects.get(username="clinician")
    outsider = UserFactory.create(
        username="outsider",
        role=Role.PATHOLOGIST,
        department=DepartmentFactory.create(code="elsewhere"),
    )

    answer = _client(signer).get(f"/fhir/DiagnosticReport/pf-{final.pk}")

    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/fhir+json")
    body = answer.json()
    assert problems_of(body) == []
    assert body["id"] == f"pf-{final.pk}"
    assert body["status"] == "final"
    assert {r["reference"] for r in body["result"]} == {f"#{o['id']}" for o in body["contained"]}
    assert AuditEvent.objects.filter(action="fhir.read", object_id=str(final.pk)).exists()

    refused = _client(outsider).get(f"/fhir/DiagnosticReport/pf-{final.pk}")
    assert refused.status_code == 404
    assert refused.json()["resourceType"] == "OperationOutcome"
    assert _client(clinician).get(f"/fhir/DiagnosticReport/pf-{draft.pk}").status_code == 404
    denials = AuditEvent.objects.filter(action="access.denied", detail__attempted="FHIR read")
    assert denials.count() == 2

    by_accession = (
        _client(signer).get("/fhir/DiagnosticReport", {"identifier": "urn:x|S26-00001"}).json()
    )
    assert Bundle.model_validate(by_accession).type == "searchset"
    assert [e["resource"]["id"] for e in by_accession["entry"]] == [f"pf-{final.pk}"]
    by_patient = (
        _client(clinician).get("/fhir/DiagnosticReport", {"patient": case.patient_mrn}).json()
    )
    assert [e["resource"]["id"] for e in by_patient["entry"]] == [f"pf-{final.pk}"]
    assert (
        _client(outsider)
        .get("/fhir/DiagnosticReport", {"patient": case.patient_mrn})
        .json()["total"]
        == 0
    )
    bad = _client(signer).get("/fhir/DiagnosticReport")
    assert bad.status_code == 400
    assert bad.json()["issue"][0]["code"] == "required"
    searched = AuditEvent.objects.filter(action="fhir.searched").first()
    assert searched is not None
    assert case.patient_mrn not in json.dumps(searched.detail)


class FhirServer(LoopbackServer):
    """A FHIR server that validates each transaction entry with fhir.resources."""

    def __init__(self) -> None:
        super().__init__()
        self.bundles: list[dict[str, Any]] = []
        self.problems: list[str] = []

    def post(self, request: Request) -> None:
        bundle = json.loads(request.body())
        self.bundles.append(bundle)
        Bundle.model_validate(bundle)
        for entry in bundle["entry"]:
            self.problems.extend(problems_of(entry["resource"]))
        request.reply(
            200,
            {
                "resourceType": "Bundle",
                "type": "transaction-response",
                "entry": [{"response": {"status": "200 OK"}} for _ in bundle["entry"]],
            },
        )


@pytest.fixture
def fhir_server() -> Iterator[FhirServer]:
    with FhirServer() as server:
        yield server


def test_the_fhir_channel_pushes_a_transaction_bundle_the_server_accepts(
    outbox_demo: DemoData, signer: User, fhir_server: FhirServer
) -> None:
    ehr = destination(outbox_demo.department, "ehr", "fhir_rest", f"{fhir_server.url}/fhir")
    route(ehr)
    report = signed_report(new_case(outbox_demo.department), signer)
    [delivery] = queue_report_deliveries(report)

    dispatch_destination(ehr.pk)

    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    [bundle] = fhir_server.bundles
    assert fhir_server.problems == []
    assert bundle["type"] == "transaction"
    assert bundle["identifier"]["value"] == delivery.idempotency_key
    methods = {(e["request"]["method"], e["request"]["url"].split("/")[0]) for e in bundle["entry"]}
    assert methods == {("PUT", "Observation"), ("PUT", "DiagnosticReport")}
    again = transaction_bundle(report, report.pdf.open("rb").read(), delivery.idempotency_key)
    assert [e["fullUrl"] for e in bundle["entry"]] == [e["fullUrl"] for e in again["entry"]]
    assert all(e["fullUrl"].startswith("urn:uuid:") for e in bundle["entry"])
    assert (
        transaction_bundle(report, report.pdf.open("rb").read(), "k")["entry"][-1]["request"]["url"]
        == f"DiagnosticReport/pf-{report.pk}"
    )
