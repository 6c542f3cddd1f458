"""The message console in a real browser: an order received over MLLP is found by accession,
read raw and parsed side by side, reprocessed into a new linked message; the page in Chinese."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from orchestrator.demo_data import DemoData, load_demo_data
from orchestrator.integrations.models import InboundMessage
from tests.conftest import PASSWORD
from tests.e2e.conftest import browser_page, sign_in
from tests.orchestrator.integrations.conftest import (
    Running,
    ack_fields,
    exchange,
    order,
    start_listener,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def routed(transactional_db: None) -> DemoData:
    """The demo department and its users; orders of code BREAST go to the demo workflow."""
    return load_demo_data(PASSWORD, "http://127.0.0.1:9")


@pytest.fixture
def listener(routed: DemoData, worker_env: dict[str, str], tmp_path: Path) -> Iterator[Running]:
    """A real ``manage.py mllp_listener`` process on the test database."""
    running = start_listener(worker_env, tmp_path / "listener")
    yield running
    running.process.stop()


def test_an_admin_finds_an_order_reads_it_raw_and_parsed_and_reprocesses_it(
    routed: DemoData, listener: Running, live_server: LiveServer
) -> None:
    # Another order first, so the search has something to leave out.
    exchange(listener.port, order("CONSOLE-0", accession="S26-OTHER"))
    ack = ack_fields(exchange(listener.port, order("CONSOLE-1", accession="S26-CONSOLE"))[0])
    assert ack["MSA"][1:3] == ["AA", "CONSOLE-1"]
    original = InboundMessage.objects.get(control_id="CONSOLE-1")

    with browser_page() as page:
        page.set_viewport_size({"width": 1400, "height": 900})
        sign_in(page, live_server.url, "admin", PASSWORD, "/app/messages")
        expect(page.get_by_role("heading", name="Message console")).to_be_visible()
        expect(page.get_by_test_id("inbound-row")).to_have_count(2)

        page.get_by_label("Accession").fill("S26-CONSOLE")
        page.get_by_role("button", name="Search", exact=True).click()
        expect(page).to_have_url(re.compile(r"/app/messages\?tab=inbound&q=S26-CONSOLE$"))
        rows = page.get_by_test_id("inbound-row")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("CONSOLE-1")

        page.get_by_role("link", name=f"Open message {original.pk}").click()
        expect(page).to_have_url(re.compile(rf"/app/messages/inbound/{original.pk}\?"))
        raw = page.get_by_test_id("msg-raw")
        expect(raw.locator(".msg-segment-line")).to_have_count(6)
        expect(raw.locator(".msg-segment-line").nth(2)).to_have_text(
            re.compile(r"^ORC\|NW\|PL-CONSOLE-1\|S26-CONSOLE")
        )
        parsed = page.get_by_test_id("msg-parsed")
        expect(parsed.get_by_role("row").filter(has_text="PID-3")).to_contain_text("MRN-0001")
        expect(page.get_by_test_id("msg-ack")).to_contain_text("MSA|AA|CONSOLE-1")

        page.get_by_role("button", name="Reprocess").click()
        page.get_by_role("button", name="Yes, go ahead").click()
        created = page.get_by_test_id("msg-created")
        expect(created).to_contain_text(re.compile(r"Created message \d+, linked to this one"))
        found = re.search(r"Created message (\d+)", created.inner_text())
        assert found
        copy_id = int(found.group(1))
        expect(page.get_by_test_id("reprocessed-as")).to_contain_text(f"#{copy_id}")

        created.get_by_role("link", name=f"#{copy_id}").click()
        expect(page.get_by_role("heading", name=f"Inbound message {copy_id}")).to_be_visible()
        expect(page.get_by_test_id("reprocess-of")).to_contain_text(
            f"Reprocess of message {original.pk}"
        )
        expect(page.get_by_test_id("msg-raw")).to_contain_text("PID|1||MRN-0001")

        page.get_by_role("link", name="← Back to the list").click()
        expect(page.get_by_test_id("inbound-row")).to_have_count(2)  # the copy has the accession

    with browser_page(locale="zh-CN") as page:
        sign_in(page, live_server.url, "admin", PASSWORD, "/app/messages?tab=outbound")
        expect(page.get_by_role("heading", name="消息控制台")).to_be_visible()
        expect(page.get_by_role("tab", name="发送")).to_have_attribute("aria-selected", "true")
        expect(page.get_by_label("病理号")).to_be_visible()
        page.get_by_role("tab", name="接收").click()
        expect(page).to_have_url(re.compile(r"/app/messages\?tab=inbound$"))
        expect(page.get_by_test_id("inbound-row")).to_have_count(3)
        page.goto(f"{live_server.url}/app/messages/inbound/{original.pk}")
        expect(page.get_by_role("heading", name=f"接收消息 {original.pk}")).to_be_visible()
        expect(page.get_by_role("heading", name="原始消息")).to_be_visible()
        expect(page.get_by_role("button", name="重新处理")).to_be_visible()

    copy = InboundMessage.objects.get(pk=copy_id)
    assert copy.reprocess_of_id == original.pk
    assert bytes(copy.raw) == bytes(original.raw)
