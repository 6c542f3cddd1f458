"""A shadow run of 20 past cases on a real Celery worker and the real MLServer: it leaves no
run, report version, delivery or clinician-visible report behind, its review node does not park
it, its deliver node sends nothing, and its agreement figures equal the test's own count."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator import devstack
from orchestrator.accounts.models import User
from orchestrator.audit.models import AuditEvent
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import DemoData
from orchestrator.designs.workflows import save_draft
from orchestrator.integrations.outbox_models import Delivery
from orchestrator.reports.models import Report
from orchestrator.runs.models import NodeRun, Run
from tests.conftest import ModelServices
from tests.loopback import LoopbackServer, Request
from tests.orchestrator.quality.history import fna_case, model_probability, seeded_signed
from tests.orchestrator.reports.drafts import logged_in

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]

TOLERANCE = 2.0
# Signed probability = the model's + DELTAS[i % 5]: beyond the tolerance for 2.5 and -3.0.
DELTAS = [0.0, 1.0, 2.5, -3.0, 0.5]
# Cases whose pathologist signed another recommendation than the cytologist's findings give.
CHANGED_RECOMMENDATION = {0, 7}


class Receiver(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.received: list[bytes] = []

    def post(self, request: Request) -> None:
        self.received.append(request.body())
        request.reply(200, {"ok": True})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def _with_review_and_delivery(spec: dict[str, Any]) -> dict[str, Any]:
    """The FNA graph with a review of the AI estimate before rendering, and a webhook delivery
    of the rendered report: the parts a shadow run must neutralise."""
    graph: dict[str, Any] = json.loads(json.dumps(spec))
    graph["nodes"] += [
        {
            "id": "check",
            "type": "review",
            "type_version": 1,
            "config": {"title": "Check the AI estimate", "fields": ["fna_malignancy_probability"]},
            "position": {"x": 600, "y": 300},
        },
        {
            "id": "send",
            "type": "deliver",
            "type_version": 1,
            "config": {
                "channel": "webhook",
                "destination": "lis-quality",
                "event": "report.drafted",
            },
            "position": {"x": 960, "y": 160},
        },
    ]
    graph["edges"] += [
        {"id": "q1", "source": "fields", "source_port": "findings", "target": "check",
         "target_port": "in"},
        {"id": "q2", "source": "check", "source_port": "approved", "target": "report",
         "target_port": "findings"},
        {"id": "q3", "source": "report", "source_port": "report", "target": "send",
         "target_port": "report"},
    ]  # fmt: skip
    return graph


def _wait(client: Any, shadow_id: int, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer: dict[str, Any] = client.get(f"/api/v1/quality/shadow-runs/{shadow_id}").json()
        if answer["status"] == "finished":
            return answer
        time.sleep(0.5)
    raise AssertionError(f"shadow run {shadow_id} did not finish within {timeout:g} s")


def _visible() -> dict[str, int]:
    return {
        "runs": Run.objects.count(),
        "node_runs": NodeRun.objects.count(),
        "reports": Report.objects.count(),
        "deliveries": Delivery.objects.count(),
        "report_events": AuditEvent.objects.filter(action__startswith="report.").count(),
    }


def test_a_shadow_run_of_20_cases_leaves_nothing_visible_and_counts_agreement_right(
    demo: DemoData,
    model_services: ModelServices,
    celery_worker: devstack.ManagedProcess,
    receiver: Receiver,
) -> None:
    pathologist = User.objects.get(username="pathologist")
    version = demo.fna_workflow_version
    ModelEndpoint.objects.create(
        department=demo.department,
        slug="lis-quality",
        name="LIS",
        protocol="webhook",
        base_url=f"{receiver.url}/results",
        timeout_s=5.0,
    )
    differs_by_hand: dict[str, set[str]] = {}
    for i in range(20):
        name = "breast-fna-malignant" if i % 2 == 0 else "breast-fna-benign"
        case = fna_case(demo, name, f"C26-2{i:04d}")
        signed = {
            **case.findings,
            "fna_malignancy_probability": round(
                model_probability(model_services.url, case) + DELTAS[i % 5], 1
            ),
        }
        differs_by_hand[case.accession] = set()
        if abs(DELTAS[i % 5]) > TOLERANCE:
            differs_by_hand[case.accession].add("fna_malignancy_probability")
        if i in CHANGED_RECOMMENDATION:
            signed["recommendation"] = "core_biopsy"
            differs_by_hand[case.accession].add("recommendation")
        seeded_signed(case, version, signed, pathologist)
    draft, _ = save_draft(version.workflow, _with_review_and_delivery(version.spec))
    admin = logged_in(User.objects.get(username="admin"))
    tolerance = admin.put(
        "/api/v1/workflows/breast-fna-cytology/tolerances/fna_malignancy_probability",
        json.dumps({"tolerance": TOLERANCE}),
        content_type="application/json",
    )
    assert tolerance.status_code == 200, tolerance.content
    before = _visible()

    started = admin.post(
        "/api/v1/workflows/breast-fna-cytology/shadow-runs",
        json.dumps({"source": "recent", "limit": 20}),
        content_type="application/json",
    )
    assert started.status_code == 201, started.content
    assert started.json()["version"] == draft.number
    result = _wait(admin, started.json()["id"])

    # Nothing a clinician, a queue or an integration could see.
    assert _visible() == before
    assert receiver.received == []
    clinician = logged_in(User.objects.get(username="clinician"))
    case_id = Report.objects.get(case__accession="C26-20000").case_id
    portal = clinician.get(f"/api/v1/portal/cases/{case_id}/reports").json()
    assert [v["version"] for v in portal["versions"]] == [1]  # the signed one only
    # The figures equal the hand count.
    agreeing = sum(1 for elements in differs_by_hand.values() if not elements)
    assert (result["total"], result["failed"]) == (20, 0)
    assert result["agreed"] == agreeing == 11
    assert result["agreement"] == pytest.approx(agreeing / 20)
    per_element = {e["element"]: e for e in result["elements"]}
    for element in ("fna_malignancy_probability", "recommendation"):
        by_hand = sum(1 for elements in differs_by_hand.values() if element not in elements)
        assert (per_element[element]["compared"], per_element[element]["agreed"]) == (20, by_hand)
    others = [e for e in per_element.values() if e["element"] not in
              ("fna_malignancy_probability", "recommendation")]  # fmt: skip
    assert others
    assert all(e["agreed"] == e["compared"] == 20 for e in others)
    # Per case, the differing elements side by side.
    for case in result["cases"]:
        assert {d["element"] for d in case["differences"]} == differs_by_hand[case["accession"]]
        for difference in case["differences"]:
            assert case["expected"][difference["element"]] == difference["expected"]
            assert case["got"][difference["element"]] == difference["got"]
