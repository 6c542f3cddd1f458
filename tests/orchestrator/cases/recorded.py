"""A run that recorded the ihc-dab model's answer for a slide region, as a worker leaves it."""

from __future__ import annotations

from orchestrator.cases.models import Case
from orchestrator.demo_data import DemoData
from orchestrator.runs.models import NodeRun, Run, RunStatus


def record_analysis(
    demo: DemoData,
    case: Case,
    rows: list[list[float]],
    *,
    region: tuple[int, int, int, int] = (512, 1024, 1024, 1024),
    level: int = 1,
    is_test: bool = False,
    version: str = "1",
    slide: str = "demo/ihc-ki67.tiff",
) -> Run:
    """A finished run of ``case`` whose map node recorded the ihc-dab model's answer for the
    demo slide's ``region`` read at ``level``: nuclei ``rows`` of [x, y, positive] in tile
    pixels (as tests/orchestrator/cases/test_slides_map.py has a real worker record it)."""
    run = Run.objects.create(
        case=case,
        workflow_version=demo.workflow_version,
        template_version=demo.workflow_version.template_version,
        status=RunStatus.SUCCEEDED,
        is_test=is_test,
    )
    positive = sum(1 for row in rows if row[2])
    NodeRun.objects.create(
        run=run,
        node_id="ihc",
        node_type="map",
        status="succeeded",
        final=True,
        outputs={
            "results": [
                {
                    "positive_fraction": positive / len(rows) if rows else 0.0,
                    "positive_nuclei": positive,
                    "total_nuclei": len(rows),
                    "nuclei": rows,
                }
            ],
            "errors": [],
            "model": {"endpoint": "ihc-dab", "model_name": "ihc-dab", "model_version": version},
            "regions": [{"uri": f"slide:{slide}", "region": list(region), "level": level}],
        },
    )
    return run
