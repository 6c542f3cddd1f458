"""When no worker checks the golden cases in time, publishing is refused with a clear message,
and publishing again waits for the same shadow run instead of starting another."""

from __future__ import annotations

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings

from orchestrator.accounts.models import User
from orchestrator.cases.services import create_case
from orchestrator.demo_data import load_demo_data
from orchestrator.designs.models import VersionStatus
from orchestrator.designs.workflows import WorkflowError, publish_draft, save_draft
from orchestrator.quality.models import GoldenCase, ShadowRun
from orchestrator.reports.models import Report, ReportStatus
from tests.conftest import PASSWORD, case_document

pytestmark = pytest.mark.django_db


def test_publishing_waits_for_the_same_unfinished_golden_run(settings: Settings) -> None:
    settings.QUALITY_GATE_TIMEOUT_SECONDS = 0.3
    demo = load_demo_data(PASSWORD, "http://127.0.0.1:9")
    version = demo.fna_workflow_version
    case = create_case(demo.department, case_document("breast-fna-benign", accession="C26-7"))
    Report.objects.create(
        case=case, template_version=version.template_version, status=ReportStatus.FINAL,
        data=case.findings, signed_at=timezone.now(),
    )  # fmt: skip
    GoldenCase.objects.create(workflow=version.workflow, case=case)
    draft, _ = save_draft(version.workflow, version.spec)
    admin = User.objects.get(username="admin")

    # Inside the test's transaction the shadow run is never handed to a worker.
    with pytest.raises(WorkflowError, match=r"not checked within 0\.3 s \(shadow run \d+\)"):
        publish_draft(version.workflow, user=admin)
    with pytest.raises(WorkflowError, match="waits for the same shadow run"):
        publish_draft(version.workflow, user=admin)

    assert ShadowRun.objects.filter(workflow_version=draft).count() == 1
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT
