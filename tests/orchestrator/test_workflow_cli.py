"""`manage.py validate_workflow`, `export_workflow` and `import_workflow`, run as real processes
against the test database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.demo_data import DEMO_DIR, DemoData, load_demo_data
from orchestrator.designs.models import VersionStatus, Workflow
from tests.conftest import PASSWORD, manage, write_json
from workflows.datasets import parse_dataset

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]
DEMO_FILE = DEMO_DIR / "workflows" / "breast-resection-ki67.json"
DEMO_FILES = sorted((DEMO_DIR / "workflows").glob("*.json"))


@pytest.fixture
def demo_db(transactional_db: None) -> DemoData:
    return load_demo_data(PASSWORD, "http://127.0.0.1:9")


def exported(env: dict[str, str], *args: str) -> dict[str, Any]:
    result = manage(env, "export_workflow", "breast-resection-ki67", *args)
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def fields_node(document: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(n for n in document["graph"]["nodes"] if n["id"] == "fields")
    return found


def test_a_valid_graph_file_says_valid_and_exits_0(
    process_env: dict[str, str], tmp_path: Path
) -> None:
    graph = json.loads(DEMO_FILE.read_text())["graph"]

    result = manage(process_env, "validate_workflow", str(write_json(tmp_path / "g.json", graph)))

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "valid"


@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda p: p.name)
def test_every_shipped_demo_workflow_file_validates_and_imports_as_written(
    demo_db: DemoData, process_env: dict[str, str], path: Path
) -> None:
    """The files README names are export files that the CLI reads without any editing."""
    checked = manage(process_env, "validate_workflow", str(path))
    imported = manage(process_env, "import_workflow", str(path))

    assert checked.returncode == 0, checked.stdout + checked.stderr
    template = json.loads(path.read_text())["template"]["slug"]
    assert checked.stdout.strip() == f"valid (template {template} v1 checked)"
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "nothing imported" in imported.stdout + imported.stderr  # the demo loaded it already


def test_it_prints_every_problem_one_per_line_and_exits_1(
    process_env: dict[str, str], tmp_path: Path
) -> None:
    document = json.loads(DEMO_FILE.read_text())["graph"]
    next(n for n in document["nodes"] if n["id"] == "report")["config"]["language"] = "fr"
    document["edges"].append({"id": "e9", "source": "fields", "target": "nowhere"})
    document["edges"][1]["source_port"] = "results"

    result = manage(
        process_env, "validate_workflow", str(write_json(tmp_path / "bad.json", document))
    )

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "node 'report': config['language']: 'fr' is not one of ['zh', 'en']",
        "edge 'e2', port 'results': node 'triage' has no output port 'results'",
        "edge 'e9': target node 'nowhere' does not exist",
    ]
    assert "bad.json: 3 problem(s)" in result.stderr


def test_an_export_file_is_checked_against_the_template_it_names(
    demo_db: DemoData, process_env: dict[str, str], tmp_path: Path
) -> None:
    document = exported(process_env)
    assert document["template"] == {"slug": "breast-carcinoma", "version": 1}
    fields_node(document)["config"] = {"mapping": {"staging_edition": "'ajcc_8'"}}

    result = manage(
        process_env, "validate_workflow", str(write_json(tmp_path / "x.json", document))
    )

    assert result.returncode == 1
    dataset = parse_dataset(demo_db.workflow_version.template_version.dataset)
    unfilled = [
        e
        for e in dataset.elements()
        if e.required and not e.visible_if and e.id != "staging_edition"
    ]
    problems = [line for line in result.stdout.splitlines() if not line.startswith("warning:")]
    assert problems == [
        f"node 'report': required element '{e.id}' ({e.label['en']} / {e.label['zh']}) is "
        "filled by no node on a path to this render"
        for e in unfilled
    ]
    assert "warning: node 'report': element 'dcis_nuclear_grade'" in result.stdout


def test_import_publishes_a_complete_graph_and_refuses_an_incomplete_one(
    demo_db: DemoData, process_env: dict[str, str], tmp_path: Path
) -> None:
    document = exported(process_env, "--version", "1")
    config = fields_node(document)["config"]
    # Without base_fields nothing declares the pathologist's findings from the case.
    complete_fields = config.pop("base_fields")
    incomplete = write_json(tmp_path / "incomplete.json", document)

    refused = manage(process_env, "import_workflow", str(incomplete))

    assert refused.returncode == 1
    assert "node 'report': required element 'procedure' (Procedure / " in refused.stdout
    assert "nothing imported" in refused.stderr
    dataset = parse_dataset(demo_db.workflow_version.template_version.dataset)
    config["base_fields"] = [
        e.id
        for e in dataset.elements()
        if e.required and not e.visible_if and e.id not in config["mapping"]
    ]
    assert set(config["base_fields"]) <= set(complete_fields)

    result = manage(process_env, "import_workflow", str(write_json(tmp_path / "ok.json", document)))

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == "breast-resection-ki67 v2 (published)"
    workflow = Workflow.objects.get(slug="breast-resection-ki67")
    assert workflow.published_version() == workflow.versions.get(number=2)
    assert workflow.versions.get(number=2).spec == document["graph"]


def test_import_as_draft_saves_it_with_its_problems(
    demo_db: DemoData, process_env: dict[str, str], tmp_path: Path
) -> None:
    document = exported(process_env)
    del fields_node(document)["config"]["base_fields"]

    result = manage(
        process_env, "import_workflow", "--draft", str(write_json(tmp_path / "d.json", document))
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "breast-resection-ki67 v2 (draft)"
    assert "problem: node 'report': required element 'procedure'" in result.stdout
    workflow = Workflow.objects.get(slug="breast-resection-ki67")
    assert workflow.versions.get(number=2).status == VersionStatus.DRAFT


def test_import_names_a_template_that_does_not_exist(
    demo_db: DemoData, process_env: dict[str, str], tmp_path: Path
) -> None:
    document = exported(process_env)
    document["template"] = {"slug": "breast-carcinoma", "version": 7}

    result = manage(process_env, "import_workflow", str(write_json(tmp_path / "t.json", document)))

    assert result.returncode == 1
    assert "template 'breast-carcinoma' has no version 7 (known: 1)" in result.stderr


def test_export_names_an_unknown_workflow(demo_db: DemoData, process_env: dict[str, str]) -> None:
    result = manage(process_env, "export_workflow", "no-such-flow")

    assert result.returncode == 1
    assert "workflow 'no-such-flow' does not exist (known: " in result.stderr
    assert "breast-fna-cytology" in result.stderr
    assert "breast-resection-ki67" in result.stderr
