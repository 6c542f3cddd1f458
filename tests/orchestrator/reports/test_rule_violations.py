"""Violated cross-field rules refuse a preview and a draft report, each rule named with its
message in the report's language."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from pypdf import PdfReader

from orchestrator.accounts.models import User
from tests.orchestrator.reports.conftest import text_of
from tests.workflows.datasets.support_rules import (
    MESSAGES,
    VIOLATING,
    ruled_document,
    ruled_sample,
)

URL = "/api/v1/templates/preview"
pytestmark = pytest.mark.django_db


def preview(user: User, values: dict[str, Any], language: str, output: str = "pdf") -> Any:
    client = Client()
    client.force_login(user)
    body = {"dataset": ruled_document(), "values": values, "language": language, "format": output}
    return client.post(URL, body, content_type="application/json")


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


def test_the_preview_prints_a_derived_value_the_pathologist_left_empty(
    pathologist: User,
) -> None:
    values = ruled_sample()
    del values["grade"]

    response = preview(pathologist, values, "en")

    assert response.status_code == 200, response.content
    text = text_of(PdfReader(io.BytesIO(response.content)))
    assert "GradeGrade2" in "".join(text.split()), text
