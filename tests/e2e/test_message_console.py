"""The message console in a real browser: an order received over MLLP is found by accession,
read raw and parsed side by side, reprocessed into a new linked message; the page in Chinese.
Outbound: deliveries to a destination that is down fail with their attempts while a Celery
worker's dispatcher retries them, the queue summary shows the backlog with one alert, a
resend is linked to the original and is delivered once a real MLLP receiver is up."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from django.db import connection
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from orchestrator import devstack
from orchestrator.accounts.models import User
from orchestrator.demo_data import DemoData, load_demo_data
from orchestrator.integrations.models import InboundMessage
from orchestrator.integrations.outbox import queue_report_deliveries
from orchestrator.integrations.outbox_models import Delivery, DeliveryIncident
from tests.conftest import PASSWORD
from tests.e2e.conftest import browser_page, sign_in
from tests.mllp import MllpReceiver
from tests.orchestrator.integrations.conftest import (
    Running,
    ack_fields,
    destination,
    exchange,
    new_case,
    order,
    route,
    signed_report,
    start_listener,
)

pytestmark = pytest.mark.django_db(transaction=True)
T = TypeVar("T")


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


@pytest.fixture
def delivery_worker(worker_env: dict[str, str], tmp_path: Path) -> Iterator[None]:
    """A Celery worker whose dispatcher retries quickly (an alert opens at the second attempt).
    The session's worker may be running beside it, with the default settings: the attempts
    before a delivery fails are the destination's, so both stop at the same one."""
    env = {
        **worker_env,
        "PATHFLOW_DELIVERY_RETRY_BASE_MS": "200",
        "PATHFLOW_DELIVERY_RETRY_MAX_SECONDS": "1",
        "PATHFLOW_DELIVERY_ALERT_AFTER_ATTEMPTS": "2",
        "PATHFLOW_DELIVERY_SWEEP_SECONDS": "1",
    }
    worker = devstack.start_worker(tmp_path / "worker", name="console", concurrency=1, env=env)
    yield
    worker.stop()


