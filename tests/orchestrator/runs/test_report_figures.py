"""A render node's figures: the case's tile, loaded by the worker's services, is printed."""

from __future__ import annotations

import copy

import pytest
from pypdf import PdfReader

from orchestrator.cases.services import create_case
from orchestrator.demo_data import DemoData
from orchestrator.designs.services import import_workflow
from orchestrator.reports.models import Report
from orchestrator.runs.models import RunStatus
from orchestrator.runs.services import execute_run, start_run
from tests.conftest import case_document
from tests.workflows.conftest import shipped_demo_graph

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_analysed_tile_is_printed_in_the_draft_report_with_its_caption(
    demo: DemoData,
) -> None:
    graph = copy.deepcopy(shipped_demo_graph())
    report_node = next(n for n in graph["nodes"] if n["id"] == "report")
    report_node["config"]["figures"] = [
        {"tile": "case.specimens[0].tiles[0]", "caption": "Ki-67 分析区域 (IHC DAB)"}
    ]
    version = import_workflow(
        demo.department,
        graph,
        demo.workflow_version.template_version,
        slug="breast-with-figure",
        case_type="breast-resection",
    )
    case = create_case(demo.department, case_document("breast-resection"))

    run = execute_run(start_run(case, version, enqueue=False).pk)

    assert run is not None
    assert run.status == RunStatus.WAITING_REVIEW, run.error  # the draft awaits sign-out
    reader = PdfReader(Report.objects.get(run=run).pdf.path)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Ki-67 分析区域 (IHC DAB)" in text
    images = {image.name: image for page in reader.pages for image in page.images}
    assert len(images) == 1
    [image] = images.values()
    assert image.image is not None
    assert image.image.width <= 480  # downscaled for print from the 512 px tile
