"""The outbox in one process against real receivers on loopback: routes queue each signed
version once, the dispatcher sends in order and records every answer, AR/4xx stop and hold
the destination with one alert, a resend takes the stopped one's place, retries back off."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest
from django.db import transaction
from django.test import override_settings

from orchestrator.accounts.models import User
from orchestrator.audit.models import AuditEvent
from orchestrator.demo_data import DemoData
from orchestrator.integrations.dispatcher import dispatch_destination
from orchestrator.integrations.outbox import (
    ResendRefused,
    queue_report_deliveries,
    queue_stats,
    resend_delivery,
)
from orchestrator.integrations.outbox_models import (
    Delivery,
    DeliveryIncident,
    DeliveryStatus,
)
from orchestrator.reports.models import ReportStatus
from tests.loopback import LoopbackServer, Request
from tests.mllp import MllpReceiver, control_id, refused_address

from .conftest import destination, ed_payload, new_case, route, signed_report, strictly_valid


def test_a_signed_report_is_queued_once_per_route_and_delivered_once(
    outbox_demo: DemoData, signer: User, receiver: MllpReceiver
) -> None:
    lis = destination(outbox_demo.department, "lis", "hl7_mllp", receiver.address)
    route(lis, ("final", "amended"))
    report = signed_report(new_case(outbox_demo.department), signer)

    with transaction.atomic():
        [delivery] = queue_report_deliveries(report)
    again = queue_report_deliveries(report)

    assert again == [delivery]
    assert Delivery.objects.count() == 1
    assert dispatch_destination(lis.pk) is None
    [message] = receiver.messages
    strictly_valid(message)
    assert control_id(message) == delivery.control_id
    assert hashlib.sha256(ed_payload(message)).hexdigest() == report.pdf_sha256
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.message == message
    [attempt] = delivery.attempt_log.all()
    assert (attempt.verdict, attempt.summary) == ("accepted", "AA")
    assert f"MSA|AA|{delivery.control_id}" in attempt.answer
    # Sending again finds nothing to send: the receiver still has one message.
    assert dispatch_destination(lis.pk) is None
    assert len(receiver.messages) == 1


def test_routes_match_case_type_and_status_and_skip_disabled_ones(
    outbox_demo: DemoData, signer: User, receiver: MllpReceiver
) -> None:
    department = outbox_demo.department
    lis = destination(department, "lis", "hl7_mllp", receiver.address)
    route(lis, ("final",), case_types=["breast-resection"])
    route(
        destination(department, "other-type", "hl7_mllp", receiver.address),
        ("final",),
        case_types=["prostate-biopsy"],
    )
    route(destination(department, "off", "hl7_mllp", receiver.address), ("final",), enabled=False)
    route(destination(department, "prelim-only", "hl7_mllp", receiver.address), ("preliminary",))
    report = signed_report(new_case(department), signer)

    deliveries = queue_report_deliveries(report)

    assert [d.destination.slug for d in deliveries] == ["lis"]


def test_a_rejection_stops_the_destination_holds_later_ones_and_raises_one_alert(
    outbox_demo: DemoData, signer: User, receiver: MllpReceiver
) -> None:
    lis = destination(outbox_demo.department, "lis", "hl7_mllp", receiver.address)
    route(lis)
    reports = [
        signed_report(new_case(outbox_demo.department, f"S26-0000{n}"), signer) for n in (1, 2, 3)
    ]
    deliveries = [queue_report_deliveries(r)[0] for r in reports]
    receiver.script("AA", "AR", "AA")

    dispatch_destination(lis.pk)
    dispatch_destination(lis.pk)  # a second dispatcher pass sends nothing while it is held

    assert receiver.received_ids() == [deliveries[0].control_id, deliveries[1].control_id]
    statuses = [Delivery.objects.get(pk=d.pk).status for d in deliveries]
    assert statuses == ["delivered", "stopped", "queued"]
    stopped = Delivery.objects.get(pk=deliveries[1].pk)
    assert stopped.last_error == "AR: rejected by test"
    [incident] = DeliveryIncident.objects.all()
    assert incident.kind == "stopped"
    assert incident.closed_at is None
    assert AuditEvent.objects.filter(action="delivery.alert").count() == 1
    [stats] = queue_stats(outbox_demo.department)
    assert (stats.depth, stats.held) == (2, True)
    assert stats.oldest_age_s is not None
    assert stats.oldest_age_s >= 0

    # A resend takes the stopped delivery's place: it goes first, then the held one.
    copy = resend_delivery(stopped, signer)
    dispatch_destination(lis.pk)

    assert copy.resend_of_id == stopped.pk
    assert receiver.received_ids()[2:] == [copy.control_id, deliveries[2].control_id]
    assert Delivery.objects.get(pk=deliveries[2].pk).status == "delivered"
    incident.refresh_from_db()
    assert incident.closed_at is not None
    assert AuditEvent.objects.filter(action="delivery.resent", object_id=str(stopped.pk)).exists()
    # One still going out is not resent.
    pending = queue_report_deliveries(
        signed_report(new_case(outbox_demo.department, "S26-00009"), signer)
    )[0]
    with pytest.raises(ResendRefused, match="is still queued"):
        resend_delivery(pending, signer)


@override_settings(DELIVERY_RETRY_BASE_MS=60_000, DELIVERY_ALERT_AFTER_ATTEMPTS=2)
def test_an_application_error_is_retried_later_and_an_unreachable_one_alerts_once(
    outbox_demo: DemoData, signer: User, receiver: MllpReceiver
) -> None:
    lis = destination(outbox_demo.department, "lis", "hl7_mllp", receiver.address)
    route(lis)
    first = queue_report_deliveries(signed_report(new_case(outbox_demo.department), signer))[0]
    receiver.script("AE")

    wait = dispatch_destination(lis.pk)

    first.refresh_from_db()
    assert first.status == "queued"
    assert first.attempts == 1
    assert wait is not None
    assert 60 <= wait <= 75
    assert first.last_error == "AE: rejected by test"

    # The receiver goes away: attempts fail; the second failure in a row opens one incident.
    lis.base_url = refused_address()
    lis.save()
    for _ in range(3):
        Delivery.objects.filter(pk=first.pk).update(next_attempt_at=first.created_at)
        dispatch_destination(lis.pk)
    first.refresh_from_db()
    assert first.attempts == 4
    assert first.status == "queued"
    assert "cannot deliver" in first.last_error
    assert DeliveryIncident.objects.filter(kind="failing").count() == 1
    assert AuditEvent.objects.filter(action="delivery.alert").count() == 1
    verdicts = list(first.attempt_log.values_list("verdict", flat=True))
    assert verdicts == ["retry"] * 4


@override_settings(DELIVERY_RETRY_BASE_MS=1, DELIVERY_MAX_ATTEMPTS=200)
def test_a_delivery_fails_after_its_destinations_attempts_whatever_the_workers_setting(
    outbox_demo: DemoData, signer: User
) -> None:
    lis = destination(outbox_demo.department, "lis", "hl7_mllp", refused_address(), max_attempts=2)
    route(lis)
    first, held = (
        queue_report_deliveries(signed_report(new_case(outbox_demo.department, a), signer))[0]
        for a in ("S26-CAP-1", "S26-CAP-2")
    )
    for _ in range(4):  # more dispatches than attempts: the cap is the destination's
        Delivery.objects.filter(pk=first.pk).update(next_attempt_at=first.created_at)
        dispatch_destination(lis.pk)

    first.refresh_from_db()
    assert (first.status, first.attempts) == ("failed", 2)
    assert list(first.attempt_log.values_list("verdict", flat=True)) == ["retry", "retry"]
    assert Delivery.objects.get(pk=held.pk).attempts == 0  # held behind the failed one
    incident = DeliveryIncident.objects.get(destination=lis)
    assert incident.summary == f"delivery {first.pk} failed after 2 attempts"


# --- webhook and FHIR destinations --------------------------------------------------------


class HookReceiver(LoopbackServer):
    def __init__(self, status: int = 202) -> None:
        super().__init__()
        self.status = status
        self.bodies: list[tuple[dict[str, str], bytes]] = []

    def post(self, request: Request) -> None:
        self.bodies.append((request.header_map(), request.body()))
        request.reply(self.status, {"status": self.status})


@pytest.fixture
def hooks() -> Iterator[HookReceiver]:
    with HookReceiver() as server:
        yield server


def test_a_webhook_is_signed_and_a_4xx_answer_stops_it(
    outbox_demo: DemoData, signer: User, hooks: HookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATHFLOW_TEST_HOOK_SECRET", "hook-secret")
    hook = destination(
        outbox_demo.department,
        "hook",
        "webhook",
        f"{hooks.url}/in",
        secret_ref="PATHFLOW_TEST_HOOK_SECRET",
    )
    route(hook, ("final", "amended"))
    case = new_case(outbox_demo.department)
    final = signed_report(case, signer)
    [delivery] = queue_report_deliveries(final)

    dispatch_destination(hook.pk)

    [(headers, raw)] = hooks.bodies
    expected = "sha256=" + hmac.new(b"hook-secret", raw, hashlib.sha256).hexdigest()
    assert headers["x-pathflow-signature"] == expected
    assert headers["idempotency-key"] == delivery.idempotency_key
    body = json.loads(raw)
    assert body["event"] == "report.final"
    assert body["report"]["sha256"] == final.pdf_sha256
    assert body["report"]["pages"] == 1
    assert hashlib.sha256(__import__("base64").b64decode(body["pdf_base64"])).hexdigest() == (
        final.pdf_sha256
    )

    hooks.status = 422
    amended = signed_report(case, signer, status=ReportStatus.AMENDED, supersedes=final)
    [second] = queue_report_deliveries(amended)
    dispatch_destination(hook.pk)

    second.refresh_from_db()
    assert second.status == "stopped"
    assert second.last_error == "HTTP 422"
    assert DeliveryIncident.objects.get().kind == "stopped"


def test_a_pdf_changed_on_disk_is_never_sent(
    outbox_demo: DemoData, signer: User, receiver: MllpReceiver
) -> None:
    lis = destination(outbox_demo.department, "lis", "hl7_mllp", receiver.address)
    route(lis)
    report = signed_report(new_case(outbox_demo.department), signer)
    with open(report.pdf.path, "ab") as stored:
        stored.write(b"tampered")
    [delivery] = queue_report_deliveries(report)

    dispatch_destination(lis.pk)

    delivery.refresh_from_db()
    assert receiver.messages == []
    assert delivery.status == "stopped"
    assert "does not match the SHA-256" in delivery.last_error


@override_settings(DELIVERY_BACKLOG_ALERT_SECONDS=0)
def test_a_backlog_raises_one_alert_until_the_destination_delivers_again(
    outbox_demo: DemoData, signer: User, receiver: MllpReceiver
) -> None:
    from orchestrator.integrations.dispatcher import alert_on_backlogs

    lis = destination(outbox_demo.department, "lis", "hl7_mllp", receiver.address)
    route(lis)
    for n in (1, 2, 3):
        queue_report_deliveries(
            signed_report(new_case(outbox_demo.department, f"S26-0000{n}"), signer)
        )

    assert alert_on_backlogs() == 1
    assert alert_on_backlogs() == 0  # the incident is open: no second alert
    dispatch_destination(lis.pk)

    assert len(receiver.messages) == 3
    assert DeliveryIncident.objects.get().closed_at is not None
    assert AuditEvent.objects.filter(action="delivery.alert").count() == 1
    assert AuditEvent.objects.filter(action="delivery.alert_resolved").count() == 1


def test_deliveries_wait_for_the_recall_window_and_a_recalled_sign_out_never_leaves(
    outbox_demo: DemoData, signer: User, receiver: MllpReceiver
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from orchestrator.reports.models import ReportSignature

    lis = destination(outbox_demo.department, "lis", "hl7_mllp", receiver.address)
    route(lis)
    recalled = signed_report(new_case(outbox_demo.department, "S26-00001"), signer)
    waiting = signed_report(new_case(outbox_demo.department, "S26-00002"), signer)
    now = timezone.now()
    for report, until in (
        (recalled, now + timedelta(seconds=60)),
        (waiting, now + timedelta(seconds=60)),
    ):
        ReportSignature.objects.create(
            report=report,
            signer=signer,
            signed_at=now,
            pdf_sha256=report.pdf_sha256,
            recall_until=until,
        )
    [first] = queue_report_deliveries(recalled)
    [second] = queue_report_deliveries(waiting)
    assert first.next_attempt_at >= now + timedelta(seconds=59)

    wait = dispatch_destination(lis.pk)

    assert wait is not None
    assert 55 <= wait <= 60
    assert receiver.messages == []
    ReportSignature.objects.filter(report=recalled).update(recalled_at=timezone.now())
    ReportSignature.objects.filter(report=waiting).update(recall_until=timezone.now())
    Delivery.objects.filter(pk=second.pk).update(next_attempt_at=timezone.now())

    dispatch_destination(lis.pk)

    assert receiver.received_ids() == [second.control_id]
    assert Delivery.objects.get(pk=first.pk).status == "withdrawn"
    assert AuditEvent.objects.filter(action="delivery.withdrawn").count() == 1


def test_a_worker_without_the_destinations_secret_retries_instead_of_stopping(
    outbox_demo: DemoData, signer: User, hooks: HookReceiver
) -> None:
    hook = destination(
        outbox_demo.department,
        "hook",
        "webhook",
        f"{hooks.url}/in",
        secret_ref="PATHFLOW_TEST_SECRET_NOT_SET",
    )
    route(hook)
    [delivery] = queue_report_deliveries(signed_report(new_case(outbox_demo.department), signer))

    dispatch_destination(hook.pk)

    delivery.refresh_from_db()
    assert hooks.bodies == []
    assert delivery.status == "queued"
    assert (
        delivery.last_error == "the secret PATHFLOW_TEST_SECRET_NOT_SET is not set on this worker"
    )
