"""`manage.py import_template` / `export_template`, as real processes and via call_command."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from orchestrator.accounts.models import Department
from orchestrator.audit.models import AuditEvent
from orchestrator.designs.models import ReportTemplate, TemplateVersion, VersionStatus
from tests.conftest import manage

BREAST = Path(settings.REPORT_LIBRARY_DIR) / "breast-carcinoma"


@pytest.mark.django_db(transaction=True)
def test_import_then_export_round_trip_in_real_processes(
    department: Department, process_env: dict[str, str], tmp_path: Path
) -> None:
    created = manage(process_env, "import_template", str(BREAST))
    reused = manage(process_env, "import_template", str(BREAST), "--department", "pathology")
    exported = manage(process_env, "export_template", "breast-carcinoma", "--out", str(tmp_path))

    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "template 'breast-carcinoma' v1 (published): created"
    assert reused.stdout.strip() == (
        "template 'breast-carcinoma' v1 (published): reused (identical to the latest version)"
    )
    assert exported.returncode == 0, exported.stderr
    assert "exported template 'breast-carcinoma' v1 (published)" in exported.stdout
    assert json.loads((tmp_path / "dataset.json").read_text(encoding="utf-8")) == json.loads(
        (BREAST / "dataset.json").read_text(encoding="utf-8")
    )
    assert json.loads((tmp_path / "template.json").read_text())["version"] == 1
    assert TemplateVersion.objects.count() == 1
    audit = {e.action: e.actor_label for e in AuditEvent.objects.all()}
    assert audit == {
        "template.imported": "manage.py import_template",
        "template.exported": "manage.py export_template",
    }


@pytest.mark.django_db(transaction=True)
def test_a_broken_folder_prints_every_problem_and_exits_non_zero(
    department: Department, process_env: dict[str, str], tmp_path: Path
) -> None:
    dataset = json.loads((BREAST / "dataset.json").read_text(encoding="utf-8"))
    dataset["sections"][0]["elements"][0]["answers"] = []
    dataset["sections"][1]["elements"][6]["precision"] = -2
    (tmp_path / "dataset.json").write_text(json.dumps(dataset), encoding="utf-8")
    (tmp_path / "layout.html.j2").write_text("{% for x in %}", encoding="utf-8")

    result = manage(process_env, "import_template", str(tmp_path))

    assert result.returncode != 0
    assert "was not imported; fix these problems" in result.stderr
    assert "element 'procedure': a select element needs answers" in result.stderr
    assert "element 'tumour_size_mm': precision (decimal places) must be 0 or more" in result.stderr
    assert "layout.html.j2 line 1:" in result.stderr
    assert not ReportTemplate.objects.exists()


@pytest.mark.django_db
def test_a_draft_import_and_a_newer_manifest_warn_and_report_the_version(
    department: Department, tmp_path: Path
) -> None:
    call_command("import_template", str(BREAST), stdout=StringIO())
    call_command("export_template", "breast-carcinoma", "--out", str(tmp_path), stdout=StringIO())
    manifest = json.loads((tmp_path / "template.json").read_text())
    (tmp_path / "template.json").write_text(json.dumps({**manifest, "schema_version": 3}))
    (tmp_path / "layout.css").write_text("h2 { color: teal }", encoding="utf-8")
    out, err = StringIO(), StringIO()

    call_command("import_template", str(tmp_path), "--draft", stdout=out, stderr=err)

    assert out.getvalue().strip() == "template 'breast-carcinoma' v2 (draft): created"
    assert "warning:" in err.getvalue()
    assert "schema_version 3 is newer than this Pathflow reads (1)" in err.getvalue()
    draft = TemplateVersion.objects.get(number=2)
    assert (draft.status, draft.layout_css) == (VersionStatus.DRAFT, "h2 { color: teal }")
    second = tmp_path / "second"
    call_command(
        "export_template",
        "breast-carcinoma",
        "--version",
        "2",
        "--out",
        str(second),
        stdout=StringIO(),
    )
    assert json.loads((second / "template.json").read_text())["status"] == "draft"
    assert (second / "layout.css").read_text() == "h2 { color: teal }"


@pytest.mark.django_db
def test_the_commands_name_what_is_missing(
    department: Department, other_department: Department, tmp_path: Path
) -> None:
    with pytest.raises(
        CommandError, match="several departments exist; choose one with --department"
    ):
        call_command("import_template", str(BREAST))
    with pytest.raises(CommandError, match="department 'nowhere' does not exist"):
        call_command("import_template", str(BREAST), "--department", "nowhere")
    call_command(
        "import_template", str(BREAST), "--department", "pathology", "--draft", stdout=StringIO()
    )
    with pytest.raises(CommandError, match="has no published version; pass --version N"):
        call_command(
            "export_template",
            "breast-carcinoma",
            "--department",
            "pathology",
            "--out",
            str(tmp_path),
        )
    with pytest.raises(CommandError, match=r"has no version 4 \(has: v1\)"):
        call_command(
            "export_template",
            "breast-carcinoma",
            "--department",
            "pathology",
            "--version",
            "4",
            "--out",
            str(tmp_path),
        )
    with pytest.raises(CommandError, match="template 'lung' does not exist in department 'other'"):
        call_command("export_template", "lung", "--department", "other", "--out", str(tmp_path))
