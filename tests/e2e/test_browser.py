"""What people see in a real browser: the Django admin and the Runs page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from orchestrator import devstack
from orchestrator.accounts.models import User
from orchestrator.cases.services import create_case
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.celery import app as celery_app
from orchestrator.demo_data import DemoData
from orchestrator.runs.models import RunStatus
from orchestrator.runs.services import execute_run, start_run
from tests.conftest import PASSWORD, case_document
from tests.e2e.conftest import browser_page, sign_in
from tests.parked import SIGNOUT_NODE, sign_out_run

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_admin_signs_in_to_the_django_admin(
    demo: DemoData, live_server: LiveServer
) -> None:
    with browser_page() as page:
        page.goto(f"{live_server.url}/admin/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")

        expect(page.locator("#site-name")).to_be_visible()
        expect(page.locator("#runs-run a")).to_have_text("Runs")
        expect(page.locator("#catalog-modelendpoint a")).to_have_text("Model endpoints")


def test_a_wrong_password_is_refused_with_a_message(
    demo: DemoData, live_server: LiveServer
) -> None:
    with browser_page() as page:
        sign_in(page, live_server.url, "pathologist", "wrong")
        expect(page.get_by_role("alert")).to_contain_text("Wrong user name or password")


def test_a_pathologist_sees_runs_with_their_pdf_and_the_failed_endpoint(
    demo: DemoData, live_server: LiveServer
) -> None:
    good = start_run(
        create_case(demo.department, case_document("breast-resection")),
        demo.workflow_version,
        enqueue=False,
    )
    # The demo run renders its draft and waits for the pathologist's sign-out.
    assert (execute_run(good.pk) or good).status == RunStatus.WAITING_REVIEW
    ModelEndpoint.objects.filter(slug="breast-fna").update(
        base_url=f"http://127.0.0.1:{devstack.free_port()}"
    )
    bad = start_run(
        create_case(demo.department, case_document("breast-fna-malignant")),
        demo.fna_workflow_version,
        enqueue=False,
    )
    assert (execute_run(bad.pk) or bad).status == RunStatus.FAILED

    with browser_page() as page:
        sign_in(page, live_server.url, "pathologist", PASSWORD)

        # /app/ sends a pathologist to the review queue; the runs list is one click away.
        expect(page).to_have_url(f"{live_server.url}/app/review")
        page.goto(f"{live_server.url}/app/runs")
        expect(page.get_by_test_id("current-user")).to_contain_text("Li Wei")
        rows = page.get_by_test_id("run-row")
        expect(rows).to_have_count(2)
        parked = page.locator("[data-testid=run-row][data-status=waiting_review]")
        expect(parked).to_contain_text("S26-00001")
        pdf_url = parked.get_by_test_id("run-pdf").get_attribute("href")  # the AI draft
        response = page.request.get(f"{live_server.url}{pdf_url}")
        assert response.status == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.body().startswith(b"%PDF")

        page.locator("[data-testid=run-row][data-status=failed]").click()
        failed_node = page.locator("[data-testid=node-run][data-status=failed]").first
        expect(failed_node).to_contain_text("breast-fna")
        expect(failed_node).to_contain_text("cannot connect")

        page.get_by_test_id("lang-switch").select_option("zh")
        expect(page.get_by_role("heading", name="运行记录")).to_be_visible()


def test_the_runs_page_sends_anonymous_visitors_to_sign_in(live_server: LiveServer) -> None:
    with browser_page() as page:
        page.goto(f"{live_server.url}/app/")
        expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/app/")
        expect(page.get_by_role("button", name="Sign in / 登录")).to_be_visible()


def test_a_pathologist_opens_a_run_and_sees_what_each_step_received_and_returned(
    demo: DemoData, live_server: LiveServer, broker_url: str
) -> None:
    case = create_case(demo.department, case_document("breast-resection"))
    run = execute_run(start_run(case, demo.workflow_version, enqueue=False).pk)
    assert run is not None
    # Signed out, the run resumes from its review node to its end (re-runs start from ended runs).
    _, run = sign_out_run(run, User.objects.get(username="pathologist"), inline=True)
    assert run.status == RunStatus.SUCCEEDED

    with browser_page() as page:
        sign_in(page, live_server.url, "pathologist", PASSWORD, path="/app/runs")
        page.get_by_test_id("run-details").first.click()

        expect(page).to_have_url(f"{live_server.url}/app/runs/{run.pk}")
        expect(page.get_by_role("heading", name=f"Run {run.pk}")).to_be_visible()
        steps = page.get_by_test_id("detail-node")
        expect(steps).to_have_count(8)  # the demo graph's nodes, its sign-out review the last
        signout = page.locator(f"[data-testid=detail-node][data-node-id={SIGNOUT_NODE}]")
        expect(signout).to_have_attribute("data-status", "succeeded")
        expect(steps.first).to_have_attribute("data-node-id", "case")
        ihc = page.locator("[data-testid=detail-node][data-node-id=ihc]")
        expect(ihc).to_have_attribute("data-status", "succeeded")
        outputs = ihc.get_by_test_id("node-outputs")
        expect(outputs.locator("pre")).not_to_be_visible()
        outputs.get_by_text("Outputs").click()
        expect(outputs.locator("pre")).to_contain_text("total_nuclei")
        inputs = page.locator("[data-testid=detail-node][data-node-id=ki67]").get_by_test_id(
            "node-inputs"
        )
        inputs.get_by_text("Inputs").click()
        expect(inputs.locator("pre")).to_contain_text("positive_fraction")

        # Re-running from the report step opens the new run, which reuses the model calls.
        page.get_by_role("button", name="Re-run from step Draft report (中文)").click()
        expect(page.get_by_role("heading", name=f"Run {run.pk + 1}")).to_be_visible()
        expect(page.get_by_text(f"Re-run of run {run.pk} from step report")).to_be_visible()
        expect(page.locator("[data-testid=detail-node][data-node-id=ihc]")).to_contain_text(
            f"Reused from run {run.pk}"
        )
        expect(page.get_by_test_id("detail-live")).to_be_visible()

        # Every screen has a real URL: reloading a run's page shows it again; an unknown URL
        # under /app/ is a real "not found" page.
        page.reload()
        expect(page.get_by_role("heading", name=f"Run {run.pk + 1}")).to_be_visible()
        page.goto(f"{live_server.url}/app/no-such-screen")
        expect(page.get_by_test_id("not-found")).to_contain_text("/app/no-such-screen")
    # No worker here: the re-run stays queued; its message must not reach a later test's worker.
    celery_app.control.purge()
