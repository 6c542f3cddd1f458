"""A case through a real Celery worker process, real MLServer, real PDF (both CI legs): the
AI draft waits for the pathologist's sign-out, which resumes the run to its end."""

from __future__ import annotations

import os

import pytest

from orchestrator import devstack
from orchestrator.accounts.models import User
from orchestrator.cases.services import create_case
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import DemoData
from orchestrator.designs.models import WorkflowVersion
from orchestrator.reports.models import Report
from orchestrator.runs.models import NodeRun, RunStatus
from orchestrator.runs.services import execute_run, start_run
from tests.conftest import case_document, pdf_text
from tests.parked import SIGNOUT_NODE, sign_out_run, wait_for_draft

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]


def test_a_resection_case_becomes_a_draft_pdf_with_the_ai_ki67_in_its_own_block(
    demo: DemoData, celery_worker: devstack.ManagedProcess, pathologist: User
) -> None:
    case = create_case(demo.department, case_document("breast-resection"))

    run = wait_for_draft(start_run(case, demo.workflow_version).pk)

    # The draft waits for the pathologist's sign-out at the demo workflow's review node.
    assert run.status == RunStatus.WAITING_REVIEW, run.error
    assert NodeRun.objects.get(run=run, node_id=SIGNOUT_NODE).status == "waiting"
    ihc = NodeRun.objects.get(run=run, node_id="ihc", status="succeeded").outputs
    fractions = [tile["positive_fraction"] for tile in ihc["results"]]
    ki67 = round(sum(fractions) / len(fractions) * 100, 1)
    assert 0 < ki67 < 100
    report = Report.objects.get(run=run)
    assert report.data["ki67_index"] == ki67
    assert report.data["ki67_percent"] == 30  # the pathologist's own reading, from the case
    assert "fna_malignancy_probability" not in report.data  # the FNA has its own report
    text = pdf_text(report.pdf.path)
    assert f"{ki67:.1f}%" in text
    assert "S26-00001" in text
    assert "Ki-67" in text
    # The AI value is traceable to the endpoint, model version and run.
    source = report.provenance["ki67_index"][0]
    assert source["endpoint"] == "ihc-dab"
    assert source["model_version"] == "1"
    assert source["run"] == str(run.pk)

    signed, finished = sign_out_run(run, pathologist)
    assert finished.status == RunStatus.SUCCEEDED, finished.error
    assert (signed.status, signed.data["ki67_index"]) == ("final", ki67)


def test_a_resection_without_a_ki67_slide_skips_the_ihc_model(
    demo: DemoData, celery_worker: devstack.ManagedProcess
) -> None:
    case = create_case(demo.department, case_document("breast-resection-no-ki67-slide"))

    run = wait_for_draft(start_run(case, demo.workflow_version).pk)

    assert run.status == RunStatus.WAITING_REVIEW, run.error
    assert NodeRun.objects.get(run=run, node_id="ihc").status == "skipped"
    report = Report.objects.get(run=run)
    assert "ki67_index" not in report.data
    assert report.data["biomarkers_tested"] == ["none"]
    assert "S26-00002" in pdf_text(report.pdf.path)


@pytest.mark.parametrize(("name", "malignant"), [("breast-fna-malignant", True),
                                                 ("breast-fna-benign", False)])  # fmt: skip
def test_an_fna_case_gets_its_cytology_report_with_the_ai_estimate(
    demo: DemoData, celery_worker: devstack.ManagedProcess, name: str, malignant: bool
) -> None:
    case = create_case(demo.department, case_document(name))

    run = wait_for_draft(start_run(case, demo.fna_workflow_version).pk)

    assert run.status == RunStatus.WAITING_REVIEW, run.error
    fna = NodeRun.objects.get(run=run, node_id="fna", status="succeeded").outputs
    probability = round(fna["result"]["predict_proba"][0][1] * 100, 1)
    assert (probability > 50) is malignant
    report = Report.objects.get(run=run)
    assert report.template_version.template.slug == "breast-fna-cytology"
    assert report.data["fna_malignancy_probability"] == probability
    assert report.data["cytology_category"] == ("malignant" if malignant else "benign")
    assert "ki67_index" not in report.data
    assert f"{probability:.1f}%" in pdf_text(report.pdf.path)
    assert report.provenance["fna_malignancy_probability"][0]["endpoint"] == "breast-fna"


def test_an_unreachable_model_server_fails_the_node_and_the_run_without_a_report(
    demo: DemoData, celery_worker: devstack.ManagedProcess
) -> None:
    dead_url = f"http://127.0.0.1:{devstack.free_port()}"
    ModelEndpoint.objects.filter(slug="breast-fna").update(base_url=dead_url)
    case = create_case(demo.department, case_document("breast-fna-malignant"))

    run = wait_for_draft(start_run(case, demo.fna_workflow_version).pk)

    assert run.status == RunStatus.FAILED
    assert "breast-fna" in run.error
    assert dead_url in run.error
    attempts = NodeRun.objects.filter(run=run, node_id="fna").order_by("attempt")
    assert [a.status for a in attempts] == ["failed", "failed"]  # retried once, then failed
    assert "cannot connect" in attempts.last().error  # type: ignore[union-attr]
    assert not NodeRun.objects.filter(run=run, node_id="report").exclude(status="skipped")
    assert not Report.objects.filter(case=case).exists()


def test_runs_are_executed_by_a_separate_worker_process(
    demo: DemoData, celery_worker: devstack.ManagedProcess
) -> None:
    assert celery_worker.process is not None
    assert celery_worker.alive
    assert celery_worker.process.pid != os.getpid()
    case = create_case(demo.department, case_document("breast-resection-no-ki67-slide"))
    run = wait_for_draft(start_run(case, demo.workflow_version).pk)
    assert run.status == RunStatus.WAITING_REVIEW
    assert "runs.execute_run[" in celery_worker.log_path.read_text()


def test_a_run_whose_stored_graph_no_longer_parses_ends_failed_with_the_problem(
    demo: DemoData,
) -> None:
    WorkflowVersion.objects.filter(pk=demo.workflow_version.pk).update(
        spec={"schema_version": 99, "nodes": []}
    )
    case = create_case(demo.department, case_document("breast-resection-no-ki67-slide"))
    run = start_run(case, WorkflowVersion.objects.get(pk=demo.workflow_version.pk), enqueue=False)

    run = execute_run(run.pk) or run

    assert run.status == RunStatus.FAILED
    assert "schema_version 99 is not supported" in run.error
    assert run.finished_at is not None
