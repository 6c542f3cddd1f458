"""The sandbox corpora, re-run where they matter: in a real Celery worker process started with the
production settings (PATHFLOW_ENV=production, as deploy/systemd/pathflow-worker.service runs
it), executing real runs of the demo FNA workflow against the reference MLServer.

- the Jinja2 escape payloads of tests/orchestrator/reports/test_render_security.py, as a
  published template's layout: the render fails with the sandbox's reason, nothing executes;
- the WeasyPrint fetch corpus (stylesheets, @import, fonts, images, attachments, redirects,
  file: URLs): the report renders, and neither the canary server nor the redirector is asked;
- the expression escapes of tests/workflows/test_expressions.py, as a node's input expression:
  the run fails with the expression named, nothing executes.

The layouts and expressions are written into the stored versions directly: they stand for a
template or workflow that got past the editors' own checks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator import devstack
from orchestrator.cases.services import create_case
from orchestrator.demo_data import DemoData
from orchestrator.designs.models import TemplateVersion, WorkflowVersion
from orchestrator.reports.models import Report
from orchestrator.runs.models import NodeRun, Run, RunStatus
from orchestrator.runs.services import start_run
from tests.conftest import case_document
from tests.orchestrator.reports.conftest import Canary, read_pdf

# Fixtures of the report tests (the explicit re-export makes pytest register them here).
from tests.orchestrator.reports.conftest import canary as canary
from tests.orchestrator.reports.conftest import (
    redirector as redirector,
)
from tests.orchestrator.reports.test_render_security import escape_payloads
from tests.security.test_production_settings import production_env
from tests.workflows.test_expressions import ESCAPES

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]

SETTLED = (RunStatus.WAITING_REVIEW, RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


@pytest.fixture
def production_worker(
    worker_env: dict[str, str], tmp_path: Path
) -> Iterator[devstack.ManagedProcess]:
    worker = devstack.start_worker(tmp_path, concurrency=2, env={**worker_env, **production_env()})
    try:
        yield worker
    finally:
        worker.stop()


def run_fna_case(demo: DemoData, accession: str) -> Run:
    case = create_case(demo.department, case_document("breast-fna-malignant", accession=accession))
    return start_run(case, demo.fna_workflow_version)


def settle(runs: list[Run], timeout: float = 180) -> list[Run]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = [Run.objects.get(pk=run.pk) for run in runs]
        if all(run.status in SETTLED for run in fresh):
            return fresh
        time.sleep(0.5)
    raise AssertionError(f"runs still going: {[(r.pk, r.status) for r in fresh]}")


def failure_of(run: Run) -> str:
    errors = NodeRun.objects.filter(run=run).exclude(error="").values_list("error", flat=True)
    return "\n".join([run.error, *errors])


def set_layout(demo: DemoData, layout: str, css: str = "") -> None:
    TemplateVersion.objects.filter(pk=demo.fna_workflow_version.template_version_id).update(
        layout_html=layout, layout_css=css, layout_spec=None
    )


def test_template_escapes_fail_in_the_production_worker_and_execute_nothing(
    demo: DemoData, production_worker: devstack.ManagedProcess, tmp_path: Path
) -> None:
    canary_file = tmp_path / "escaped"
    for number, payload in enumerate(escape_payloads(canary_file)):
        set_layout(demo, payload)
        (run,) = settle([run_fna_case(demo, f"S26-9{number:04d}")])
        assert run.status == RunStatus.FAILED, (payload, run.status)
        assert "not allowed" in failure_of(run), (payload, failure_of(run))
    assert not canary_file.exists()
    assert production_worker.alive
    print(f"template_escapes_tried={number + 1} template_escapes_executed=0")


def test_the_fetch_corpus_reaches_nothing_from_the_production_worker(
    demo: DemoData,
    production_worker: devstack.ManagedProcess,
    canary: Canary,
    redirector: Canary,
) -> None:
    set_layout(
        demo,
        f"""<html><head>
        <link rel="stylesheet" href="{canary.url}/link.css">
        <link rel="stylesheet" href="{redirector.url}/redirect.css">
        <style>@import url("{canary.url}/import.css");
               @font-face {{ font-family: x; src: url("{canary.url}/font.woff"); }}
               p {{ font-family: x; background: url("{redirector.url}/bg.png") }}</style>
        <link rel="attachment" href="file:///etc/passwd">
        <link rel="attachment" href="{canary.url}/attach.txt">
        </head><body>
        <img src="file:///etc/hostname"><img src="{canary.url}/img.png">
        <img src="{redirector.url}/img.png"><img src="../../../etc/hostname">
        <a rel="attachment" href="{canary.url}/linked.txt">file</a>
        <p>Fetch corpus {{{{ case.accession }}}}</p></body></html>""",
        css=f'body {{ background: url("{canary.url}/b") }}',
    )
    (run,) = settle([run_fna_case(demo, "S26-98001")])

    # The draft was rendered and waits for the pathologist's sign-out.
    assert run.status == RunStatus.WAITING_REVIEW, failure_of(run)
    assert canary.hits == []
    assert redirector.hits == []
    report = Report.objects.get(case__accession="S26-98001")
    pdf = read_pdf(Path(report.pdf.path).read_bytes())
    assert "Fetch corpus S26-98001" in "".join(page.extract_text() for page in pdf.pages)
    assert sum(len(page.images) for page in pdf.pages) == 0
    # Only the report's own data is attached (PDF/A-3), nothing named by the layout.
    assert "passwd" not in pdf.attachments
    assert "attach.txt" not in pdf.attachments
    print("fetch_corpus_urls=13 fetch_corpus_reached=0")


def test_expression_escapes_fail_in_the_production_worker_and_execute_nothing(
    demo: DemoData, production_worker: devstack.ManagedProcess, tmp_path: Path
) -> None:
    marker = tmp_path / "escaped"
    version = WorkflowVersion.objects.get(pk=demo.fna_workflow_version.pk)
    original = version.spec
    runs = []
    for number, source in enumerate(ESCAPES):
        expression = source.replace("command", f"'touch {marker}'").replace("marker", f"'{marker}'")
        spec = {**original, "nodes": [dict(node) for node in original["nodes"]]}
        fna = next(node for node in spec["nodes"] if node["id"] == "fna")
        fna["config"] = {
            **fna["config"],
            "inputs": [{**fna["config"]["inputs"][0], "value": expression}],
        }
        WorkflowVersion.objects.filter(pk=version.pk).update(spec=spec)
        (run,) = settle([run_fna_case(demo, f"S26-97{number:03d}")])
        runs.append((expression, run))
    for expression, run in runs:
        assert run.status == RunStatus.FAILED, (expression, run.status)
        # Refused by the sandbox (named), or evaluated to nothing the model could take.
        assert expression in failure_of(run), (expression, failure_of(run))
    assert not marker.exists()
    assert production_worker.alive
    print(f"expression_escapes_tried={len(runs)} expression_escapes_executed=0")
