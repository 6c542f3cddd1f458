"""A workflow whose model fills a conditional AI element without a guard: validation warns
before publishing, and a case where the element does not apply still gets its report (real
Celery worker, real MLServer) with the dropped value and its reason visible in the run."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from orchestrator import devstack
from orchestrator.accounts.models import Role, User
from orchestrator.cases.services import create_case
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import DemoData
from orchestrator.designs.models import TemplateVersion
from orchestrator.designs.templates import TemplateContent, create_template, publish_version
from orchestrator.designs.workflows import create_workflow
from orchestrator.reports.models import Report
from orchestrator.runs.models import RunStatus
from orchestrator.runs.services import start_run
from tests.conftest import pdf_text, wait_for_run
from tests.workflows.datasets.support_rules import ai_document, ruled_case_document

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]
LAB_FIELDS = [
    "tubules", "nuclei", "mitoses", "grade", "margin", "margin_distance_mm",
    "nodal_procedure", "ln_examined", "ln_involved",
]  # fmt: skip
PERCENT = "(nodes.ihc.result.positive_fraction * 100) | round(1)"
GRAPH: dict[str, Any] = {
    "schema_version": 1,
    "name": "Ruled report with AI scores",
    "nodes": [
        {"id": "case", "type": "case_trigger", "config": {"case_types": ["breast-resection"]}},
        {"id": "ihc", "type": "model_call",
         "config": {"endpoint": "ihc-dab", "protocol": "open_inference_v2",
                    "inputs": [{"name": "tile", "datatype": "BYTES",
                                "tile": "case.specimens[0].tiles[0]"}]}},
        {"id": "fields", "type": "transform",
         "config": {"base": "case.findings", "base_fields": LAB_FIELDS,
                    "mapping": {"grade": "case.findings.grade"}}},
        # No condition in front: PD-L1 is filled on every case, also where it does not apply.
        {"id": "ai", "type": "transform",
         "config": {"mapping": {"ki67_ai": PERCENT, "pdl1_ai": PERCENT}}},
        {"id": "report", "type": "render_report", "config": {"language": "en"}},
    ],
    "edges": [
        {"id": "e1", "source": "case", "source_port": "case", "target": "ihc", "target_port": "in"},
        {"id": "e2", "source": "case", "source_port": "case", "target": "fields",
         "target_port": "in"},
        {"id": "e3", "source": "ihc", "source_port": "result", "target": "ai", "target_port": "in"},
        {"id": "e4", "source": "fields", "source_port": "findings", "target": "report",
         "target_port": "findings"},
        {"id": "e5", "source": "ai", "source_port": "findings", "target": "report",
         "target_port": "findings"},
    ],
}  # fmt: skip


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def find_dropped(detail: Any) -> list[Any]:
    """Every ``dropped`` list anywhere in the run detail (the render node's outputs)."""
    if isinstance(detail, dict):
        found = [detail["dropped"]] if isinstance(detail.get("dropped"), list) else []
        return found + [d for value in detail.values() for d in find_dropped(value)]
    if isinstance(detail, list):
        return [d for value in detail for d in find_dropped(value)]
    return []


@pytest.fixture
def template(demo: DemoData) -> TemplateVersion:
    content = TemplateContent(ai_document())
    return publish_version(create_template(demo.department, "ruled", "Ruled", content))


def test_an_unguarded_ai_element_warns_and_a_case_it_does_not_apply_to_still_reports(
    demo: DemoData, template: TemplateVersion, celery_worker: devstack.ManagedProcess
) -> None:
    ModelEndpoint.objects.filter(department=demo.department, slug="ihc-dab").update(
        outputs={"positive_fraction": {"marker": "Ki-67", "stain": "IHC"}}
    )
    admin = User.objects.filter(department=demo.department, role=Role.ADMIN).first()
    assert admin is not None
    create_workflow(
        demo.department,
        slug="ruled-ai",
        name="Ruled AI",
        case_type="breast-resection",
        template_version=template,
        spec=GRAPH,
    )
    client = logged_in(admin)

    checked = client.post("/api/v1/workflows/ruled-ai/validate", {}, "application/json").json()
    published = client.post("/api/v1/workflows/ruled-ai/publish", {}, "application/json")

    assert checked["problems"] == []
    warned = {(w["code"], w["element_id"]) for w in checked["warnings"]}
    assert warned == {
        ("unguarded_conditional_element", "pdl1_ai"),
        ("measure_mismatch", "pdl1_ai"),  # a Ki-67 positive fraction filling PD-L1
    }
    mismatch = next(w for w in checked["warnings"] if w["code"] == "measure_mismatch")
    assert "PD-L1" in mismatch["message"]
    assert "Ki-67" in mismatch["message"]
    assert published.status_code in (200, 201), published.content
    version = template.workflow_versions.get(status="published")

    # The margin is negative: PD-L1 (only for a positive margin) does not apply to this case.
    case = create_case(demo.department, ruled_case_document("S26-09001"))
    run = wait_for_run(start_run(case, version).pk)

    assert run.status == RunStatus.SUCCEEDED, run.error
    report = Report.objects.get(run=run)
    assert "pdl1_ai" not in report.data
    assert 0 < report.data["ki67_ai"] < 100
    (dropped_source,) = report.provenance["pdl1_ai"]
    assert dropped_source["kind"] == "dropped"
    assert dropped_source["reason"] == "does not apply here (margin == 'positive')"
    assert dropped_source["sources"][0]["endpoint"] == "ihc-dab"
    text = pdf_text(report.pdf.path)
    assert "PD-L1" not in text
    assert "Ki-67 index (AI)" in text

    detail = logged_in(admin).get(f"/api/v1/runs/{run.pk}/").json()
    (dropped,) = find_dropped(detail)
    assert dropped == [
        {
            "element_id": "pdl1_ai",
            "value": report.data["ki67_ai"],
            "reason": "does not apply here (margin == 'positive')",
        }
    ]
    assert "pdl1_ai: the model's value" in json.dumps(detail)
