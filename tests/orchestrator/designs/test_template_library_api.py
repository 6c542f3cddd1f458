"""Starting from the library: admins clone a library template into their department as a draft
with a designed layout, then edit, preview and publish it like any other template."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from pypdf import PdfReader

from orchestrator.accounts.models import User
from orchestrator.audit.models import AuditEvent
from orchestrator.designs.models import ReportTemplate, VersionStatus
from orchestrator.designs.templates import export_version, read_template_dir

pytestmark = pytest.mark.django_db
LIBRARY = "/api/v1/template-library/"


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_json(client: Client, url: str, body: Any = None) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def test_the_library_lists_its_templates_in_both_languages(pathologist: User) -> None:
    listed = {t["slug"]: t for t in logged_in(pathologist).get(LIBRARY).json()}
    folders = {
        p.parent.name
        for p in Path(settings.REPORT_LIBRARY_DIR).glob("*/dataset.json")
        if not p.parent.name.startswith("_")
    }
    assert set(listed) == folders
    breast = listed["breast-carcinoma"]
    assert breast["title_en"]
    assert breast["title_zh"]
    assert breast["sections"] == 9


def test_an_admin_clones_a_library_template_as_a_draft_with_a_designed_layout(
    admin: User,
) -> None:
    client = logged_in(admin)
    answer = post_json(
        client,
        f"{LIBRARY}breast-carcinoma/clone/",
        {"slug": "breast-ours", "name": "Breast (ours)"},
    )
    assert answer.status_code == 201, answer.json()
    draft = answer.json()
    assert draft["status"] == VersionStatus.DRAFT
    assert draft["dataset"]["slug"] == "breast-ours"
    blocks = [b["type"] for row in draft["layout_spec"]["rows"] for b in row["columns"][0]]
    assert blocks[:3] == ["letterhead", "patient", "specimens"]
    assert ReportTemplate.objects.get(slug="breast-ours").department == admin.department
    assert AuditEvent.objects.filter(action="template.cloned").count() == 1
    published = post_json(client, "/api/v1/templates/breast-ours/versions/1/publish/")
    assert published.status_code == 200
    preview = post_json(
        client,
        "/api/v1/templates/preview",
        {"template_version": _version_id("breast-ours"), "language": "en", "values": {}},
    )
    assert preview.status_code == 200
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(preview.content)).pages)
    assert "Sample Patient" in text


def _version_id(slug: str) -> int:
    return ReportTemplate.objects.get(slug=slug).versions.get(number=1).pk


def test_a_clone_refuses_a_taken_slug_and_an_unknown_library_template(admin: User) -> None:
    client = logged_in(admin)
    body = {"slug": "breast-ours", "name": "Breast"}
    assert post_json(client, f"{LIBRARY}breast-carcinoma/clone/", body).status_code == 201
    again = post_json(client, f"{LIBRARY}breast-carcinoma/clone/", body)
    assert again.status_code == 400
    assert "already exists" in again.json()["problems"][0]
    unknown = post_json(client, f"{LIBRARY}no-such/clone/", {"slug": "x", "name": "x"})
    assert unknown.status_code == 400
    assert "'no-such' does not exist" in unknown.json()["problems"][0]


def test_a_pathologist_may_not_clone(pathologist: User) -> None:
    answer = post_json(
        logged_in(pathologist), f"{LIBRARY}breast-carcinoma/clone/", {"slug": "b", "name": "b"}
    )
    assert answer.status_code == 403
    assert not ReportTemplate.objects.exists()
    assert AuditEvent.objects.filter(action="template.denied").count() == 1


def test_a_designed_layout_survives_export_and_import(admin: User, tmp_path: Path) -> None:
    post_json(
        logged_in(admin), f"{LIBRARY}breast-carcinoma/clone/", {"slug": "breast-ours", "name": "B"}
    )
    version = ReportTemplate.objects.get(slug="breast-ours").versions.get()
    written = export_version(version, tmp_path / "out", user=admin)
    assert "layout.json" in {p.name for p in written}
    read = read_template_dir(tmp_path / "out")
    assert read.content.layout_spec == version.layout_spec
