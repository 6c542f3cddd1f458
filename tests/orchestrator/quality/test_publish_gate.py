"""The golden-case gate on publishing, with a real Celery worker and the real MLServer: a draft
whose threshold change makes one golden case disagree is refused, naming the case and element;
an admin's override publishes it with the reason audited and shown in the version history."""

from __future__ import annotations

import json

import pytest

from orchestrator import devstack
from orchestrator.accounts.models import User
from orchestrator.audit.models import AuditEvent
from orchestrator.demo_data import DemoData
from orchestrator.designs.models import VersionStatus, WorkflowVersion
from orchestrator.designs.workflows import save_draft
from orchestrator.quality.models import GoldenCase
from orchestrator.reports.models import Report
from tests.orchestrator.quality.history import (
    fna_case,
    signed_through_a_run,
    with_threshold,
)
from tests.orchestrator.reports.drafts import logged_in

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def golden(demo: DemoData, celery_worker: devstack.ManagedProcess) -> dict[str, Report]:
    """Three signed FNA cases (one malignant, two benign), golden cases of the FNA workflow."""
    pathologist = User.objects.get(username="pathologist")
    signed = {}
    for accession, name in (
        ("C26-10001", "breast-fna-malignant"),
        ("C26-10002", "breast-fna-benign"),
        ("C26-10003", "breast-fna-benign"),
    ):
        report = signed_through_a_run(demo, fna_case(demo, name, accession), pathologist)
        GoldenCase.objects.create(
            workflow=demo.fna_workflow_version.workflow, case=report.case, marked_by=pathologist
        )
        signed[accession] = report
    return signed


def _draft(demo: DemoData, threshold: float) -> WorkflowVersion:
    spec = with_threshold(demo.fna_workflow_version.spec, threshold)
    draft, validation = save_draft(demo.fna_workflow_version.workflow, spec)
    assert validation.valid, validation.as_dict()
    return draft


def _publish(body: dict[str, str]) -> tuple[int, dict[str, object]]:
    admin = User.objects.get(username="admin")
    response = logged_in(admin).post(
        "/api/v1/workflows/breast-fna-cytology/publish",
        json.dumps(body),
        content_type="application/json",
    )
    return response.status_code, response.json()


def _high_threshold(golden: dict[str, Report]) -> float:
    """Between the malignant golden case's probability and 1: only that case changes."""
    probability = float(golden["C26-10001"].data["fna_malignancy_probability"]) / 100
    return round((probability + 1) / 2, 6)


def test_a_draft_whose_threshold_makes_one_golden_case_disagree_is_refused_naming_it(
    demo: DemoData, golden: dict[str, Report]
) -> None:
    _draft(demo, 0.5)
    status, answer = _publish({"note": "same answers"})
    assert status == 201, answer  # every golden case agrees: published

    draft = _draft(demo, _high_threshold(golden))
    status, answer = _publish({"note": "stricter threshold"})

    assert status == 409, answer
    assert answer["agreement"] == pytest.approx(2 / 3)
    assert answer["threshold"] == 1.0
    assert answer["disagreements"] == [
        {
            "accession": "C26-10001",
            "element": "recommendation",
            "label": {"zh": "处理建议", "en": "Recommended next step"},
            "expected": "histology_before_treatment",
            "got": "core_biopsy",
            "tolerance": None,
            "error": "",
        }
    ]
    assert "1 of 3" not in str(answer["detail"])
    assert "2 of 3" in str(answer["detail"])
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT
    refused = AuditEvent.objects.get(action="workflow.golden_gate_refused")
    assert refused.outcome == "refused"
    # The shadow runs left no report version behind (the 3 drafts and 3 signed versions).
    assert Report.objects.count() == 6


def test_an_admin_override_publishes_with_the_reason_audited_and_in_the_history(
    demo: DemoData, golden: dict[str, Report]
) -> None:
    draft = _draft(demo, _high_threshold(golden))
    reason = "C26-10001 re-read: a core biopsy is what we now recommend"

    status, answer = _publish({"note": "stricter", "override_reason": reason})

    assert status == 201, answer
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED
    event = AuditEvent.objects.get(action="workflow.golden_gate_overridden")
    assert event.detail["reason"] == reason
    assert event.actor is not None
    assert event.actor.username == "admin"
    pathologist = User.objects.get(username="pathologist")
    history = logged_in(pathologist).get("/api/v1/workflows/breast-fna-cytology/publish-gates")
    assert history.status_code == 200
    [gate] = history.json()
    assert gate["version"] == draft.number
    assert gate["passed"] is False
    assert gate["overridden"] is True
    assert gate["override_reason"] == reason
    assert gate["decided_by"] == "admin"
    assert gate["agreement"] == pytest.approx(2 / 3)
