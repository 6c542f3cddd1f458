"""Past FNA cases for quality tests: signed through the real path (a run on a worker, then the
pathologist's sign-out), or seeded as signed report versions with chosen values; and the FNA
model's own answer for a case, asked of MLServer directly (the tests' independent count)."""

from __future__ import annotations

import copy
from typing import Any

import httpx
from django.utils import timezone

from orchestrator.accounts.models import User
from orchestrator.cases.models import Case
from orchestrator.cases.services import create_case
from orchestrator.demo_data import DemoData
from orchestrator.designs.models import WorkflowVersion
from orchestrator.reports.lifecycle import sign_out_report
from orchestrator.reports.models import Report, ReportStatus
from orchestrator.runs.models import RunStatus
from orchestrator.runs.services import start_run
from tests.conftest import PASSWORD, case_document
from tests.parked import wait_for_draft

# The published FNA graph's cytologist's-findings transform.
FIELDS_NODE = "fields"


def fna_case(demo: DemoData, name: str, accession: str) -> Case:
    return create_case(demo.department, case_document(name, accession=accession))


def signed_through_a_run(demo: DemoData, case: Case, pathologist: User) -> Report:
    """Run the published FNA workflow on ``case`` (a real worker must be running) and sign
    its draft as the pathologist would."""
    run = wait_for_draft(start_run(case, demo.fna_workflow_version).pk)
    assert run.status == RunStatus.WAITING_REVIEW, run.error  # parked for the sign-out
    draft = Report.objects.get(run=run)
    return sign_out_report(draft, pathologist, PASSWORD)


def seeded_signed(case: Case, version: WorkflowVersion, data: dict[str, Any], by: User) -> Report:
    """A signed report version of ``case`` carrying ``data`` (a seeded history)."""
    return Report.objects.create(
        case=case,
        template_version=version.template_version,
        version_no=1,
        status=ReportStatus.FINAL,
        data=data,
        signed_by=by,
        signed_at=timezone.now(),
        author=by,
    )


def model_probability(model_services_url: str, case: Case) -> float:
    """The FNA model's malignancy probability for ``case`` in %, as the workflow rounds it."""
    features = case.specimens.get().data["fna_features"]
    answer = httpx.post(
        f"{model_services_url}/v2/models/breast-fna/infer",
        json={
            "inputs": [
                {"name": "features", "datatype": "FP64", "shape": [1, 30], "data": features}
            ],
            "outputs": [{"name": "predict_proba"}],
        },
        timeout=30,
    )
    answer.raise_for_status()
    output = next(o for o in answer.json()["outputs"] if o["name"] == "predict_proba")
    return round(float(output["data"][1]) * 100, 1)


def with_threshold(spec: dict[str, Any], threshold: float) -> dict[str, Any]:
    """The FNA graph whose recommendation comes from the model with a threshold: above it,
    histology before treatment; else a core biopsy when the model leans malignant, else
    follow-up. At 0.5 it recommends what the demo cases' cytologists did."""
    changed = copy.deepcopy(spec)
    node = next(n for n in changed["nodes"] if n["id"] == FIELDS_NODE)
    node["config"]["base_fields"] = [
        f for f in node["config"]["base_fields"] if f != "recommendation"
    ]
    p = "nodes.fna.result.predict_proba[0][1]"
    node["config"]["mapping"]["recommendation"] = (
        f"'histology_before_treatment' if {p} > {threshold} else "
        f"('core_biopsy' if {p} > 0.5 else 'clinical_imaging_follow_up')"
    )
    return changed
