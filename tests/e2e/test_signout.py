"""Sign-out in a real browser: runs of the demo graph with a review node, executed against the
reference MLServer, wait in the queue; a pathologist signs one with the keyboard, recalls it,
signs it again, overrides a field of the next, signs a batch of three with one password and
amends a signed report; a clinician finds both versions in the portal, the amendment marked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from orchestrator import devstack
from orchestrator.cases.services import create_case
from orchestrator.demo_data import DemoData
from orchestrator.reports.models import Report, ReportSignature
from orchestrator.runs.models import RunStatus
from orchestrator.runs.services import execute_run, start_run
from tests.conftest import PASSWORD, case_document, pdf_text
from tests.e2e.conftest import browser_page, sign_in
from tests.orchestrator.reports.drafts import signout_workflow

pytestmark = pytest.mark.django_db(transaction=True)

ACCESSIONS = ["E2E-A", "E2E-B", "E2E-C", "E2E-D", "E2E-E"]


def parked_runs(demo: DemoData) -> dict[str, Report]:
    """One run per accession, executed here against the MLServer, parked at its review."""
    version = signout_workflow(demo)
    drafts = {}
    for accession in ACCESSIONS:
        case = create_case(demo.department, case_document("breast-resection", accession=accession))
        run = execute_run(start_run(case, version, enqueue=False).pk)
        assert run is not None
        assert run.status == RunStatus.WAITING_REVIEW, run.error
        drafts[accession] = Report.objects.get(run=run)
    return drafts


def sign_with_keyboard(page: Page, accession: str) -> None:
    """Two keys and the password: accept every field that agrees with the AI, sign."""
    expect(page.get_by_role("heading", level=1)).to_contain_text(accession)
    page.keyboard.press("Shift+A")
    page.keyboard.press("s")
    dialog = page.get_by_test_id("sign-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")


def test_a_pathologist_signs_recalls_overrides_batches_and_amends_and_the_clinician_sees_it(
    demo: DemoData, live_server: LiveServer, celery_worker: devstack.ManagedProcess
) -> None:
    drafts = parked_runs(demo)
    a, b = drafts["E2E-A"], drafts["E2E-B"]

    with browser_page() as page:
        sign_in(page, live_server.url, "pathologist", PASSWORD)
        # The queue is the pathologist's start page.
        expect(page).to_have_url(f"{live_server.url}/app/review")
        rows = page.get_by_test_id("queue-row")
        expect(rows).to_have_count(5)
        expect(rows.first).to_have_attribute("data-accession", "E2E-A")

        # A: opened, accepted with the keyboard, signed; the next case (B) opens.
        page.get_by_label("Open E2E-A").click()
        sign_with_keyboard(page, "E2E-A")
        expect(page).to_have_url(f"{live_server.url}/app/review/{b.pk}")
        banner = page.get_by_test_id("signed-banner")
        expect(banner).to_contain_text("Signed E2E-A")

        # Recalled inside the window: A is a draft again and opens for review.
        banner.get_by_test_id("recall").click()
        expect(page.get_by_test_id("recalled-banner")).to_contain_text("E2E-A")
        expect(page.get_by_role("heading", level=1)).to_contain_text("E2E-A")
        sign_with_keyboard(page, "E2E-A")
        expect(page).to_have_url(f"{live_server.url}/app/review/{b.pk}")
        expect(page.get_by_test_id("signed-banner")).to_contain_text("Signed E2E-A")

        # B: one field overridden (the closest-margin distance), then signed.
        margin = page.locator("[data-testid=field-row][data-field=margin_distance_mm]")
        margin.click()
        page.keyboard.press("e")
        field = page.get_by_test_id("field-input")
        field.fill("1.5")
        field.press("Enter")
        expect(margin).to_have_attribute("data-differs", "true")
        expect(margin.get_by_test_id("ai-was")).to_contain_text("3.5")
        sign_with_keyboard(page, "E2E-B")
        expect(page.get_by_role("heading", level=1)).to_contain_text("E2E-C")
        # The next case opened at once; the sign-out finishes behind it.
        expect(page.get_by_test_id("signed-banner")).to_contain_text("Signed E2E-B")

        # C, D, E: a batch signed with one password entry.
        page.goto(f"{live_server.url}/app/review")
        for accession in ("E2E-C", "E2E-D", "E2E-E"):
            page.get_by_label(f"Select {accession} for batch sign-out").check()
        page.get_by_test_id("sign-selected").click()
        page.get_by_test_id("sign-dialog").get_by_label("Password").fill(PASSWORD)
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("batch-result")).to_contain_text("Signed 3 of 3.")
        expect(page.get_by_test_id("queue-row")).to_have_count(0)

        # B amended: from the portal to the signed version, one change, a reason, signed.
        page.goto(f"{live_server.url}/app/portal?q=E2E-B")
        page.get_by_label("Open E2E-B").click()
        page.get_by_role("link", name="Amend in the cockpit").click()
        expect(page.get_by_test_id("amend")).to_be_visible()
        page.locator("[data-testid=field-row][data-field=margin_distance_mm]").click()
        page.keyboard.press("e")
        page.get_by_test_id("field-input").fill("1.2")
        page.get_by_test_id("field-input").press("Enter")
        page.get_by_test_id("amend").click()
        page.get_by_test_id("amend-reason").fill("Margin re-measured on deeper levels")
        page.get_by_test_id("sign-dialog").get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign the new version").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("(amended)")

    signed_b = Report.objects.filter(case=b.case, status="final").get()
    amended = Report.objects.get(case=b.case, status="amended")
    assert amended.supersedes_id == signed_b.pk
    assert signed_b.data["margin_distance_mm"] == 1.5
    assert amended.data["margin_distance_mm"] == 1.2
    text = pdf_text(amended.pdf.path)
    assert "修订报告" in text  # the demo workflow reports in Chinese: "AMENDED REPORT"
    assert "Margin re-measured on deeper levels" in text
    signatures = ReportSignature.objects.filter(report__case__accession__in=ACCESSIONS)
    assert signatures.filter(recalled_at__isnull=False).count() == 1  # A's first sign-out
    assert signatures.filter(recalled_at__isnull=True).count() == 6  # A, B, C, D, E, B amended
    assert Report.objects.filter(case=a.case, status="final").count() == 2  # recalled + signed

    with browser_page() as page:
        sign_in(page, live_server.url, "clinician", PASSWORD)
        expect(page).to_have_url(f"{live_server.url}/app/portal")
        page.get_by_test_id("portal-q").fill("E2E-B")
        page.keyboard.press("Enter")
        page.get_by_label("Open E2E-B").click()
        versions = page.get_by_test_id("report-version")
        expect(versions).to_have_count(2)
        newest, original = versions.nth(0), versions.nth(1)
        expect(newest).to_have_attribute("data-status", "amended")
        expect(newest).to_contain_text("Margin re-measured on deeper levels")
        expect(newest.get_by_test_id("version-changes")).to_contain_text("1.5")
        expect(newest.get_by_test_id("version-changes")).to_contain_text("1.2")
        expect(original).to_have_attribute("data-status", "final")
        expect(original).to_contain_text("Replaced by version")
        pdf = original.get_by_test_id("version-pdf").get_attribute("href")
        response = page.request.get(f"{live_server.url}{pdf}")
        assert response.status == 200
        assert response.body().startswith(b"%PDF")
        # The original opens inside the portal with pdf.js: its own URL, pages, zoom.
        original.get_by_role(
            "button", name=f"View the PDF of version {signed_b.version_no}"
        ).click()
        expect(page).to_have_url(re.compile(rf"/app/portal/cases/{b.case_id}\?view={signed_b.pk}$"))
        viewer = original.get_by_test_id("pdf-viewer")
        drawn = viewer.get_by_test_id("pdf-page")
        expect(drawn).to_have_attribute("data-page", "1", timeout=30_000)
        status = viewer.get_by_test_id("pdf-page-status")
        expect(status).to_have_text(re.compile(r"^Page 1 of \d+$"))
        width = drawn.bounding_box()
        viewer.get_by_role("button", name="Zoom in").click()
        expect(viewer.get_by_test_id("pdf-zoom")).to_have_text("125%")
        expect(viewer.get_by_test_id("pdf-page")).to_have_attribute("data-zoom", "125")
        zoomed = viewer.get_by_test_id("pdf-page").bounding_box()
        assert width is not None
        assert zoomed is not None
        assert zoomed["width"] > width["width"] * 1.2
        assert viewer.get_by_test_id("pdf-download").get_attribute("href") == pdf
        # The amendment opens in its own viewer.
        newest.get_by_role("button", name=f"View the PDF of version {amended.version_no}").click()
        expect(newest.get_by_test_id("pdf-page")).to_be_visible(timeout=30_000)
