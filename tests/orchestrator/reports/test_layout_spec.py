"""Designed layouts: blocks in one or two columns with page breaks, checked against the dataset
and printed by the same sandboxed renderer as every report."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.test import Client

from orchestrator.accounts.models import User
from orchestrator.reports.layout_spec import (
    default_layout_spec,
    layout_html_from_spec,
    layout_spec_problems,
)
from tests.orchestrator.reports.conftest import DATASET, SAMPLE, read_pdf, text_of
from workflows.datasets import parse_dataset

URL = "/api/v1/templates/preview"
BREAST = parse_dataset(DATASET)


def two_column_spec() -> dict[str, Any]:
    """Patient beside specimens, a diagnosis summary, the biomarkers on a page of their own."""
    spec = default_layout_spec(BREAST)
    rows = spec["rows"]
    sections = [r for r in rows if r["columns"][0][0]["type"] == "section"]
    biomarkers = next(r for r in sections if r["columns"][0][0]["section"] == "biomarkers")
    rest = [r for r in rows if r is not biomarkers and r["columns"][0][0]["type"] != "specimens"]
    rows[:] = [
        rest[0],
        {"columns": [[{"type": "patient"}], [{"type": "specimens"}]]},
        {
            "columns": [
                [
                    {
                        "type": "diagnosis",
                        "elements": ["histologic_type", "pt_category"],
                        "title": {"zh": "病理诊断", "en": "Final diagnosis"},
                    }
                ]
            ]
        },
        *[r for r in rest[1:] if r["columns"][0][0]["type"] != "patient"],
    ]
    signatures = rows.index(next(r for r in rows if r["columns"][0][0]["type"] == "signatures"))
    rows[signatures:signatures] = [{"page_break": True}, biomarkers]
    return spec


def test_the_default_spec_places_every_section_once_and_is_valid() -> None:
    spec = default_layout_spec(BREAST)
    assert layout_spec_problems(spec, BREAST) == []
    placed = [r["columns"][0][0].get("section") for r in spec["rows"]]
    assert [s.id for s in BREAST.sections] == [p for p in placed if p]


def test_every_problem_of_a_spec_is_listed_with_its_place() -> None:
    spec = default_layout_spec(BREAST)
    spec["rows"] = [r for r in spec["rows"] if r["columns"][0][0] not in ({"type": "signatures"},)]
    spec["rows"][0]["columns"].append([{"type": "banner"}])
    spec["rows"][1]["columns"] += [[], []]
    spec["rows"].append({"columns": [[{"type": "section", "section": "no_such_section"}]]})
    spec["rows"].append({"columns": [[{"type": "section", "section": "tumour"}]]})
    spec["rows"].append({"columns": [[{"type": "comment", "element": "tumour_size_mm"}]]})

    problems = layout_spec_problems(spec, BREAST)

    assert "layout: rows[0].columns[1][0]: unknown block type 'banner'" in problems[0]
    assert any(p.startswith("layout: rows[1]: needs columns") for p in problems)
    assert any("'no_such_section' is not in the dataset" in p for p in problems)
    assert any("'tumour_size_mm' is not a text element" in p for p in problems)
    assert any("signatures block must appear once (0 found)" in p for p in problems)
    assert any("section 'tumour'" in p and "(2 found)" in p for p in problems)


def test_a_title_cannot_smuggle_template_code_into_the_layout() -> None:
    spec = default_layout_spec(BREAST)
    evil = "{% for x in range(10**9) %}{{ x }}{% endfor %}{# #}"
    spec["rows"].insert(
        0, {"columns": [[{"type": "diagnosis", "elements": [], "title": {"en": evil}}]]}
    )
    assert layout_spec_problems(spec, BREAST) == []
    source = layout_html_from_spec(spec)
    assert "{% for x" not in source
    assert "range(10" in source  # still there, as text inside a string literal


def preview(client: Client, spec: Any, language: str = "en", **extra: Any) -> Any:
    body = {
        "dataset": DATASET,
        "layout_spec": spec,
        "values": SAMPLE,
        "language": language,
        "format": "pdf",
        **extra,
    }
    return client.post(URL, body, content_type="application/json")


@pytest.mark.django_db
def test_a_two_column_layout_with_a_page_break_prints_through_the_renderer(admin: User) -> None:
    client = Client()
    client.force_login(admin)
    spec = two_column_spec()
    spec["rows"].insert(
        0,
        {
            "columns": [
                [{"type": "diagnosis", "elements": [], "title": {"en": "{{ 7 * 6 }} <b>x</b>"}}]
            ]
        },
    )

    response = preview(client, spec)

    assert response.status_code == 200, response.content
    reader = read_pdf(response.content)
    pages = [page.extract_text() or "" for page in reader.pages]
    assert len(pages) >= 2
    last = pages[-1]
    # The biomarkers section and the signature block follow the page break.
    assert "Biomarkers" in last or "biomarker" in last.lower()
    assert "Not signed" in last or "not signed" in last.lower()
    first = pages[0]
    assert "Final diagnosis" in first
    assert "{{ 7 * 6 }} <b>x</b>" in first  # printed as text, never evaluated
    assert "Sample Patient" in first
    assert "Invasive carcinoma of no special type" in text_of(reader)


@pytest.mark.django_db
def test_a_chinese_preview_prints_the_designed_diagnosis_title(admin: User) -> None:
    client = Client()
    client.force_login(admin)
    response = preview(client, two_column_spec(), language="zh")
    assert response.status_code == 200, response.content
    assert "病理诊断" in text_of(read_pdf(response.content))


@pytest.mark.django_db
def test_a_preview_of_an_invalid_spec_lists_its_problems(admin: User) -> None:
    client = Client()
    client.force_login(admin)
    spec = copy.deepcopy(default_layout_spec(BREAST))
    spec["rows"].append({"columns": [[{"type": "section", "section": "ghost"}]]})
    response = preview(client, spec)
    assert response.status_code == 400
    assert any("'ghost' is not in the dataset" in p for p in response.json()["problems"])


@pytest.mark.django_db
def test_a_spec_and_a_custom_layout_together_are_refused(admin: User) -> None:
    client = Client()
    client.force_login(admin)
    response = preview(client, default_layout_spec(BREAST), layout_html="<p>mine</p>")
    assert response.status_code == 400
    assert any("not both" in p for p in response.json()["problems"])


def test_model_sourced_values_need_their_own_block() -> None:
    spec = default_layout_spec(BREAST)
    assert {"columns": [[{"type": "ai_values"}]]} in spec["rows"]
    spec["rows"].remove({"columns": [[{"type": "ai_values"}]]})
    problems = layout_spec_problems(spec, BREAST)
    assert any("ai_values block must appear once (0 found)" in p for p in problems)


@pytest.mark.django_db
def test_the_ai_values_block_prints_the_model_values_apart(admin: User) -> None:
    client = Client()
    client.force_login(admin)
    values = {**SAMPLE, "ki67_index": 23.5}
    response = client.post(
        URL,
        {
            "dataset": DATASET,
            "layout_spec": two_column_spec(),
            "values": values,
            "language": "en",
            "format": "pdf",
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    text = text_of(read_pdf(response.content))
    assert "23.5" in text
