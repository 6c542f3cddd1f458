"""Violated cross-field rules refuse a preview, the draft a render node stores and sign-out, each
rule named with its message (in the report's language for the preview)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.test import Client
from pypdf import PdfReader

from orchestrator.accounts.models import Role, User
from orchestrator.cases.services import create_case
from orchestrator.demo_data import DemoData
from orchestrator.designs.templates import TemplateContent, create_template, publish_version
from orchestrator.reports.lifecycle import SignOutBlocked, check_sign_out
from orchestrator.reports.models import Report
from orchestrator.reports.rendering import ATTACHMENT_NAME
from orchestrator.reports.services import FindingsRejected, create_draft_report
from orchestrator.runs.models import Run, RunStatus
from tests.orchestrator.reports.conftest import text_of
from tests.workflows.datasets.support_rules import (
    MESSAGES,
    VIOLATING,
    ai_document,
    ruled_case_document,
    ruled_document,
    ruled_sample,
)

URL = "/api/v1/templates/preview"


def preview(user: User, values: dict[str, Any], language: str, output: str = "pdf") -> Any:
    client = Client()
    client.force_login(user)
    body = {"dataset": ruled_document(), "values": values, "language": language, "format": output}
    return client.post(URL, body, content_type="application/json")


@pytest.mark.django_db
def test_the_preview_lists_every_violated_rule_in_the_language_of_the_report(
    pathologist: User,
) -> None:
    response = preview(pathologist, VIOLATING, "zh")

    assert response.status_code == 400
    # A draft may leave elements empty: the requirement waits for sign-out, the rest are listed.
    assert response.json()["problems"] == [
        "values: rule ln_involved_within_examined (ln_involved, ln_examined): "
        + MESSAGES["ln_involved_within_examined"]["zh"],
        "values: rule grade_from_scores (grade, tubules, nuclei, mitoses): "
        + MESSAGES["grade_from_scores"]["zh"]
        + " (grade is Grade 3 ('grade_3'), the rule gives Grade 2 ('grade_2'); record an "
        "override with a reason to keep it)",
        "values: rule nodal_none_alone (nodal_procedure): "
        + MESSAGES["nodal_none_alone"]["zh"]
        + " (none chosen with other answers)",
    ]


@pytest.mark.django_db
def test_the_preview_prints_a_derived_value_the_pathologist_left_empty(
    pathologist: User,
) -> None:
    values = ruled_sample()
    del values["grade"]

    response = preview(pathologist, values, "en")

    assert response.status_code == 200, response.content
    reader = PdfReader(io.BytesIO(response.content))
    text = text_of(reader)
    assert "GradeGrade2" in "".join(text.split()), text
    # The attached data carries the value as printed, and says where it came from.
    attached = json.loads(reader.attachments[ATTACHMENT_NAME][0])
    assert attached["values"]["grade"] == "grade_2"
    assert attached["provenance"]["grade"] == [
        {"kind": "derived", "rule": "grade_from_scores", "from": ["tubules", "nuclei", "mitoses"]}
    ]


@pytest.mark.django_db
def test_the_preview_prints_an_overridden_derived_value_with_its_reason(
    pathologist: User,
) -> None:
    reason = "mitoses counted in a second block"
    values = {**ruled_sample(), "grade": "grade_3", "_overrides": {"grade": {"reason": reason}}}

    response = preview(pathologist, values, "en")

    assert response.status_code == 200, response.content
    text = "".join(text_of(PdfReader(io.BytesIO(response.content))).split())
    assert "GradeGrade3setbythepathologist;computed:Grade2—mitosescountedinasecondblock" in text


# --- the draft a render node stores, and sign-out ------------------------------------------------


@pytest.fixture
def ruled_run(demo: DemoData) -> Run:
    """A run of the demo workflow pinned to the ruled template (as a render node would see it)."""
    template = publish_version(
        create_template(demo.department, "ruled", "Ruled", TemplateContent(ai_document()))
    )
    case = create_case(demo.department, ruled_case_document("S26-07001"))
    return Run.objects.create(
        case=case,
        workflow_version=demo.workflow_version,
        template_version=template,
        status=RunStatus.RUNNING,
    )


@pytest.mark.django_db(transaction=True)
def test_a_draft_with_violated_rules_is_refused_naming_every_rule(ruled_run: Run) -> None:
    with pytest.raises(FindingsRejected) as refused:
        create_draft_report(ruled_run, VIOLATING, {}, "en")

    assert [p.split(":")[0] for p in refused.value.problems] == [
        "rule ln_involved_within_examined (ln_involved, ln_examined)",
        "rule grade_from_scores (grade, tubules, nuclei, mitoses)",
        "rule nodal_none_alone (nodal_procedure)",
    ]
    assert not Report.objects.filter(run=ruled_run).exists()


@pytest.mark.django_db(transaction=True)
def test_sign_out_is_blocked_while_a_rule_is_violated(ruled_run: Run, demo: DemoData) -> None:
    values = ruled_sample()
    del values["margin_distance_mm"]  # a draft may leave it; a signed report may not
    report, _ = create_draft_report(ruled_run, values, {}, "en")
    signer = User.objects.filter(department=demo.department, role=Role.PATHOLOGIST).first()
    assert signer is not None

    with pytest.raises(SignOutBlocked) as blocked:
        check_sign_out(report, signer)

    assert blocked.value.problems == [
        "rule distance_when_negative (margin_distance_mm): A negative margin needs its distance "
        "(margin_distance_mm not filled)"
    ]
