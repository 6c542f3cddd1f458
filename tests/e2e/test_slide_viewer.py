"""The slide viewer in a real browser: Deep Zoom tiles from the API, the AI overlay toggled."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Response, expect
from pytest_django.live_server_helper import LiveServer

from model_services.ihc_analysis import analyse_tile
from orchestrator.cases.models import Case
from orchestrator.cases.services import create_case
from orchestrator.cases.slides import SlideRegion, open_slide, read_region_rgb
from orchestrator.demo_data import load_demo_data, with_demo_slide
from tests.conftest import PASSWORD, case_document
from tests.e2e.conftest import browser_page, sign_in
from tests.orchestrator.cases.recorded import record_analysis

pytestmark = pytest.mark.django_db(transaction=True)

TILE = re.compile(r"/api/v1/specimens/\d+/slides/0_files/\d+/\d+_\d+\.jpeg$")
OVERLAY = re.compile(r"/api/v1/specimens/\d+/slides/0/overlay\?")


# The middle of the demo slide, where the viewer zooms in.
ANALYSED = (1024, 1024, 2048, 2048)


@pytest.fixture
def slide_case(transactional_db: None) -> Case:
    """The demo department (no model server needed), a case whose specimen has the demo
    whole-slide image, and a run that recorded the ihc-dab model's nuclei for the middle of
    the slide (the model's own analysis of those pixels, as the service answers it)."""
    demo = load_demo_data(PASSWORD, "http://127.0.0.1:9")
    case = create_case(demo.department, with_demo_slide(case_document("breast-resection")))
    x, y, width, height = ANALYSED
    pixels = read_region_rgb(open_slide("demo/ihc-ki67.tiff"), SlideRegion(x, y, width, height))
    rows = [[n.x, n.y, 1.0 if n.positive else 0.0] for n in analyse_tile(pixels).nuclei]
    record_analysis(demo, case, rows, region=ANALYSED, level=0)
    return case


def wait_until(page: Page, condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    """Let the browser work (its events are handled while Playwright waits) until
    ``condition`` holds."""
    for _ in range(int(seconds * 10)):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out waiting for {what}")


def zoom_in(page: Page, times: int) -> None:
    for _ in range(times):
        page.get_by_role("button", name="Zoom in").click()
        page.wait_for_timeout(300)


def test_a_pathologist_sees_slide_tiles_load_and_toggles_the_ai_overlay(
    slide_case: Case, live_server: LiveServer
) -> None:
    run = slide_case.runs.get().pk
    with browser_page() as page:
        page.set_viewport_size({"width": 1000, "height": 800})
        tiles: list[Response] = []
        overlays: list[Response] = []
        page.on("response", lambda r: tiles.append(r) if TILE.search(r.url) else None)
        page.on("response", lambda r: overlays.append(r) if OVERLAY.search(r.url) else None)
        sign_in(
            page, live_server.url, "pathologist", PASSWORD, f"/app/cases/{slide_case.pk}/slides"
        )

        expect(page.get_by_role("heading", name="Slides of case S26-00001")).to_be_visible()
        viewer = page.get_by_role("region", name="Slide viewer")
        expect(viewer).to_be_visible()
        expect(
            page.get_by_role("status").filter(has_text="Zoom in to see the nuclei")
        ).to_be_visible()
        wait_until(page, lambda: len(tiles) >= 4, "the first Deep Zoom tiles")
        assert {r.status for r in tiles} == {200}
        assert {r.header_value("content-type") for r in tiles} == {"image/jpeg"}

        zoom_in(page, 5)
        counts = page.get_by_role("status").filter(has_text="nuclei DAB-positive in view")
        expect(counts).to_be_visible(timeout=60_000)
        assert overlays
        assert {r.status for r in overlays} == {200}
        # The points are the run's recorded answer (the web server analyses nothing).
        recorded = page.request.get(overlays[-1].url).json()
        assert recorded["run"] == run
        canvas = page.get_by_test_id("slide-overlay")
        expect(canvas).to_be_visible()
        # The demo slide is 0.5 µm/px: the scale bar reads in micrometres at this zoom.
        expect(page.get_by_test_id("slide-scale")).to_have_text(re.compile(r"^\d+ µm$"))
        assert int(canvas.get_attribute("data-points") or 0) > 50
        toggle = page.get_by_role("button", name="Hide AI overlay")
        expect(toggle).to_have_attribute("aria-pressed", "true")

        toggle.click()
        expect(page.get_by_role("button", name="Show AI overlay")).to_have_attribute(
            "aria-pressed", "false"
        )
        expect(canvas).to_be_hidden()

        # The keyboard: O inside the viewer brings the overlay back.
        page.get_by_test_id("slide-viewer-osd").locator("canvas").first.focus()
        page.keyboard.press("o")
        expect(page.get_by_role("button", name="Hide AI overlay")).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(canvas).to_be_visible()
        assert int(canvas.get_attribute("data-points") or 0) > 50
