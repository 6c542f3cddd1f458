"""Drafts parked at a review node, as a run leaves them: a Run waiting for review, its review
node waiting, and a draft report rendered by the real renderer from the case's findings (a breast
resection) and the AI Ki-67 index of the Ki-67 model (with its provenance)."""

from __future__ import annotations

from typing import Any

from django.test import Client

from orchestrator.accounts.models import Department, User
from orchestrator.cases.services import create_case
from orchestrator.demo_data import DEMO_WORKFLOW_SLUG, DemoData
from orchestrator.designs.models import WorkflowVersion
from orchestrator.reports.models import Report
from orchestrator.reports.services import create_draft_report
from orchestrator.runs.models import NodeRun, Run, RunStatus
from tests.conftest import case_document
from workflows.nodes.review import review_request


def model_source(run: Run, confidence: float | None = None) -> list[dict[str, Any]]:
    source: dict[str, Any] = {
        "kind": "model",
        "node": "ihc",
        "endpoint": "ihc-dab",
        "model_name": "ihc-dab",
        "model_version": "1",
        "run": str(run.pk),
    }
    if confidence is not None:
        source["confidence"] = confidence
    return [source]


def parked_draft(
    demo: DemoData,
    accession: str,
    *,
    department: Department | None = None,
    ai_ki67: float = 87.5,
    probability: float | None = None,
    priority: str = "routine",
    missing: tuple[str, ...] = (),
    case_type: str = "breast-resection",
    mrn: str = "",
) -> Report:
    """A draft of ``accession`` whose run waits at its review node ``review``: the AI Ki-67 index
    is ``ai_ki67`` %, given by the model with confidence ``probability`` % (the queue's AI triage
    value; by default the index itself)."""
    document = case_document(
        "breast-resection", accession=accession, priority=priority, case_type=case_type
    )
    if mrn:
        document["patient"] = {**document["patient"], "mrn": mrn}
    case = create_case(department or demo.department, document)
    run = Run.objects.create(
        case=case,
        workflow_version=demo.workflow_version,
        template_version=demo.workflow_version.template_version,
        status=RunStatus.WAITING_REVIEW,
    )
    NodeRun.objects.create(
        run=run,
        node_id="ihc",
        node_type="map",
        status="succeeded",
        final=True,
        outputs={"results": [{"positive_fraction": ai_ki67 / 100}]},
    )
    request = review_request({"title": "Sign-out", "fields": []}, {})
    NodeRun.objects.create(
        run=run,
        node_id="review",
        node_type="review",
        status="waiting",
        outputs={"waiting": request},
    )
    values = {k: v for k, v in case.findings.items() if k not in missing}
    provenance: dict[str, Any] = {k: [{"kind": "case", "run": str(run.pk)}] for k in values}
    if "ki67_index" not in missing:
        values["ki67_index"] = ai_ki67
        confidence = ai_ki67 if probability is None else probability
        provenance["ki67_index"] = model_source(run, confidence / 100)
    report, _ = create_draft_report(run, values, provenance, "en")
    return report


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def signout_workflow(demo: DemoData, slug: str = DEMO_WORKFLOW_SLUG) -> WorkflowVersion:
    """A demo workflow (the resection one by default, or the FNA cytology one): a run renders
    the AI draft, then parks at the review node ``signout`` until a pathologist signs it out."""
    version = demo.workflow_version if slug == DEMO_WORKFLOW_SLUG else demo.fna_workflow_version
    assert any(n["type"] == "review" for n in version.spec["nodes"]), "the demo has no sign-out"
    return version
