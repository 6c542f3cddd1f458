"""`manage.py run_case`: the one-shot CLI, run as a real process against the test database."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from orchestrator import devstack
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import DemoData
from orchestrator.reports.models import Report
from orchestrator.runs.models import Run, RunStatus
from tests.conftest import case_document, manage, pdf_text, write_json

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]


def run_case(
    env: dict[str, str], case: Path, out: Path, workflow: str = "breast-resection-ki67"
) -> subprocess.CompletedProcess[str]:
    command = ["run_case", "--workflow", workflow, "--case", str(case), "--out", str(out)]
    return manage(env, *command, timeout=180)


def write_case(tmp_path: Path, document: object) -> Path:
    return write_json(tmp_path / "case.json", document)


def test_it_writes_the_report_pdf_with_the_model_values(
    demo: DemoData, process_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "out" / "report.pdf"
    case = write_case(tmp_path, case_document("breast-resection"))

    result = run_case(process_env, case, out)

    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout
    report = Report.objects.get()
    text = pdf_text(out)
    assert f"{report.data['ki67_index']:.1f}%" in text  # the AI Ki-67
    assert report.data["ki67_percent"] == 30  # the pathologist's own
    assert out.read_bytes() == Path(report.pdf.path).read_bytes()


def test_it_renders_in_its_own_process_where_workers_render_on_a_render_queue(
    demo: DemoData, process_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "report.pdf"
    case = write_case(tmp_path, case_document("breast-resection"))

    result = run_case({**process_env, "PATHFLOW_RENDER_QUEUE": "render"}, case, out)

    assert result.returncode == 0, result.stderr
    # Rendered here, not parked for a render worker: the draft waits for its sign-out.
    assert Run.objects.get().status == RunStatus.WAITING_REVIEW
    assert out.read_bytes() == Path(Report.objects.get().pdf.path).read_bytes()


def test_it_names_a_missing_workflow(
    demo: DemoData, process_env: dict[str, str], tmp_path: Path
) -> None:
    case = write_case(tmp_path, case_document("breast-resection"))

    result = run_case(process_env, case, tmp_path / "r.pdf", workflow="no-such-flow")

    assert result.returncode != 0
    assert "workflow 'no-such-flow' does not exist" in result.stderr
    assert "breast-resection-ki67" in result.stderr  # lists the ones that do
    assert not Run.objects.exists()


def test_it_lists_every_problem_of_an_invalid_case_file(
    demo: DemoData, process_env: dict[str, str], tmp_path: Path
) -> None:
    document = case_document("breast-resection", accession="", specimens=[{"label": "A"}])
    del document["patient"]["mrn"]
    case = write_case(tmp_path, document)

    result = run_case(process_env, case, tmp_path / "r.pdf")

    assert result.returncode != 0
    for problem in ("accession: required text", "patient.mrn", "specimens[0].site"):
        assert problem in result.stderr
    assert not (tmp_path / "r.pdf").exists()


def test_it_says_when_the_case_file_is_not_json(
    demo: DemoData, process_env: dict[str, str], tmp_path: Path
) -> None:
    case = tmp_path / "case.json"
    case.write_text("{not json", encoding="utf-8")

    result = run_case(process_env, case, tmp_path / "r.pdf")

    assert result.returncode != 0
    assert "is not valid JSON" in result.stderr


def test_it_fails_naming_an_unreachable_endpoint_and_writes_no_pdf(
    demo: DemoData, process_env: dict[str, str], tmp_path: Path
) -> None:
    ModelEndpoint.objects.filter(slug="ihc-dab").update(
        base_url=f"http://127.0.0.1:{devstack.free_port()}"
    )
    case = write_case(tmp_path, case_document("breast-resection"))

    result = run_case(process_env, case, tmp_path / "r.pdf")

    assert result.returncode != 0
    assert "endpoint 'ihc-dab'" in result.stderr
    assert "cannot connect" in result.stderr
    assert Run.objects.get().status == RunStatus.FAILED
    assert not Report.objects.exists()
    assert not (tmp_path / "r.pdf").exists()
