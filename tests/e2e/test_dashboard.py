"""The dashboard in a real browser over the seeded history (tests/analytics_history.py): the
plots are drawn (SVG with their legends and axes) and the tables show the figures, in English
and in Chinese; filtering by case type changes them and is kept in the URL; a table downloads
as CSV."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from orchestrator.accounts.models import User
from orchestrator.demo_data import load_demo_data
from tests.analytics_history import FIRST_DAY, FNA, LAST_DAY, RESECTION, seed_history
from tests.conftest import PASSWORD
from tests.e2e.conftest import browser_page, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

# The user guide's screenshot, replaced only when asked (as tests/e2e/test_designer.py does).
GUIDE_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
PATH = f"/app/dashboard?from={FIRST_DAY}&to={LAST_DAY}"
CHARTS = ("turnaround", "throughput", "queue", "agreement", "failures")


@pytest.fixture
def seeded(transactional_db: None) -> None:
    demo = load_demo_data(PASSWORD, "http://127.0.0.1:9")
    seed_history(demo, User.objects.get(username="pathologist"))


def expect_plots_drawn(page: Page) -> None:
    for name in CHARTS:
        svg = page.get_by_test_id(f"chart-{name}").locator("svg")
        expect(svg).to_be_visible()
        # Drawn: more than the empty canvas (series paths and axis labels).
        expect(svg.locator("path").nth(3)).to_be_attached()


def test_the_dashboard_plots_the_seeded_history_in_english(
    seeded: None, live_server: LiveServer, tmp_path: Path
) -> None:
    with browser_page() as page:
        sign_in(page, live_server.url, "pathologist", PASSWORD, quote(PATH))
        expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
        expect_plots_drawn(page)
        # Legends and axes: the case types, the model versions and the days of the range.
        throughput = page.get_by_test_id("chart-throughput").locator("svg")
        expect(throughput.locator("text", has_text="Received (all types)")).to_be_attached()
        expect(throughput.locator("text", has_text=FNA)).to_be_attached()
        expect(throughput.locator("text", has_text="2026-11-03")).to_be_attached()
        agreement_chart = page.get_by_test_id("chart-agreement").locator("svg")
        expect(agreement_chart.locator("text", has_text="ihc-dab v1")).to_be_attached()
        expect(agreement_chart.locator("text", has_text="breast-fna v3")).to_be_attached()
        turnaround_chart = page.get_by_test_id("chart-turnaround").locator("svg")
        expect(turnaround_chart.locator("text", has_text="Draft → signed")).to_be_attached()

        # The tables: agreement per model version, the queue per day, turnaround in words.
        by_model = page.get_by_test_id("table-agreement-by_model")
        v1 = by_model.locator("tr", has_text="ihc-dab").filter(has_text="ki67_index").first
        expect(v1).to_contain_text("50.0 %")
        expect(by_model.locator("tr", has_text="breast-fna")).to_contain_text("100.0 %")
        queue = page.get_by_test_id("table-queue-by_day")
        expect(queue.locator("tbody tr")).to_have_count(8)
        turnaround = page.get_by_test_id("table-turnaround-by_case_type")
        # Resection, draft → signed: median 200 min = 3 h 20 min.
        row = turnaround.locator("tr", has_text=RESECTION).filter(has_text="Draft → signed")
        expect(row).to_contain_text("3 h 20 min")
        shots = GUIDE_IMAGES if os.environ.get("PATHFLOW_GUIDE_SCREENSHOTS") else tmp_path
        page.set_viewport_size({"width": 1280, "height": 1000})
        page.screenshot(path=str(shots / "dashboard.png"))

        # Filter by case type: kept in the URL, the figures change.
        page.get_by_role("combobox", name="Case type").select_option(FNA)
        page.get_by_role("button", name="Apply").click()
        expect(page).to_have_url(f"{live_server.url}{PATH}&type={FNA}")
        expect(by_model.locator("tr", has_text="ihc-dab")).to_have_count(0)
        expect(queue.locator("tbody tr")).to_have_count(4)
        expect(page.get_by_test_id("table-throughput-by_day")).not_to_contain_text(RESECTION)
        expect(throughput.locator("text", has_text=RESECTION)).to_have_count(0)

        # The queue table as CSV: the rows the table shows.
        with page.expect_download() as download:
            queue.get_by_role("link", name="Download CSV").click()
        saved = tmp_path / "queue.csv"
        download.value.save_as(saved)
        assert download.value.suggested_filename == f"queue-by_day-{FIRST_DAY}-{LAST_DAY}.csv"
        table = list(csv.reader(io.StringIO(saved.read_text())))
        assert table == [
            ["day", "case_type", "waiting"],
            ["2026-11-02", FNA, "0"],
            ["2026-11-03", FNA, "1"],
            ["2026-11-04", FNA, "1"],
            ["2026-11-05", FNA, "0"],
        ]


def test_the_dashboard_in_chinese(seeded: None, live_server: LiveServer) -> None:
    with browser_page("zh-CN") as page:
        sign_in(page, live_server.url, "pathologist", PASSWORD, quote(PATH))
        expect(page.get_by_role("heading", level=1)).to_have_text("统计看板")
        expect_plots_drawn(page)
        throughput = page.get_by_test_id("chart-throughput").locator("svg")
        expect(throughput.locator("text", has_text="接收（全部类型）")).to_be_attached()
        turnaround_chart = page.get_by_test_id("chart-turnaround").locator("svg")
        expect(turnaround_chart.locator("text", has_text="草稿 → 签发")).to_be_attached()
        queue = page.get_by_test_id("table-queue-by_day")
        expect(queue.locator("th", has_text="等待中")).to_be_visible()
        expect(queue.get_by_role("link", name="下载 CSV")).to_be_visible()
        by_model = page.get_by_test_id("table-agreement-by_model")
        expect(by_model.locator("th", has_text="接受比例")).to_be_visible()
        expect(by_model.locator("tr", has_text="breast-fna")).to_contain_text("100.0 %")
        # Weekly agreement: one bucket, the Monday of the week.
        page.get_by_role("combobox", name="一致性统计粒度").select_option("week")
        page.get_by_role("button", name="应用").click()
        expect(page).to_have_url(f"{live_server.url}{PATH}&bucket=week")
        over_time = page.get_by_test_id("table-agreement-over_time")
        expect(over_time.locator("tbody tr", has_text="2026-11-03")).to_have_count(0)
        expect(over_time.locator("tbody tr", has_text="2026-11-02")).to_have_count(3)
