"""The template API: department scoping, who may change what, drafts, publish, diff, validate."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import Resolver404, resolve
from pytest_django import DjangoAssertNumQueries

from orchestrator.accounts.models import Department, User
from orchestrator.audit.models import AuditEvent
from orchestrator.designs.models import TemplateVersion, VersionStatus
from orchestrator.designs.templates import import_template_dir

pytestmark = pytest.mark.django_db
BREAST = Path(settings.REPORT_LIBRARY_DIR) / "breast-carcinoma"
API = "/api/v1/templates"


def breast_dataset() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((BREAST / "dataset.json").read_text(encoding="utf-8"))
    return data


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def put_json(client: Client, url: str, body: Any) -> Any:
    return client.put(url, json.dumps(body), content_type="application/json")


def post_json(client: Client, url: str, body: Any = None) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def breast(department: Department) -> TemplateVersion:
    return import_template_dir(department, BREAST)


@pytest.fixture
def theirs(other_department: Department) -> TemplateVersion:
    return import_template_dir(other_department, BREAST)


def test_a_pathologist_sees_only_the_templates_of_their_department(
    breast: TemplateVersion,
    theirs: TemplateVersion,
    pathologist: User,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    client = logged_in(pathologist)
    client.get("/api/v1/me")  # the session and user are loaded before counting

    with django_assert_num_queries(4):  # session, user, count, templates with version numbers
        listed = client.get(f"{API}/").json()

    assert listed["count"] == 1
    assert listed["results"] == [
        {
            "slug": "breast-carcinoma",
            "name": "Invasive breast carcinoma — synoptic report",
            "latest_published": 1,
            "draft": None,
            "version_count": 1,
        }
    ]
    version = client.get(f"{API}/breast-carcinoma/versions/1/").json()
    assert version["status"] == "published"
    assert version["dataset"] == breast_dataset()
    assert version["layout_html"] == ""


def test_another_departments_template_is_not_found(
    theirs: TemplateVersion, pathologist: User, other_department_pathologist: User
) -> None:
    assert logged_in(pathologist).get(f"{API}/breast-carcinoma/versions/").status_code == 404
    outsider = logged_in(other_department_pathologist)
    assert outsider.get(f"{API}/breast-carcinoma/").status_code == 200


def test_only_admins_change_templates_and_clinicians_do_not_read_them(
    breast: TemplateVersion, pathologist: User, clinician: User
) -> None:
    body = {"dataset": breast_dataset()}

    reader = logged_in(pathologist)

    assert put_json(reader, f"{API}/breast-carcinoma/draft/", body).status_code == 403
    assert post_json(reader, f"{API}/breast-carcinoma/versions/1/new-draft/").status_code == 403
    assert logged_in(clinician).get(f"{API}/").status_code == 403
    assert Client().get(f"{API}/").status_code == 403
    assert breast.template.versions.count() == 1
    # Every refusal of a signed-in user is audited, naming what was attempted.
    denials = AuditEvent.objects.filter(action="template.denied").order_by("id")
    assert [(e.actor, e.detail["attempted"], e.detail["slug"]) for e in denials] == [
        (pathologist, "PUT draft", "breast-carcinoma"),
        (pathologist, "POST new_draft", "breast-carcinoma"),
        (clinician, "GET list", ""),
    ]


def test_an_admin_drafts_edits_and_publishes_a_new_version(
    breast: TemplateVersion, admin: User
) -> None:
    client = logged_in(admin)
    dataset = breast_dataset()
    dataset["sections"][0]["elements"][1]["answers"].append(
        {"system": "pathflow", "code": "bilateral", "label": {"zh": "双侧", "en": "Both sides"}}
    )

    created = put_json(client, f"{API}/breast-carcinoma/draft/", {"dataset": breast_dataset()})
    updated = put_json(
        client, f"{API}/breast-carcinoma/draft/", {"dataset": dataset, "layout_css": "h2 {}"}
    )
    diff = client.get(f"{API}/breast-carcinoma/diff/?from=1&to=2").json()
    published = post_json(client, f"{API}/breast-carcinoma/versions/2/publish/")
    versions = client.get(f"{API}/breast-carcinoma/versions/").json()

    assert (created.status_code, created.json()["number"]) == (201, 2)
    assert (updated.status_code, updated.json()["layout_css"]) == (200, "h2 {}")
    assert diff["summary"] == [
        "element 'specimen_laterality': answers added: 'bilateral'",
        "the layout CSS (layout.css) changed",
    ]
    assert diff["changes"][0]["after"] == ["bilateral"]
    assert (published.status_code, published.json()["status"]) == (200, "published")
    assert [(v["number"], v["status"], v["created_by"]) for v in versions] == [
        (2, "published", "admin"),
        (1, "published", None),
    ]
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
        "template.draft_saved",
        "template.published",
    }


def test_a_broken_draft_is_refused_with_every_problem(breast: TemplateVersion, admin: User) -> None:
    dataset = breast_dataset()
    tumour = dataset["sections"][1]["elements"]
    tumour[0]["answers"].append(copy.deepcopy(tumour[0]["answers"][0]))  # duplicate code
    tumour[1]["visible_if"] = "histologic_type =="
    tumour[6]["min"], tumour[6]["max"] = 50, 5  # tumour_size_mm

    response = put_json(logged_in(admin), f"{API}/breast-carcinoma/draft/", {"dataset": dataset})

    assert response.status_code == 400
    problems = response.json()["problems"]
    assert len(problems) == 3
    assert "answer code 'invasive_nst' is listed twice" in problems[0]
    assert "visible_if 'histologic_type ==' does not compile" in problems[1]
    assert "element 'tumour_size_mm': min 50 is greater than max 5" in problems[2]
    assert breast.template.versions.count() == 1


def test_publishing_a_published_version_or_drafting_twice_is_refused(
    breast: TemplateVersion, admin: User
) -> None:
    client = logged_in(admin)

    again = post_json(client, f"{API}/breast-carcinoma/versions/1/publish/")
    first = post_json(client, f"{API}/breast-carcinoma/versions/1/new-draft/")
    second = post_json(client, f"{API}/breast-carcinoma/versions/1/new-draft/")
    discarded = client.delete(f"{API}/breast-carcinoma/draft/")

    assert again.status_code == 400
    assert again.json() == {"problems": ["breast-carcinoma v1 is already published"]}
    assert (first.status_code, first.json()["status"], first.json()["number"]) == (201, "draft", 2)
    assert second.status_code == 400
    assert "already has a draft (v2)" in second.json()["problems"][0]
    assert discarded.status_code == 204
    assert not breast.template.versions.filter(status=VersionStatus.DRAFT).exists()


def test_an_admin_creates_a_template_with_its_first_draft(admin: User) -> None:
    dataset = breast_dataset()
    dataset["slug"] = "breast-short"
    body = {"slug": "breast-short", "name": "Breast (short)", "dataset": dataset}

    created = post_json(logged_in(admin), f"{API}/", body)
    clash = post_json(logged_in(admin), f"{API}/", body)
    reserved = post_json(logged_in(admin), f"{API}/", {**body, "slug": "preview"})

    assert created.status_code == 201
    assert (created.json()["slug"], created.json()["number"], created.json()["status"]) == (
        "breast-short",
        1,
        "draft",
    )
    assert clash.json() == {
        "problems": ["template 'breast-short' already exists in this department"]
    }
    assert reserved.status_code == 400
    assert "reserved" in reserved.json()["slug"][0]


def test_a_pathologist_validates_filled_values_and_gets_every_problem(
    breast: TemplateVersion, pathologist: User
) -> None:
    values = {
        "procedure": "lumpectomy",
        "tumour_size_mm": 18.25,
        "dcis_present": "no",
        "procedure_date": "2025-02-30",
        "colour": "red",
    }
    url = f"{API}/breast-carcinoma/versions/1/validate/"

    draft = post_json(logged_in(pathologist), url, {"values": values}).json()
    complete = post_json(logged_in(pathologist), url, {"values": values, "complete": True}).json()

    assert draft["valid"] is False
    assert [(p["element_id"], p["reason"]) for p in draft["problems"]] == [
        ("colour", "is not an element of this template"),
        ("procedure_date", "'2025-02-30' is not a real date"),
        ("tumour_size_mm", "18.25 mm has 2 decimal places; none allowed"),
        ("dcis_present", "'no' is not true or false"),
    ]
    assert {(p["rule_id"], tuple(p["elements"])) for p in draft["problems"][:1]} == {
        (None, ("colour",))
    }
    missing = {p["element_id"] for p in complete["problems"] if p["reason"] == "is required"}
    assert "specimen_laterality" in missing
    assert "dcis_nuclear_grade" not in missing  # undecided while dcis_present is invalid
    sample = json.loads((BREAST / "sample_findings.json").read_text(encoding="utf-8"))
    ok = post_json(logged_in(pathologist), url, {"values": sample, "complete": True}).json()
    assert ok == {"valid": True, "problems": []}


def test_a_diff_needs_two_existing_version_numbers(breast: TemplateVersion, admin: User) -> None:
    client = logged_in(admin)

    bad = client.get(f"{API}/breast-carcinoma/diff/?from=1&to=x")
    missing = client.get(f"{API}/breast-carcinoma/diff/?from=1&to=9")

    # The query check refuses it before the view: the parameter is documented as an integer.
    assert bad.status_code == 400
    assert bad.json()["problems"] == ["to: must be a whole number"]
    assert missing.status_code == 404


def test_the_openapi_schema_describes_the_template_api(admin: User) -> None:
    response = logged_in(admin).get("/api/v1/schema?format=json")

    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    assert "/api/v1/templates/{slug}/draft/" in paths
    assert set(paths["/api/v1/templates/{slug}/draft/"]) >= {"put", "delete"}
    assert "post" in paths["/api/v1/templates/{slug}/versions/{number}/validate/"]
    assert "/api/v1/templates/{slug}/diff/" in paths


def test_the_template_routes_leave_templates_preview_to_the_preview_endpoint() -> None:
    assert resolve(f"{API}/breast-carcinoma/").url_name == "template-detail"
    try:
        match = resolve(f"{API}/preview/")
    except Resolver404:
        return
    assert not match.url_name or not match.url_name.startswith("template-")


@pytest.mark.parametrize("number", ["²", "١", "9" * 20])
def test_a_diff_version_number_is_ascii_digits_of_a_sane_length(
    breast: TemplateVersion, admin: User, number: str
) -> None:
    response = logged_in(admin).get(f"{API}/breast-carcinoma/diff/", {"from": number, "to": "1"})

    assert response.status_code == 400
    assert response.json()["problems"] == ["from: must be a whole number"]


def test_hostile_numbers_and_nesting_in_a_new_template_are_listed_problems(admin: User) -> None:
    dataset = breast_dataset()
    dataset["slug"] = "breast-hostile"
    elements = [e for section in dataset["sections"] for e in section["elements"]]
    next(e for e in elements if e["type"] == "number")["min"] = 10**400
    elements[1]["visible_if"] = "(" * 3000 + "1" + ")" * 3000
    layout = "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}"
    body = {"slug": "breast-hostile", "name": "x", "dataset": dataset, "layout_html": layout}

    response = post_json(logged_in(admin), f"{API}/", body)

    assert response.status_code == 400
    problems = " ".join(response.json()["problems"])
    assert "min must be a number, not 1000" in problems
    assert problems.count("too deeply nested") == 2  # the condition and the layout


def test_validating_a_number_beyond_float_range_is_a_problem(
    breast: TemplateVersion, pathologist: User
) -> None:
    url = f"{API}/breast-carcinoma/versions/1/validate/"

    response = post_json(logged_in(pathologist), url, {"values": {"tumour_size_mm": 10**400}})

    assert response.json()["problems"] == [
        {
            "element_id": "tumour_size_mm",
            "reason": "10000000000000000000…(401 characters) is too large a number",
            "rule_id": None,
            "elements": ["tumour_size_mm"],
        }
    ]
