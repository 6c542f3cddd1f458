"""Models read regions of a whole-slide image through the map node, on a real Celery worker
calling the real ihc-dab MLServer model."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from PIL import Image

from orchestrator import devstack
from orchestrator.accounts.models import User
from orchestrator.cases.services import create_case
from orchestrator.cases.slides import SlideRegion, open_slide, read_region_rgb
from orchestrator.demo_data import DemoData, with_demo_slide
from orchestrator.runs.models import NodeRun, RunStatus
from orchestrator.runs.services import start_run
from tests.conftest import case_document
from tests.parked import wait_for_draft

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tile_folder() -> Iterator[str]:
    """A folder of plain tiles in the tile store that the worker process reads too."""
    folder = Path(settings.TILE_ROOT) / f"test-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    try:
        yield folder.name
    finally:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


def test_the_map_node_over_slide_regions_matches_the_same_pixels_as_plain_tiles(
    demo: DemoData, celery_worker: devstack.ManagedProcess, tile_folder: str
) -> None:
    name = "demo/ihc-ki67.tiff"
    opened = open_slide(name)
    regions = [
        # A mirrored copy of the sample, at full resolution.
        SlideRegion(x=1536, y=512, width=512, height=512, level=0),
        # 1024 x 1024 level-0 pixels read at level 1 (downsampled by 2): 512 x 512.
        SlideRegion(x=1024, y=2048, width=1024, height=1024, level=1),
    ]
    tiles = []
    for number, region in enumerate(regions):
        file_name = f"{tile_folder}/region-{number}.png"
        Image.fromarray(read_region_rgb(opened, region)).save(Path(settings.TILE_ROOT) / file_name)
        tiles += [
            {
                "uri": f"slide:{name}",
                "region": [region.x, region.y, region.width, region.height],
                "level": region.level,
            },
            {"uri": f"file:{file_name}"},
        ]
    document = with_demo_slide(case_document("breast-resection"))
    document["specimens"][0]["tiles"] += [*tiles, {"uri": "sample:immunohistochemistry"}]
    case = create_case(demo.department, document)

    run = wait_for_draft(start_run(case, demo.workflow_version).pk)

    assert run.status == RunStatus.WAITING_REVIEW, run.error  # its draft awaits sign-out
    results = NodeRun.objects.get(run=run, node_id="ihc", status="succeeded").outputs["results"]
    fractions = [result["positive_fraction"] for result in results]
    nuclei = [result["total_nuclei"] for result in results]
    # [demo region, slide region 1, its file, slide region 2, its file, the bundled sample]
    assert len(fractions) == 6
    # The demo slide's model region holds the sample tile's pixels: the demo's Ki-67 is as before.
    assert fractions[0] == fractions[5]
    assert nuclei[0] == nuclei[5]
    assert fractions[1] == fractions[2]
    assert nuclei[1] == nuclei[2] > 0
    assert fractions[3] == fractions[4]
    assert nuclei[3] == nuclei[4] > 0
    # Level 1 halves the nuclei's size, so the analysis sees a different picture.
    assert nuclei[3] != nuclei[1]

    # The viewer's overlay draws what the model answered in this run, placed on the slide:
    # the run recorded each item's slide region and the model's nuclei (x, y, positive).
    outputs = NodeRun.objects.get(run=run, node_id="ihc", status="succeeded").outputs
    assert outputs["regions"][1] == {
        "uri": f"slide:{name}",
        "region": [1536, 512, 512, 512],
        "level": 0,
    }
    assert outputs["regions"][2] is None
    viewer = Client()
    viewer.force_login(User.objects.get(username="pathologist"))
    specimen = case.specimens.get()
    index = next(
        i for i, t in enumerate(specimen.tiles) if t.get("region") == [1536, 512, 512, 512]
    )
    base = f"/api/v1/specimens/{specimen.pk}/slides/{index}/overlay"
    full = viewer.get(f"{base}?x=1536&y=512&width=512&height=512").json()
    assert (full["run"], full["endpoint"]) == (run.pk, "ihc-dab")
    assert full["total_nuclei"] == nuclei[1]
    assert full["positive_nuclei"] == results[1]["positive_nuclei"]
    drawn = sorted(tuple(f["geometry"]["coordinates"]) for f in full["features"])
    recorded = sorted((1536 + round(x, 1), 512 + round(y, 1)) for x, y, _ in results[1]["nuclei"])
    assert len(drawn) == len(recorded)
    pairs = zip(drawn, recorded, strict=True)
    assert all(abs(d[0] - r[0]) <= 0.11 and abs(d[1] - r[1]) <= 0.11 for d, r in pairs)
    # Level 1: tile pixels are two slide pixels.
    halved = viewer.get(f"{base}?x=1024&y=2048&width=1024&height=1024").json()
    assert halved["total_nuclei"] == nuclei[3]


def test_a_whole_slide_without_a_region_fails_the_run_saying_how_to_fix_it(
    demo: DemoData, celery_worker: devstack.ManagedProcess
) -> None:
    document = case_document("breast-resection")
    document["specimens"][0]["tiles"] = [{"uri": "slide:demo/ihc-ki67.tiff"}]
    case = create_case(demo.department, document)

    run = wait_for_draft(start_run(case, demo.workflow_version).pk)

    assert run.status == RunStatus.FAILED
    assert "slide:demo/ihc-ki67.tiff is a whole slide (4096x4096 px)" in run.error
    assert 'add "region": [x, y, width, height]' in run.error
