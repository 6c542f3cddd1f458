"""A case through a real Celery worker process, real MLServer, real PDF (both CI legs)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from orchestrator import devstack
from orchestrator.cases.services import create_case
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import DemoData
from orchestrator.designs.models import WorkflowVersion
from orchestrator.designs.services import import_workflow
from orchestrator.reports.models import Report
from orchestrator.runs.models import NodeRun, RunStatus
from orchestrator.runs.services import execute_run, start_run
from tests.conftest import case_document, pdf_text, wait_for_run

DATA = Path(__file__).resolve().parents[2] / "data"

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]


def test_a_malignant_case_becomes_a_draft_pdf_with_both_model_values(
    demo: DemoData, celery_worker: devstack.ManagedProcess
) -> None:
    case = create_case(demo.department, case_document("breast-malignant"))

    run = wait_for_run(start_run(case, demo.workflow_version).pk)

    assert run.status == RunStatus.SUCCEEDED, run.error
    fna = NodeRun.objects.get(run=run, node_id="fna", status="succeeded").outputs
    ihc = NodeRun.objects.get(run=run, node_id="ihc", status="succeeded").outputs
    probability = round(fna["result"]["predict_proba"][0][1] * 100, 1)
    fractions = [tile["positive_fraction"] for tile in ihc["results"]]
    ki67 = round(sum(fractions) / len(fractions) * 100, 1)
    assert probability > 50
    assert 0 < ki67 < 100
    report = Report.objects.get(run=run)
    assert report.data["fna_malignancy_probability"] == probability
    assert report.data["ki67_index"] == ki67
    text = pdf_text(report.pdf.path)
    assert f"{probability:.1f}%" in text
    assert f"{ki67:.1f}%" in text
    assert "S26-00001" in text
    assert "Ki-67" in text
    # Each AI value is traceable to the endpoint, model version and run.
    source = report.provenance["ki67_index"][0]
    assert source["endpoint"] == "ihc-dab"
    assert source["model_version"] == "1"
    assert source["run"] == str(run.pk)


def test_the_demo_graph_gives_the_same_report_as_the_foundation_graph(
    demo: DemoData, celery_worker: devstack.ManagedProcess
) -> None:
    """The demo workflow, re-expressed with switch, map over tiles, base_fields and a findings
    join, still produces the report the first (condition + single model call) graph did."""
    foundation = import_workflow(
        demo.department,
        json.loads((DATA / "breast-fna-ihc-foundation.json").read_text()),
        demo.workflow_version.template_version,
        slug="breast-fna-ihc-foundation",
        case_type="breast-resection",
    )
    case = create_case(demo.department, case_document("breast-malignant"))
    reports = []
    for version in (foundation, demo.workflow_version):
        run = wait_for_run(start_run(case, version).pk)
        assert run.status == RunStatus.SUCCEEDED, run.error
        reports.append((run, Report.objects.get(run=run)))

    (old_run, old), (new_run, new) = reports
    assert new.data == old.data
    assert new.provenance == json.loads(
        json.dumps(old.provenance).replace(f'"run": "{old_run.pk}"', f'"run": "{new_run.pk}"')
    )

    def words(report: Report) -> list[str]:
        # Every word of the PDF but the time it was generated.
        text = pdf_text(report.pdf.path)
        return [w for w in text.split() if not re.fullmatch(r"\d\d:\d\d(:\d\d)?", w)]

    old_words, new_words = words(old), words(new)
    assert len(new_words) == len(old_words)
    # The two PDFs differ only where the provenance table names the run.
    differences = {(n, o) for n, o in zip(new_words, old_words, strict=True) if n != o}
    assert differences <= {(str(new_run.pk), str(old_run.pk))}


def test_a_benign_case_skips_the_ihc_model_and_leaves_ki67_unfilled(
    demo: DemoData, celery_worker: devstack.ManagedProcess
) -> None:
    case = create_case(demo.department, case_document("breast-benign"))

    run = wait_for_run(start_run(case, demo.workflow_version).pk)

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert NodeRun.objects.get(run=run, node_id="ihc").status == "skipped"
    report = Report.objects.get(run=run)
    assert report.data["fna_malignancy_probability"] < 50
    assert "ki67_index" not in report.data
    assert "Ki-67" not in pdf_text(report.pdf.path)


def test_an_unreachable_model_server_fails_the_node_and_the_run_without_a_report(
    demo: DemoData, celery_worker: devstack.ManagedProcess
) -> None:
    dead_url = f"http://127.0.0.1:{devstack.free_port()}"
    ModelEndpoint.objects.filter(slug="breast-fna").update(base_url=dead_url)
    case = create_case(demo.department, case_document("breast-malignant"))

    run = wait_for_run(start_run(case, demo.workflow_version).pk)

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
    case = create_case(demo.department, case_document("breast-benign"))
    run = wait_for_run(start_run(case, demo.workflow_version).pk)
    assert run.status == RunStatus.SUCCEEDED
    assert "runs.execute_run[" in celery_worker.log_path.read_text()


def test_a_run_whose_stored_graph_no_longer_parses_ends_failed_with_the_problem(
    demo: DemoData,
) -> None:
    WorkflowVersion.objects.filter(pk=demo.workflow_version.pk).update(
        spec={"schema_version": 99, "nodes": []}
    )
    case = create_case(demo.department, case_document("breast-benign"))
    run = start_run(case, WorkflowVersion.objects.get(pk=demo.workflow_version.pk), enqueue=False)

    run = execute_run(run.pk) or run

    assert run.status == RunStatus.FAILED
    assert "schema_version 99 is not supported" in run.error
    assert run.finished_at is not None