def _wait(condition: str, check: object, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s: {condition}")


def _off_the_loop(work: Callable[[], T]) -> T:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()


def _delivered_both(resent: int, held: int) -> Delivery:
    """The resend, once it and the delivery it held are both delivered."""
    try:
        _wait(
            "the resend and the held delivery reached the LIS",
            lambda: Delivery.objects.filter(pk__in=[resent, held], status="delivered").count() == 2,
        )
        return Delivery.objects.get(pk=resent)
    finally:
        connection.close()


def test_a_failed_delivery_is_found_by_destination_resent_and_delivered_once_the_lis_is_up(
    routed: DemoData, delivery_worker: None, live_server: LiveServer
) -> None:
    pathologist = User.objects.get(username="pathologist")
    with MllpReceiver() as ehr_receiver:
        down = MllpReceiver().start()
        down.stop()  # the LIS is down: nothing listens on its port
        lis = destination(
            routed.department,
            "lis",
            "hl7_mllp",
            f"127.0.0.1:{down.port}",
            timeout_s=1.0,
            max_attempts=3,
        )
        ehr = destination(routed.department, "ehr", "hl7_mllp", ehr_receiver.address)
        route(lis)
        route(ehr)
        first, second = (
            signed_report(new_case(routed.department, accession), pathologist)
            for accession in ("S26-OUT-1", "S26-OUT-2")
        )
        queue_report_deliveries(first)
        queue_report_deliveries(second)
        to_lis = list(Delivery.objects.filter(destination=lis).order_by("queued_at", "id"))
        failed, waiting = to_lis
        _wait(
            "the first delivery to the LIS failed and the EHR got both",
            lambda: (
                Delivery.objects.get(pk=failed.pk).status == "failed"
                and len(ehr_receiver.messages) == 2
            ),
        )
    assert Delivery.objects.get(pk=waiting.pk).attempts == 0  # held behind the failed one
    assert DeliveryIncident.objects.filter(destination=lis).count() == 1  # one per incident
    assert not DeliveryIncident.objects.filter(destination=ehr).exists()

    with browser_page() as page:
        page.set_viewport_size({"width": 1400, "height": 900})
        sign_in(page, live_server.url, "admin", PASSWORD, "/app/messages?tab=outbound")
        queues = page.get_by_test_id("queue-summary")
        lis_row = queues.get_by_role("row").filter(has_text="lis")
        expect(lis_row.locator("td").nth(0)).to_have_text("2")
        expect(lis_row.locator("td").nth(1)).to_have_text(re.compile(r"^\d+ (s|min)$"))
        # The alert names the failing delivery and how often it failed (2 or 3 by now: the
        # dispatcher's backoff and its sweep race on a loaded machine), while it is retried or
        # once it has stopped.
        expect(lis_row).to_contain_text(
            re.compile(rf"delivery {failed.pk}(: [23] attempts failed| failed after [23] attempts)")
        )
        ehr_row = queues.get_by_role("row").filter(has_text="ehr")
        expect(ehr_row.locator("td").nth(0)).to_have_text("0")
        expect(ehr_row).to_contain_text("None")
        expect(page.get_by_test_id("outbound-row")).to_have_count(4)

        page.get_by_label("Destination").select_option("lis")
        page.get_by_role("button", name="Search", exact=True).click()
        expect(page).to_have_url(re.compile(r"/app/messages\?tab=outbound&dest=lis$"))
        rows = page.get_by_test_id("outbound-row")
        expect(rows).to_have_count(2)
        failed_row = rows.filter(has_text=failed.control_id)
        expect(failed_row).to_contain_text("Failed")
        expect(failed_row.locator("td.num")).to_have_text("3")
        expect(rows.filter(has_text=waiting.control_id)).to_contain_text("Queued")

        page.get_by_label("Status").select_option("failed")
        page.get_by_role("button", name="Search", exact=True).click()
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("S26-OUT-1")

        page.get_by_role("link", name=f"Open message {failed.pk}").click()
        expect(page.get_by_role("heading", name=f"Delivery {failed.pk}")).to_be_visible()
        attempts = page.locator(".msg-attempts > li")
        expect(attempts).to_have_count(3)
        expect(attempts.nth(0)).to_contain_text("Attempt 1")
        expect(attempts.nth(2)).to_contain_text("retry")

        with MllpReceiver(down.port) as lis_receiver:  # the LIS is back
            page.get_by_role("button", name="Resend").click()
            page.get_by_role("button", name="Yes, go ahead").click()
            created = page.get_by_test_id("msg-created")
            expect(created).to_contain_text(re.compile(r"Created message \d+, linked to this one"))
            found = re.search(r"Created message (\d+)", created.inner_text())
            assert found
            resent = int(found.group(1))
            expect(page.get_by_test_id("resent-as")).to_contain_text(f"#{resent}")

            created.get_by_role("link", name=f"#{resent}").click()
            expect(page.get_by_role("heading", name=f"Delivery {resent}")).to_be_visible()
            expect(page.get_by_test_id("resend-of")).to_contain_text(
                f"Resend of delivery {failed.pk}"
            )
            # The browser's event loop runs in this thread: the database is read from another.
            copy = _off_the_loop(lambda: _delivered_both(resent, waiting.pk))
            # In the original's place, before the one it held; each sent once.
            assert lis_receiver.received_ids() == [copy.control_id, waiting.control_id]

        page.reload()
        expect(page.locator(".msg-facts .badge")).to_have_text("Delivered")
        page.goto(f"{live_server.url}/app/messages?tab=outbound")
        lis_row = page.get_by_test_id("queue-summary").get_by_role("row").filter(has_text="lis")
        expect(lis_row.locator("td").nth(0)).to_have_text("0")
        expect(lis_row).to_contain_text("None")
    assert DeliveryIncident.objects.filter(destination=lis, closed_at__isnull=True).count() == 0
