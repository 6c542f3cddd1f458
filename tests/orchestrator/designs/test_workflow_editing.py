"""What the workflow editor relies on: a stale draft is never saved over (409 naming who saved it
and when), publishing keeps a note, a workflow is created from a template's slug, and the test
bench's sample cases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from orchestrator.accounts.models import Department, Role, User
from orchestrator.audit.models import AuditEvent
from orchestrator.designs.models import TemplateVersion, Workflow
from orchestrator.designs.workflows import DraftConflict, draft_of, save_draft
from tests.factories import UserFactory
from tests.orchestrator.designs.test_workflow_versions import COMPLETE, graph, make_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def template_version(department: Department) -> TemplateVersion:
    return make_template(department)


@pytest.fixture
def colleague(department: Department) -> User:
    return UserFactory.create(
        username="colleague", display_name="Dr Chen", department=department, role=Role.ADMIN
    )


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def put(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.put(url, json.dumps(body), content_type="application/json")


def create(client: Client, **body: Any) -> Any:
    return client.post(
        "/api/v1/workflows",
        {"slug": "core", "name": "Core", "case_type": "breast-core", **body},
        content_type="application/json",
    )


def test_a_save_from_a_stale_copy_gets_409_naming_who_changed_the_draft_and_when(
    admin: User, colleague: User, template_version: TemplateVersion
) -> None:
    mine, theirs = logged_in(admin), logged_in(colleague)
    opened = create(mine, template="core-biopsy").json()["draft"]["updated_at"]

    saved = put(
        theirs,
        "/api/v1/workflows/core/draft",
        {"graph": graph({"procedure": "'theirs'"}), "base_updated_at": opened},
    )
    assert saved.status_code == 200, saved.json()
    assert saved.json()["updated_by"] == "Dr Chen"

    stale = put(
        mine,
        "/api/v1/workflows/core/draft",
        {"graph": graph({"procedure": "'mine'"}), "base_updated_at": opened},
    )
    assert stale.status_code == 409
    body = stale.json()
    assert body["updated_by"] == "Dr Chen"
    assert body["updated_at"] == saved.json()["updated_at"]
    assert "changed by Dr Chen" in body["detail"]
    # Nothing was overwritten, and the refusal is audited.
    draft = draft_of(Workflow.objects.get(slug="core"))
    assert draft is not None
    assert draft.spec == graph({"procedure": "'theirs'"})
    assert AuditEvent.objects.filter(action="workflow.draft_conflict", actor=admin).count() == 1

    fresh = put(
        mine,
        "/api/v1/workflows/core/draft",
        {"graph": graph({"procedure": "'mine'"}), "base_updated_at": saved.json()["updated_at"]},
    )
    assert fresh.status_code == 200
    assert fresh.json()["updated_by"] == str(admin)


def test_the_service_refuses_a_stale_save_and_saves_without_a_base(
    admin: User, colleague: User, template_version: TemplateVersion, department: Department
) -> None:
    client = logged_in(admin)
    create(client, template_version=template_version.pk)
    workflow = Workflow.objects.get(slug="core")
    draft = draft_of(workflow)
    assert draft is not None
    opened = draft.updated_at
    save_draft(workflow, graph(COMPLETE), user=colleague, expected_updated_at=opened)
    with pytest.raises(DraftConflict) as refused:
        save_draft(workflow, graph({}), user=admin, expected_updated_at=opened)
    assert refused.value.updated_by == str(colleague)
    # Files and the CLI save without a base: unconditional, as before.
    saved, _ = save_draft(workflow, graph({}), user=admin)
    assert saved.spec == graph({})


def test_publishing_keeps_the_note_shown_in_the_history(
    admin: User, template_version: TemplateVersion
) -> None:
    client = logged_in(admin)
    create(client, template="core-biopsy")
    put(client, "/api/v1/workflows/core/draft", {"graph": graph(COMPLETE)})

    published = client.post(
        "/api/v1/workflows/core/publish",
        {"note": "first version: Ki-67 from the lab"},
        content_type="application/json",
    )
    assert published.status_code == 201
    history = client.get("/api/v1/workflows/core/versions").json()
    assert [(v["number"], v["publish_note"]) for v in history] == [
        (1, "first version: Ki-67 from the lab")
    ]


def test_a_workflow_is_created_from_a_template_slug_or_refused_naming_it(
    admin: User, template_version: TemplateVersion, other_department: Department
) -> None:
    client = logged_in(admin)
    make_template(other_department, slug="theirs")

    assert create(client, template="theirs").json() == {
        "detail": "template 'theirs' does not exist in this department"
    }
    both = create(client, template="core-biopsy", template_version=template_version.pk)
    assert both.status_code == 400
    created = create(client, template="core-biopsy")
    assert created.status_code == 201
    assert created.json()["draft"]["template"] == {
        "id": template_version.pk,
        "slug": "core-biopsy",
        "version": 1,
    }


def test_the_test_bench_offers_the_sample_cases(pathologist: User) -> None:
    cases = logged_in(pathologist).get("/api/v1/sample-cases").json()
    assert [c["name"] for c in cases] == [
        "breast-fna-benign",
        "breast-fna-malignant",
        "breast-resection-no-ki67-slide",  # files sorted by name: "-" before "."
        "breast-resection",
    ]
    assert cases[1]["document"]["case_type"] == "breast-fna"
    assert cases[3]["document"]["case_type"] == "breast-resection"
