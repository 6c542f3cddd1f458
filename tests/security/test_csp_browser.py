"""The pages outside the single-page app's own browser tests work in Chromium with the
Content-Security-Policy enforced: the sign-in page, the Django admin (lists, forms with their
JavaScript widgets), the API's browsable pages, and the workflow editor's inspector on a model
node (its form library validates config schemas that have oneOf/anyOf). ``browser_page`` fails
the test on any refusal (tests/e2e/conftest.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from orchestrator.demo_data import DemoData, load_demo_data
from tests.conftest import PASSWORD
from tests.e2e.conftest import browser_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN_PAGES = [
    "/admin/",
    "/admin/cases/case/",
    "/admin/accounts/user/",
    "/admin/accounts/user/add/",
    "/admin/runs/run/",
    "/admin/catalog/modelendpoint/add/",
    "/admin/audit/auditevent/",
]


@pytest.fixture
def demo_without_models(transactional_db: None) -> DemoData:
    return load_demo_data(PASSWORD, "http://127.0.0.1:9")


def test_the_sign_in_page_and_the_admin_work_under_the_policy(
    demo_without_models: DemoData, live_server: LiveServer
) -> None:
    with browser_page() as page:
        page.goto(f"{live_server.url}/accounts/login/")
        # The style sheet (a file) applies: the heading has the page's colour, not the default.
        expect(page.locator("h1")).to_have_css("color", "rgb(26, 61, 109)")
        page.goto(f"{live_server.url}/admin/login/?next=/admin/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        expect(page.locator("#site-name")).to_be_visible()
        for path in ADMIN_PAGES:
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None
            assert response.status == 200, path
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            page.wait_for_load_state("networkidle")
        # The admin's own scripts ran: the user form's password toggle is wired up.
        page.goto(f"{live_server.url}/admin/cases/case/")
        expect(page.locator("#changelist")).to_be_visible()


def test_the_browsable_api_works_under_the_policy(
    demo_without_models: DemoData, live_server: LiveServer
) -> None:
    with browser_page() as page:
        sign_in(page, live_server.url, "admin", PASSWORD)
        page.wait_for_url("**/app/**")
        page.goto(f"{live_server.url}/api/v1/runs/")
        expect(page.locator(".response-info")).to_be_visible()
        page.wait_for_load_state("networkidle")


def test_the_inspector_of_a_model_node_works_under_the_policy(
    demo_without_models: DemoData, live_server: LiveServer
) -> None:
    with browser_page() as page:
        sign_in(page, live_server.url, "admin", PASSWORD)
        page.wait_for_url("**/app/**")
        page.goto(f"{live_server.url}/app/studio/workflows/breast-resection-ki67")
        page.get_by_test_id("tab-inspector").click()
        page.get_by_test_id("fit-view").click()
        page.wait_for_timeout(300)
        page.locator(".react-flow__node[data-id='ihc'] .pf-node-title").click()
        expect(page.get_by_test_id("inspector")).to_have_attribute("data-node-id", "ihc")
        page.wait_for_timeout(1000)  # the form lays out its oneOf/anyOf fields
