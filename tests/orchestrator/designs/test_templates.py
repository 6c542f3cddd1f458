"""Template version services: one draft, publish, new drafts, diffs, export and import."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from orchestrator.accounts.models import Department, User
from orchestrator.audit.models import AuditEvent
from orchestrator.designs import services
from orchestrator.designs.models import PublishedVersionImmutable, TemplateVersion, VersionStatus
from orchestrator.designs.templates import (
    TemplateContent,
    TemplateInvalid,
    create_template,
    diff_versions,
    discard_draft,
    draft_of,
    export_version,
    findings_problems_for,
    import_template_folder,
    new_draft_from,
    publish_version,
    save_draft,
)

pytestmark = pytest.mark.django_db
BREAST = Path(settings.REPORT_LIBRARY_DIR) / "breast-carcinoma"


def breast_dataset() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((BREAST / "dataset.json").read_text(encoding="utf-8"))
    return data


def with_new_element(dataset: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(dataset)
    changed["sections"][0]["elements"].append(
        {"id": "specimen_weight_g", "type": "number", "unit": "g", "min": 0, "precision": 0,
         "label": {"zh": "标本重量", "en": "Specimen weight"}}
    )  # fmt: skip
    return changed


def audit_actions() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


@pytest.fixture
def published(department: Department, admin: User) -> TemplateVersion:
    return services.import_template_dir(department, BREAST, user=admin)


def test_the_library_folder_imports_as_a_published_version_and_is_reused(
    department: Department, admin: User
) -> None:
    first = import_template_folder(department, BREAST, user=admin)
    again = import_template_folder(department, BREAST, user=admin)

    assert first.outcome == "created"
    assert (first.version.number, first.version.status) == (1, VersionStatus.PUBLISHED)
    assert first.version.template.slug == "breast-carcinoma"
    assert first.version.template.name == "Invasive breast carcinoma — synoptic report"
    assert again.outcome == "reused"
    assert again.version.pk == first.version.pk
    assert first.warnings == again.warnings == ()
    assert audit_actions() == ["template.imported"]


def test_a_draft_is_created_once_then_updated_and_listed_problems_block_a_broken_one(
    published: TemplateVersion, admin: User
) -> None:
    template = published.template
    new_dataset = TemplateContent(with_new_element(breast_dataset()))
    draft, created = save_draft(template, new_dataset, user=admin)
    broken = with_new_element(breast_dataset())
    broken["sections"][0]["elements"][-1].update(min=10, max=1, type="number")
    broken["sections"][1]["elements"][0]["answers"] = []

    with pytest.raises(TemplateInvalid) as refused:
        save_draft(template, TemplateContent(broken, "{% if %}"), user=admin)
    with_layout = TemplateContent(breast_dataset(), "<p>{{ x }}</p>")
    again, created_again = save_draft(template, with_layout, user=admin)

    assert (created, draft.number, draft.status) == (True, 2, VersionStatus.DRAFT)
    assert refused.value.problems == [
        "dataset.json: section 'specimen' element 'specimen_weight_g': min 10 is greater than "
        "max 1",
        "dataset.json: section 'tumour' element 'histologic_type': a select element needs answers",
        "layout.html.j2 line 1: Expected an expression, got 'end of statement block'",
    ]
    assert (created_again, again.pk) == (False, draft.pk)
    again.refresh_from_db()
    assert again.layout_html == "<p>{{ x }}</p>"
    assert template.versions.filter(status=VersionStatus.DRAFT).count() == 1
    assert audit_actions()[-2:] == ["template.draft_saved", "template.draft_saved"]


def test_a_dataset_slug_must_match_its_template(published: TemplateVersion) -> None:
    dataset = breast_dataset()
    dataset["slug"] = "lung-carcinoma"

    with pytest.raises(TemplateInvalid) as refused:
        save_draft(published.template, TemplateContent(dataset))

    assert refused.value.problems == [
        "dataset.json: slug 'lung-carcinoma' is not this template's 'breast-carcinoma'"
    ]


def test_publishing_freezes_the_draft(published: TemplateVersion, admin: User) -> None:
    draft, _ = save_draft(published.template, TemplateContent(with_new_element(breast_dataset())))

    publish_version(draft, user=admin)

    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED
    assert draft.published_at is not None
    assert draft_of(published.template) is None
    draft.layout_css = "body { color: red }"
    with pytest.raises(PublishedVersionImmutable):
        draft.save()
    with pytest.raises(TemplateInvalid, match="already published"):
        publish_version(draft)
    event = AuditEvent.objects.filter(action="template.published").get()
    assert event.actor == admin
    assert event.detail == {"slug": "breast-carcinoma", "number": 2}


def test_a_new_draft_starts_from_a_published_version_and_only_one_may_exist(
    published: TemplateVersion, admin: User
) -> None:
    draft = new_draft_from(published, user=admin)

    with pytest.raises(TemplateInvalid) as refused:
        new_draft_from(published, user=admin)

    assert (draft.number, draft.status, draft.dataset) == (2, "draft", published.dataset)
    assert refused.value.problems == [
        "template 'breast-carcinoma' already has a draft (v2); edit, publish or discard it first"
    ]
    discard_draft(draft, user=admin)
    assert draft_of(published.template) is None
    assert audit_actions()[-2:] == ["template.draft_created", "template.draft_discarded"]
    with pytest.raises(TemplateInvalid, match="never deleted"):
        discard_draft(published)


def test_the_diff_between_versions_names_dataset_and_layout_changes(
    published: TemplateVersion,
) -> None:
    draft, _ = save_draft(
        published.template,
        TemplateContent(with_new_element(breast_dataset()), layout_css="h2 { color: navy }"),
    )

    diff = diff_versions(published, draft)

    assert diff.summary() == [
        "element 'specimen_weight_g' added",
        "the layout CSS (layout.css) changed",
    ]
    assert diff.as_dict()["from"] == 1
    assert diff.as_dict()["elements_added"] == ("specimen_weight_g",)
    assert diff_versions(published, published).summary() == ["no changes"]


def test_an_exported_version_imports_back_into_another_department_unchanged(
    published: TemplateVersion, other_department: Department, tmp_path: Path
) -> None:
    draft, _ = save_draft(
        published.template,
        TemplateContent(breast_dataset(), "<h1>{{ report.title }}</h1>", "h1 { margin: 0 }"),
    )
    publish_version(draft)

    written = export_version(draft, tmp_path / "out")
    result = import_template_folder(other_department, tmp_path / "out")

    assert sorted(p.name for p in written) == [
        "dataset.json",
        "layout.css",
        "layout.html.j2",
        "template.json",
    ]
    manifest = json.loads((tmp_path / "out" / "template.json").read_text(encoding="utf-8"))
    assert {k: manifest[k] for k in ("schema_version", "slug", "version", "status")} == {
        "schema_version": 1,
        "slug": "breast-carcinoma",
        "version": 2,
        "status": "published",
    }
    imported = result.version
    assert (result.outcome, imported.number, imported.template.department) == (
        "created",
        1,
        other_department,
    )
    assert TemplateContent.of(imported) == TemplateContent.of(draft)
    assert imported.template.name == published.template.name


def test_exporting_a_version_without_a_layout_removes_a_stale_one(
    published: TemplateVersion, tmp_path: Path
) -> None:
    draft, _ = save_draft(published.template, TemplateContent(breast_dataset(), "<p>old</p>"))
    export_version(draft, tmp_path)

    export_version(published, tmp_path)

    assert not (tmp_path / "layout.html.j2").exists()
    assert json.loads((tmp_path / "template.json").read_text())["version"] == 1


def test_it_refuses_to_export_into_a_folder_holding_other_files(
    published: TemplateVersion, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("mine")

    with pytest.raises(TemplateInvalid, match=r"is not empty and holds no template\.json"):
        export_version(published, tmp_path)
    assert not (tmp_path / "dataset.json").exists()


@pytest.mark.parametrize(
    ("schema_version", "warning"),
    [
        (2, "schema_version 2 is newer than this Pathflow reads (1); fields it does not know"),
        (0, "schema_version 0 is older than this Pathflow writes (1); read as 1"),
        ("one", "no integer schema_version; read as 1"),
    ],
)
def test_a_manifest_schema_version_it_does_not_write_is_a_warning_not_a_failure(
    published: TemplateVersion, tmp_path: Path, schema_version: Any, warning: str
) -> None:
    export_version(published, tmp_path)
    manifest = json.loads((tmp_path / "template.json").read_text())
    manifest.update(schema_version=schema_version, future_field={"x": 1})
    (tmp_path / "template.json").write_text(json.dumps(manifest))

    result = import_template_folder(published.template.department, tmp_path)

    assert result.outcome == "reused"
    assert len(result.warnings) == 1
    assert warning in result.warnings[0]


def test_importing_a_broken_folder_lists_every_problem_and_changes_nothing(
    published: TemplateVersion, tmp_path: Path
) -> None:
    dataset = breast_dataset()
    dataset["sections"][0]["elements"][0]["type"] = "dropdown"
    dataset["sections"][2]["elements"][0]["visible_if"] = "not_an_element > 1"
    (tmp_path / "dataset.json").write_text(json.dumps(dataset))
    (tmp_path / "template.json").write_text(json.dumps({"schema_version": 1, "slug": "lung"}))

    with pytest.raises(TemplateInvalid) as refused:
        import_template_folder(published.template.department, tmp_path)

    problems = refused.value.problems
    assert len(problems) == 3
    assert "slug 'lung' differs from the dataset's slug 'breast-carcinoma'" in problems[0]
    assert "element 'procedure': type 'dropdown' is not one of" in problems[1]
    assert "names 'not_an_element', which is not an element of this dataset" in problems[2]
    assert TemplateVersion.objects.count() == 1


def test_a_folder_without_a_readable_dataset_names_the_file(
    department: Department, tmp_path: Path
) -> None:
    (tmp_path / "dataset.json").write_text("{not json")

    with pytest.raises(TemplateInvalid) as refused:
        import_template_folder(department, tmp_path)

    assert refused.value.problems[0].startswith(f"{tmp_path / 'dataset.json'}: is not valid JSON")


def test_importing_over_a_different_draft_replaces_it_only_when_importing_a_draft(
    published: TemplateVersion, admin: User, tmp_path: Path
) -> None:
    draft, _ = save_draft(published.template, TemplateContent(with_new_element(breast_dataset())))
    (tmp_path / "dataset.json").write_text(json.dumps(breast_dataset()))
    (tmp_path / "layout.css").write_text("h2 { color: teal }")

    with pytest.raises(TemplateInvalid) as refused:
        import_template_folder(published.template.department, tmp_path, user=admin)
    replaced = import_template_folder(
        published.template.department, tmp_path, user=admin, publish=False
    )
    published_now = import_template_folder(published.template.department, tmp_path, user=admin)

    assert (
        "has an unpublished draft (v2) that differs from this folder" in refused.value.problems[0]
    )
    assert (replaced.outcome, replaced.version.pk) == ("draft replaced", draft.pk)
    assert replaced.version.layout_css == "h2 { color: teal }"
    assert (published_now.outcome, published_now.version.pk) == ("draft published", draft.pk)
    assert published_now.version.status == VersionStatus.PUBLISHED


def test_filled_values_are_checked_against_the_version(published: TemplateVersion) -> None:
    problems = findings_problems_for(
        published, {"tumour_size_mm": 18.25, "colour": "red"}, complete=False
    )

    assert [str(p) for p in problems] == [
        "colour: is not an element of this template",
        "tumour_size_mm: 18.25 mm has 2 decimal places; none allowed",
    ]


@pytest.mark.parametrize("slug", ["/etc", "../x", "a/b", "", "é"])
def test_a_slug_that_is_not_a_plain_name_is_refused_at_import_and_at_creation(
    department: Department, tmp_path: Path, slug: str
) -> None:
    """A manifest slug names the template's asset folder: "/etc" once made /etc its assets."""
    dataset = breast_dataset()
    dataset.pop("slug", None)
    folder = tmp_path / "evil"
    folder.mkdir()
    (folder / "dataset.json").write_text(json.dumps(dataset), encoding="utf-8")
    manifest = {"schema_version": 1, "slug": slug, "name": "x"}
    (folder / "template.json").write_text(json.dumps(manifest), encoding="utf-8")

    if slug:  # an empty manifest slug falls back to the folder's name
        with pytest.raises(TemplateInvalid, match="letters, digits, hyphens"):
            import_template_folder(department, folder)
    with pytest.raises(TemplateInvalid, match="letters, digits, hyphens"):
        create_template(department, slug, "x", TemplateContent(dataset))
    assert not department.templates.filter(slug=slug).exists()


def test_crlf_line_ends_in_a_layout_survive_an_export_and_import(
    published: TemplateVersion, tmp_path: Path
) -> None:
    draft, _ = save_draft(
        published.template,
        TemplateContent(breast_dataset(), "<p>a</p>\r\n<p>b</p>\r\n", "p { color: red }\r\n"),
    )
    publish_version(draft)
    export_version(draft, tmp_path / "out")

    result = import_template_folder(published.template.department, tmp_path / "out")

    assert (result.outcome, result.version.pk) == ("reused", draft.pk)
    assert result.version.layout_html == "<p>a</p>\r\n<p>b</p>\r\n"
