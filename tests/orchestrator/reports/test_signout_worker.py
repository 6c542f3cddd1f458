"""Sign-out of a real run: a Celery worker runs the demo graph with a review node after the
render node against the reference MLServer, parks the run with its AI draft, a pathologist
signs through the API, and the worker resumes the run to its end."""

from __future__ import annotations

import time

import pytest

from orchestrator import devstack
from orchestrator.accounts.models import User
from orchestrator.cases.services import create_case
from orchestrator.demo_data import FNA_CASE, FNA_WORKFLOW_SLUG, DemoData
from orchestrator.reports.models import Report, ReportSignature
from orchestrator.runs.models import NodeRun, Run, RunStatus
from orchestrator.runs.services import start_run
from tests.conftest import PASSWORD, case_document, pdf_text, wait_for_run
from tests.orchestrator.reports.drafts import logged_in, signout_workflow

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]


def wait_for_status(run_id: int, status: str, timeout: float = 120.0) -> Run:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = Run.objects.get(pk=run_id)
        if run.status == status:
            return run
        assert not run.is_terminal, f"run {run_id} ended {run.status}: {run.error}"
        time.sleep(0.25)
    raise AssertionError(f"run {run_id} never reached {status}")


def test_a_run_parked_at_review_is_signed_and_resumed_by_the_worker(
    demo: DemoData, celery_worker: devstack.ManagedProcess, pathologist: User
) -> None:
    # The FNA cytology workflow: its classifier's probability is the queue's triage value.
    version = signout_workflow(demo, FNA_WORKFLOW_SLUG)
    case = create_case(demo.department, case_document(FNA_CASE))
    pathologist.refresh_from_db()

    run = wait_for_status(start_run(case, version).pk, RunStatus.WAITING_REVIEW)
    draft = Report.objects.get(run=run)
    queue = logged_in(pathologist).get("/api/v1/review/queue").json()
    assert [item["report_id"] for item in queue] == [draft.pk]
    assert queue[0]["triage"] == pytest.approx(
        NodeRun.objects.get(run=run, node_id="fna").outputs["result"]["predict_proba"][0][1]
    )
    signed = logged_in(pathologist).post(
        f"/api/v1/review/reports/{draft.pk}/sign",
        {"password": PASSWORD},
        content_type="application/json",
    )

    assert signed.status_code == 201, signed.json()
    finished = wait_for_run(run.pk)
    assert finished.status == RunStatus.SUCCEEDED, finished.error
    review = NodeRun.objects.get(run=run, node_id="signout", status="succeeded")
    assert review.outputs["decision"]["decision"] == "approve"
    final = Report.objects.get(pk=signed.json()["report_id"])
    assert ReportSignature.objects.get(report=final).signer == pathologist
    assert str(pathologist) in pdf_text(final.pdf.path)
    # Resuming did not render another draft: the case has the draft and the signed version.
    assert list(Report.objects.filter(case=case).values_list("status", flat=True)) == [
        "final",
        "draft",
    ]
