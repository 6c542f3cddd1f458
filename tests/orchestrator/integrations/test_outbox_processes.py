"""The outbox with real processes: Celery workers consuming the delivery queue, dispatcher
processes side by side, a destination that goes away and comes back, and an ORU for a real run
(MLServer, render, deliver node) validated by hl7apy at the strict level on arrival."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from django.db import transaction
from django.utils import timezone

from orchestrator import devstack
from orchestrator.accounts.models import User
from orchestrator.cases.services import create_case
from orchestrator.demo_data import DemoData, with_delivery, workflow_file
from orchestrator.designs.services import import_workflow
from orchestrator.integrations.dispatcher import LEASE_MARGIN_S, claim
from orchestrator.integrations.outbox import queue_report_deliveries
from orchestrator.integrations.outbox_models import Delivery, DeliveryAttempt
from orchestrator.reports.models import Report, ReportStatus
from orchestrator.runs.models import RunStatus
from orchestrator.runs.services import start_run
from tests.conftest import REPO, case_document
from tests.mllp import MllpReceiver, control_id
from tests.parked import wait_for_draft

from .conftest import (
    destination,
    ed_payload,
    new_case,
    route,
    segments,
    signed_report,
    strictly_valid,
)

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]


def pathologist() -> User:
    return User.objects.get(username="pathologist")


def wait_delivered(ids: list[int], timeout: float = 90.0) -> list[Delivery]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = list(Delivery.objects.filter(pk__in=ids).order_by("queued_at", "id"))
        if all(d.status == "delivered" for d in rows):
            return rows
        time.sleep(0.2)
    states = list(Delivery.objects.filter(pk__in=ids).values_list("status", "last_error"))
    raise AssertionError(f"not all delivered within {timeout} s: {states}")


@pytest.fixture(scope="module")
def delivery_worker(
    worker_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[devstack.ManagedProcess]:
    """A worker on the run and delivery queues with quick retries and a quick sweep."""
    env = {
        **worker_env,
        "PATHFLOW_DELIVERY_RETRY_BASE_MS": "200",
        "PATHFLOW_DELIVERY_RETRY_MAX_SECONDS": "1",
        "PATHFLOW_DELIVERY_SWEEP_SECONDS": "1",
    }
    worker = devstack.start_worker(
        tmp_path_factory.mktemp("delivery-worker"), name="delivery", concurrency=2, env=env
    )
    try:
        yield worker
    finally:
        worker.stop()


def test_a_destination_down_for_a_while_gets_everything_afterwards_in_order_once(
    committed_demo: DemoData, delivery_worker: devstack.ManagedProcess
) -> None:
    receiver = MllpReceiver()
    receiver.start()
    port = receiver.port
    receiver.stop()  # the LIS is down
    lis = destination(
        committed_demo.department, "lis", "hl7_mllp", f"127.0.0.1:{port}", timeout_s=1.0
    )
    route(lis)
    queued = [
        queue_report_deliveries(
            signed_report(new_case(committed_demo.department, f"S26-1{n:04d}"), pathologist())
        )[0]
        for n in range(8)
    ]
    # Attempts fail while it is down.
    deadline = time.monotonic() + 30
    while Delivery.objects.get(pk=queued[0].pk).attempts < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert Delivery.objects.get(pk=queued[0].pk).attempts >= 2
    assert all(Delivery.objects.get(pk=d.pk).attempts == 0 for d in queued[1:])

    again = MllpReceiver(port)
    with again:  # the LIS is back on the same port
        delivered = wait_delivered([d.pk for d in queued])

    assert again.received_ids() == [d.control_id for d in queued]  # in order, once each
    assert [d.control_id for d in delivered] == [d.control_id for d in queued]
    first = delivered[0]
    verdicts = list(first.attempt_log.values_list("verdict", flat=True))
    assert verdicts[-1] == "accepted"
    assert set(verdicts[:-1]) == {"retry"}


def test_two_dispatcher_processes_never_send_a_delivery_twice(
    committed_demo: DemoData, process_env: dict[str, str]
) -> None:
    with MllpReceiver() as receiver, MllpReceiver() as second:
        receiver.delay_s = second.delay_s = 0.01
        lis = destination(committed_demo.department, "lis", "hl7_mllp", receiver.address)
        ehr = destination(committed_demo.department, "ehr", "hl7_mllp", second.address)
        route(lis)
        route(ehr)
        queued = [
            queue_report_deliveries(
                signed_report(new_case(committed_demo.department, f"S26-2{n:04d}"), pathologist())
            )
            for n in range(25)
        ]
        env = {**process_env, "PATHFLOW_LOG_LEVEL": "WARNING"}
        dispatchers = [
            subprocess.Popen(
                [sys.executable, "manage.py", "dispatch_deliveries", "--seconds", "120"],
                cwd=REPO,
                env={**os.environ, **env},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=180)[0].decode() for p in dispatchers]

    assert [p.returncode for p in dispatchers] == [0, 0], outputs
    for server, slug in ((receiver, "lis"), (second, "ehr")):
        expected = [d.control_id for pair in queued for d in pair if d.destination.slug == slug]
        assert server.received_ids() == expected  # each once, in order
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert Delivery.objects.filter(attempts=1).count() == 50


def test_an_oru_for_a_real_run_arrives_strictly_valid_with_the_stored_pdf(
    demo: DemoData, delivery_worker: devstack.ManagedProcess, receiver: MllpReceiver
) -> None:
    lis = destination(demo.department, "lis", "hl7_mllp", receiver.address)
    route(lis, ("final",))
    graph = with_delivery(workflow_file("breast-resection-ki67")["graph"], "hl7_mllp", "lis")
    version = import_workflow(
        demo.department,
        graph,
        demo.workflow_version.template_version,
        slug="breast-to-lis",
        case_type="breast-resection",
    )
    case = create_case(demo.department, case_document("breast-resection"))

    run = wait_for_draft(start_run(case, version).pk)

    # The draft went out (its deliver node) and waits for the pathologist's sign-out.
    assert run.status == RunStatus.WAITING_REVIEW, run.error
    draft = Report.objects.get(run=run)
    [message] = receiver.wait_for(1)
    strictly_valid(message)
    assert segments(message, "OBR")[0][25] == "R"  # an unverified AI draft
    assert hashlib.sha256(ed_payload(message)).hexdigest() == draft.pdf_sha256
    assert "NTE|1|O|AI: model ihc-dab" in message
    delivery = Delivery.objects.get(run=run)
    assert control_id(message) == delivery.control_id

    # A final version signed later goes out through its route.
    final = signed_report(
        case,
        User.objects.get(username="pathologist"),
        data=draft.data,
        provenance=draft.provenance,
        supersedes=draft,
    )
    assert final.status == ReportStatus.FINAL
    [signed] = queue_report_deliveries(final)
    second = receiver.wait_for(2)[1]
    strictly_valid(second)
    [obr] = segments(second, "OBR")
    assert obr[25] == "F"
    assert obr[32].split("&")[0] == str(final.signed_by_id)
    assert hashlib.sha256(ed_payload(second)).hexdigest() == final.pdf_sha256
    assert wait_delivered([signed.pk])[0].run_id is None


def test_a_delivery_left_sending_by_a_dead_dispatcher_is_swept_and_sent_once(
    committed_demo: DemoData,
    receiver: MllpReceiver,
    delivery_worker: devstack.ManagedProcess,
) -> None:
    lis = destination(committed_demo.department, "lis", "hl7_mllp", receiver.address)
    route(lis)
    with transaction.atomic():
        [delivery] = queue_report_deliveries(
            signed_report(new_case(committed_demo.department), pathologist())
        )
        # A dispatcher claims it, starts its attempt and dies: its lease lapses in a second.
        assert claim(delivery, "dead-host:1:x", timeout_s=1 - LEASE_MARGIN_S)
        DeliveryAttempt.objects.create(
            delivery=delivery, number=1, worker="dead-host:1:x", started_at=timezone.now()
        )

    [delivered] = wait_delivered([delivery.pk], timeout=30)

    assert receiver.received_ids() == [delivery.control_id]
    assert list(delivered.attempt_log.values_list("number", "verdict")) == [
        (1, "interrupted"),
        (2, "accepted"),
    ]
