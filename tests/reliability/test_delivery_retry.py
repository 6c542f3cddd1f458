"""A delivery whose retry waits longer than the broker's visibility timeout: Redis hands the
waiting dispatch task out again, yet the receiver gets the message once — only the dispatcher
that claimed the delivery (one conditional UPDATE) sends it. Prints its figures (``-s``)."""

from __future__ import annotations

import re
import time

import pytest

from orchestrator import devstack
from orchestrator.accounts.models import User
from orchestrator.demo_data import DemoData
from orchestrator.integrations.outbox import queue_report_deliveries
from orchestrator.integrations.outbox_models import Delivery
from tests.mllp import MllpReceiver
from tests.orchestrator.integrations.conftest import (
    committed_demo,  # noqa: F401 (a fixture)
    destination,
    new_case,
    route,
    signed_report,
)

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]

VISIBILITY_S = 2  # the worker's (tests/reliability/conftest.py)


def test_a_retry_longer_than_the_visibility_timeout_still_delivers_once(
    committed_demo: DemoData,  # noqa: F811
    worker: devstack.ManagedProcess,
) -> None:
    receiver = MllpReceiver()
    receiver.start()
    port = receiver.port
    receiver.stop()  # the LIS is down for the first attempt
    lis = destination(
        committed_demo.department, "lis", "hl7_mllp", f"127.0.0.1:{port}", timeout_s=1.0
    )
    route(lis)
    log_start = len(worker.log_since_start())
    case = new_case(committed_demo.department, "S26-70001")
    [queued] = queue_report_deliveries(
        signed_report(case, User.objects.get(username="pathologist"))
    )
    deadline = time.monotonic() + 30
    while not queued.attempt_log.filter(verdict="retry").exists():
        assert time.monotonic() < deadline, "the first attempt was not recorded"
        time.sleep(0.1)
    with MllpReceiver(port) as back:  # the LIS is back while the retry waits
        deadline = time.monotonic() + 40
        while Delivery.objects.get(pk=queued.pk).status != "delivered":
            assert time.monotonic() < deadline, Delivery.objects.get(pk=queued.pk).last_error
            time.sleep(0.2)
        time.sleep(VISIBILITY_S * 2)  # any copy of the dispatch task still about has run
        received = back.received_ids()

    delivery = Delivery.objects.get(pk=queued.pk)
    log = worker.log_since_start()[log_start:]
    tasks = len(re.findall(r"Task integrations\.dispatch_destination\[[^\]]+\] received", log))
    print(f"delivery_dispatch_tasks_received={tasks}")
    print(f"delivery_attempts={delivery.attempts}")
    print(f"delivery_copies_at_receiver={received.count(delivery.control_id)}")
    assert received == [delivery.control_id]
    assert delivery.attempts == 2
    assert list(delivery.attempt_log.values_list("verdict", flat=True)) == ["retry", "accepted"]
