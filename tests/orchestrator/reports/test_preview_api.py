"""POST /api/v1/templates/preview: the designer's live preview, from the sandboxed renderer."""

from __future__ import annotations

import copy
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve
from pypdf import PdfReader

from orchestrator.accounts.models import Department, User
from orchestrator.audit.models import AuditEvent
from orchestrator.designs.models import ReportTemplate, TemplateVersion
from orchestrator.reports.api import template_preview
from tests.orchestrator.reports.conftest import DATASET, SAMPLE, text_of

URL = "/api/v1/templates/preview"
pytestmark = pytest.mark.django_db


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def saved_version(department: Department) -> TemplateVersion:
    template = ReportTemplate.objects.create(
        department=department, slug="breast-carcinoma", name="Breast"
    )
    return TemplateVersion.objects.create(template=template, number=1, dataset=DATASET)


def post(client: Client, body: dict[str, Any]) -> Any:
    return client.post(URL, body, content_type="application/json")


def test_the_preview_route_is_not_shadowed_by_the_templates_api() -> None:
    assert resolve(URL).func is template_preview


def test_a_pathologist_previews_a_saved_version_as_a_pdf(
    pathologist: User, department: Department
) -> None:
    version = saved_version(department)

    response = post(
        logged_in(pathologist),
        {"template_version": version.pk, "values": SAMPLE, "language": "en", "format": "pdf"},
    )

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    text = text_of(PdfReader(io.BytesIO(response.content)))
    assert "Invasive carcinoma of no special type" in text
    assert "Sample Patient" in text
    assert "Test Hospital" in text  # the department's real letterhead
    assert f"Page 1 of {response['X-Report-Pages']}" in text
    event = AuditEvent.objects.get(action="template.previewed")
    assert event.actor == pathologist
    assert event.object_id == str(version.pk)
    assert event.detail == {"format": "pdf", "language": "en", "unsaved": False}


def test_an_admin_previews_an_unsaved_custom_layout_as_sandboxed_html(admin: User) -> None:
    layout = (
        "<html><body><h1>{{ report.title }}</h1>{% for s in sections %}{% for r in s.rows %}"
        "<p>{{ r.label }} = {{ r.response }}</p>{% endfor %}{% endfor %}"
        "<script>alert(1)</script></body></html>"
    )

    response = post(
        logged_in(admin),
        {"dataset": DATASET, "layout_html": layout, "values": SAMPLE, "format": "html"},
    )

    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "乳腺浸润性癌" in html  # Chinese by default
    assert "18 mm" in html
    # The designer's layout is shown, but its scripts cannot run on our origin.
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert AuditEvent.objects.get(action="template.previewed").detail["unsaved"] is True


def test_every_problem_with_the_sample_values_is_listed(pathologist: User) -> None:
    values = {**SAMPLE, "tumour_size_mm": "big", "no_such_element": 1}

    response = post(logged_in(pathologist), {"dataset": DATASET, "values": values, "format": "pdf"})

    assert response.status_code == 400
    problems = response.json()["problems"]
    assert any("tumour_size_mm" in p and "not a number" in p for p in problems), problems
    assert any("no_such_element" in p for p in problems), problems


def test_a_broken_dataset_and_a_sandbox_violation_are_reported_as_problems(
    pathologist: User,
) -> None:
    client = logged_in(pathologist)
    broken = post(client, {"dataset": {"sections": "nope"}, "values": {}})
    assert broken.status_code == 400
    assert broken.json()["problems"]

    escape = post(
        client,
        {"dataset": DATASET, "layout_html": "{{ cycler.__init__.__globals__ }}", "values": {}},
    )
    assert escape.status_code == 400
    assert any("not allowed" in p for p in escape.json()["problems"])


def test_neither_or_both_sources_is_a_clear_400(pathologist: User, department: Department) -> None:
    client = logged_in(pathologist)
    version = saved_version(department)
    bodies: list[dict[str, Any]] = [
        {"values": {}},
        {"template_version": version.pk, "dataset": DATASET},
    ]
    for body in bodies:
        response = post(client, body)
        assert response.status_code == 400
        assert "either template_version" in " ".join(response.json()["problems"])


def test_another_departments_version_is_not_found_and_the_denial_is_audited(
    other_department_pathologist: User, department: Department
) -> None:
    version = saved_version(department)

    response = post(logged_in(other_department_pathologist), {"template_version": version.pk})

    assert response.status_code == 404
    assert AuditEvent.objects.filter(
        action="template.preview_denied", actor=other_department_pathologist
    ).exists()


def test_a_clinician_may_not_preview(clinician: User) -> None:
    response = post(logged_in(clinician), {"dataset": DATASET, "values": {}})
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="template.denied", actor=clinician)
    assert event.detail["attempted"] == "POST template_preview"


def with_precision(precision: int) -> dict[str, Any]:
    dataset = copy.deepcopy(DATASET)
    element = next(
        e for section in dataset["sections"] for e in section["elements"] if e["type"] == "number"
    )
    element["precision"] = precision
    return dataset


def nested_condition() -> dict[str, Any]:
    dataset = copy.deepcopy(DATASET)
    dataset["sections"][0]["elements"][1]["visible_if"] = "(" * 3000 + "1" + ")" * 3000
    return dataset


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"values": {"comment": "\ud800"}}, "not valid text"),
        ({"values": {"tumour_size_mm": 10**400}}, "too large a number"),
        ({"layout_html": "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}"}, "too deeply nested"),
        ({"dataset": nested_condition()}, "too deeply nested"),
        ({"dataset": with_precision(150_000_000)}, "must be 0 or more and at most 10"),
        ({"dataset": with_precision(2**31)}, "must be 0 or more and at most 10"),
        ({"layout_html": "{{ (1, 2)|dictsort }}", "format": "html"}, "AttributeError"),
    ],
    ids=["surrogate", "huge-int", "nested-layout", "nested-condition", "precision",
         "precision-2**31", "dictsort"],
)  # fmt: skip
def test_hostile_input_is_a_listed_problem_not_a_server_error(
    pathologist: User, body: dict[str, Any], problem: str
) -> None:
    response = post(logged_in(pathologist), {"dataset": DATASET, "values": {}, **body})

    assert response.status_code == 400
    assert any(problem in p for p in response.json()["problems"]), response.json()
