"""The dispatcher: sends the deliveries of one destination in order, once each, and records
every answer. Runs in Celery tasks on the ``delivery`` queue (``tasks.py``).

- **Order.** A destination's deliveries go out by (queued_at, id). Its *head* is the first one
  not delivered (and not released by a resend); only the head is ever sent, so a later
  delivery waits while an earlier one is queued, sending or waiting for its retry, and a
  stopped or failed head holds the destination until someone resends (or releases) it.
- **Once.** The head is claimed with one conditional UPDATE (queued or with an expired lease →
  sending, lease owner and expiry): two dispatchers never send the same row at once. The
  message is built at the first attempt and stored; every attempt sends the same bytes with the
  same idempotency key and control id. Only if a dispatcher dies after sending and before
  recording the answer is a message sent again, after its lease expires — with the same
  key/MSH-10, so that the receiver can drop it.
- **Answers.** Every attempt is a DeliveryAttempt row with the verdict, a summary and the raw
  answer. Accepted → delivered; retry → queued again after exponential backoff with jitter
  (failed after the destination's ``max_attempts``, by default PATHFLOW_DELIVERY_MAX_ATTEMPTS);
  rejected (HL7 AR, HTTP 4xx) → stopped.
- **Alerts.** One DeliveryIncident per incident and destination (stopped, failing, backlog):
  an audit event and one log line when it opens, none for further problems while it is open;
  closed when the destination delivers again with nothing held.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.integrations.messages import MessageRefused, build_message
from orchestrator.integrations.outbox import waiting
from orchestrator.integrations.outbox_models import (
    HOLDING_STATUSES,
    AttemptVerdict,
    Delivery,
    DeliveryAttempt,
    DeliveryIncident,
    DeliveryStatus,
    IncidentKind,
)
from orchestrator.reports.models import ReportSignature
from workflows.channels import CHANNELS, Answer, Destination, OutboundMessage, Verdict

logger = logging.getLogger(__name__)

# Deliveries one task sends before handing the rest of the queue to a fresh task.
BATCH = 50
# A claim outlives the send: the destination's timeout plus this margin (the default of
# PATHFLOW_DELIVERY_LEASE_MARGIN_SECONDS).
LEASE_MARGIN_S = 30


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff_s(attempt: int) -> float:
    """Seconds before attempt ``attempt + 1``: base × 2^(attempt-1), capped, +0–25 % jitter."""
    base: float = settings.DELIVERY_RETRY_BASE_MS / 1000 * 2 ** max(0, attempt - 1)
    capped = min(float(settings.DELIVERY_RETRY_MAX_SECONDS), base)
    return float(capped * (1 + random.random() / 4))  # noqa: S311 — jitter, not security


def head(destination_id: int) -> Delivery | None:
    first: Delivery | None = (
        waiting(Delivery.objects.filter(destination_id=destination_id))
        .order_by("queued_at", "id")
        .first()
    )
    return first


def claim(delivery: Delivery, owner: str, timeout_s: float) -> bool:
    now = timezone.now()
    return bool(
        Delivery.objects.filter(
            pk=delivery.pk,
            status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING],
            next_attempt_at__lte=now,
        )
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))
        .update(
            status=DeliveryStatus.SENDING,
            lease_owner=owner,
            lease_expires_at=now
            + timedelta(seconds=timeout_s + settings.DELIVERY_LEASE_MARGIN_SECONDS),
            attempts=F("attempts") + 1,
        )
    )


def dispatch_destination(destination_id: int) -> float | None:
    """Send the destination's due deliveries in order until its queue is empty, held, or its
    head waits for a retry. Returns in how many seconds to look again (a retry is due), or
    None. Safe to run in several processes at once."""
    destination = ModelEndpoint.objects.filter(pk=destination_id, enabled=True).first()
    if destination is None or destination.protocol not in CHANNELS:
        return None
    owner = worker_id()
    for _ in range(BATCH):
        first = head(destination_id)
        if first is None:
            _close_incident(destination)
            return None
        wait = _wait_for(first)
        if wait == _AGAIN:
            continue
        if wait is not None:
            return _look_again_in(wait)
        if not claim(first, owner, destination.timeout_s):
            return None  # another dispatcher sends it (or just did); it carries on from there
        if send_claimed(first.pk, owner) != Verdict.ACCEPTED:
            again = head(destination_id)
            return _look_again_in(_wait_for(again) if again is not None else _HELD)
    return 0.0


# ``_wait_for`` answers: send now (None), look again at once (_AGAIN: the head was withdrawn),
# stop (_HELD: a stopped/failed head holds the destination), or seconds to wait.
_AGAIN = -2.0
_HELD = -1.0


def _look_again_in(wait: float | None) -> float | None:
    """What ``dispatch_destination`` returns for a head's wait: None when held, else seconds."""
    if wait == _HELD:
        return None
    return 0.0 if wait is None or wait == _AGAIN else wait


def _wait_for(first: Delivery) -> float | None:
    if first.status in HOLDING_STATUSES:
        return _HELD
    held = _recall_hold(first)
    if held is not None:
        return held if held > 0 else _AGAIN
    remaining = (first.next_attempt_at - timezone.now()).total_seconds()
    return remaining if remaining > 0 else None


class SecretMissing(Exception):
    """This worker lacks the destination's secret; another worker (or this one, once it is
    set) may have it: the attempt is retried, not stopped."""


def _recall_hold(delivery: Delivery) -> float | None:
    """Seconds the delivery must still wait for its sign-out's recall window; 0 when that
    sign-out was recalled (the delivery is withdrawn, never sent); None to send it now."""
    signature = (
        ReportSignature.objects.filter(report_id=delivery.report_id)
        .values("recall_until", "recalled_at")
        .first()
    )
    if signature is None:
        return None
    if signature["recalled_at"] is not None:
        withdrawn = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.QUEUED).update(
            status=DeliveryStatus.WITHDRAWN, last_error="the sign-out was recalled"
        )
        if withdrawn:
            record_event(
                AuditAction.DELIVERY_WITHDRAWN,
                delivery,
                actor_label="dispatcher",
                department=delivery.department,
                report=delivery.report_id,
            )
        return 0.0
    wait = (signature["recall_until"] - timezone.now()).total_seconds()
    if wait > 0:
        Delivery.objects.filter(
            pk=delivery.pk, next_attempt_at__lt=signature["recall_until"]
        ).update(next_attempt_at=signature["recall_until"])
        return wait
    return None


def _resolve(endpoint: ModelEndpoint) -> Destination:
    secret = os.environ.get(endpoint.secret_ref, "") if endpoint.secret_ref else ""
    if endpoint.secret_ref and not secret:
        raise SecretMissing(f"the secret {endpoint.secret_ref} is not set on this worker")
    headers: dict[str, str] = {}
    signing_key = None
    if secret and endpoint.protocol == "webhook":
        signing_key = secret.encode()
    elif secret:
        headers["Authorization"] = f"Bearer {secret}"
    return Destination(
        slug=endpoint.slug,
        channel=endpoint.protocol,
        address=endpoint.base_url,
        timeout_s=endpoint.timeout_s,
        headers=headers,
        signing_key=signing_key,
    )


def _load(delivery_id: int) -> Delivery:
    return Delivery.objects.select_related(
        "destination",
        "department",
        "report__case__department",
        "report__template_version__template",
        "report__signed_by",
    ).get(pk=delivery_id)


def send_claimed(delivery_id: int, owner: str) -> str:
    """One attempt of a delivery this worker has claimed: build (first time) and send, then
    record the answer. Returns the verdict."""
    delivery = _load(delivery_id)
    now = timezone.now()
    DeliveryAttempt.objects.filter(delivery=delivery, verdict=AttemptVerdict.SENDING).update(
        verdict=AttemptVerdict.INTERRUPTED,
        finished_at=now,
        summary="the dispatcher sending it stopped before the answer was recorded",
    )
    attempt = DeliveryAttempt.objects.create(
        delivery=delivery, number=delivery.attempts, worker=owner, started_at=now
    )
    try:
        destination = _resolve(delivery.destination)
        if not delivery.message:
            built = build_message(delivery, now)
            Delivery.objects.filter(pk=delivery.pk, lease_owner=owner).update(
                message=built.text, content_type=built.content_type
            )
            delivery.message, delivery.content_type = built.text, built.content_type
    except MessageRefused as exc:
        answer = Answer(Verdict.REJECTED, str(exc))
    except SecretMissing as exc:
        answer = Answer(Verdict.RETRY, str(exc))
    else:
        answer = _send(delivery, destination)
    record_answer(delivery, attempt, owner, answer)
    return answer.verdict


def _send(delivery: Delivery, destination: Destination) -> Answer:
    from orchestrator.runs.services import ENGINE_LOOP

    message = OutboundMessage(
        body=delivery.message.encode("utf-8"),
        content_type=delivery.content_type,
        idempotency_key=delivery.idempotency_key,
        control_id=delivery.control_id,
        event=delivery.event,
    )
    channel = CHANNELS[delivery.channel]
    try:
        return ENGINE_LOOP.run(lambda http: channel.send(http, destination, message))
    except Exception as exc:  # a channel bug must not lose the delivery: retried, recorded
        logger.exception("delivery %s: channel %s failed", delivery.pk, delivery.channel)
        return Answer(Verdict.RETRY, f"internal error: {type(exc).__name__}")


def max_attempts(destination: ModelEndpoint) -> int:
    """Attempts before a delivery to ``destination`` fails: the destination's own number, else
    the deployment's (PATHFLOW_DELIVERY_MAX_ATTEMPTS)."""
    return destination.max_attempts or int(settings.DELIVERY_MAX_ATTEMPTS)


_NEXT_STATUS = {
    Verdict.ACCEPTED: DeliveryStatus.DELIVERED,
    Verdict.RETRY: DeliveryStatus.QUEUED,
    Verdict.REJECTED: DeliveryStatus.STOPPED,
}


def record_answer(delivery: Delivery, attempt: DeliveryAttempt, owner: str, answer: Answer) -> None:
    now = timezone.now()
    status = _NEXT_STATUS[answer.verdict]
    if status == DeliveryStatus.QUEUED and delivery.attempts >= max_attempts(delivery.destination):
        status = DeliveryStatus.FAILED
    changes: dict[str, Any] = {
        "status": status,
        "lease_owner": "",
        "lease_expires_at": None,
        "last_error": "" if status == DeliveryStatus.DELIVERED else answer.summary,
    }
    if status == DeliveryStatus.DELIVERED:
        changes["delivered_at"] = now
    if status == DeliveryStatus.QUEUED:
        changes["next_attempt_at"] = now + timedelta(seconds=backoff_s(delivery.attempts))
    with transaction.atomic():
        DeliveryAttempt.objects.filter(pk=attempt.pk).update(
            verdict=answer.verdict,
            finished_at=now,
            summary=answer.summary[:400],
            answer=answer.raw,
        )
        stored = Delivery.objects.filter(pk=delivery.pk, lease_owner=owner).update(**changes)
        if not stored:
            logger.warning("delivery %s: lease lost before its answer was stored", delivery.pk)
            return
        if status != DeliveryStatus.QUEUED:
            record_event(
                AuditAction(f"delivery.{status}"),
                delivery,
                actor_label="dispatcher",
                department=delivery.department,
                attempts=delivery.attempts,
                destination=delivery.destination.slug,
                verdict=answer.verdict.value,
            )
        _alert_on(delivery, status, answer)
    logger.info(
        "delivery %s to %s: attempt %s %s",
        delivery.pk,
        delivery.destination.slug,
        delivery.attempts,
        status,
    )


def _alert_on(delivery: Delivery, status: str, answer: Answer) -> None:
    destination = delivery.destination
    if status == DeliveryStatus.STOPPED:
        open_incident(
            destination,
            IncidentKind.STOPPED,
            delivery,
            f"delivery {delivery.pk} was rejected: {answer.summary}",
        )
    elif status == DeliveryStatus.FAILED:
        open_incident(
            destination,
            IncidentKind.FAILING,
            delivery,
            f"delivery {delivery.pk} failed after {delivery.attempts} attempts",
        )
    elif status == DeliveryStatus.QUEUED and (
        delivery.attempts >= settings.DELIVERY_ALERT_AFTER_ATTEMPTS
    ):
        open_incident(
            destination,
            IncidentKind.FAILING,
            delivery,
            f"delivery {delivery.pk}: {delivery.attempts} attempts failed, the last: "
            f"{answer.summary}",
        )


def open_incident(
    destination: ModelEndpoint, kind: str, delivery: Delivery | None, summary: str
) -> DeliveryIncident | None:
    """Open an incident for ``destination`` unless one is open: one alert per incident."""
    if DeliveryIncident.objects.filter(destination=destination, closed_at__isnull=True).exists():
        return None
    try:
        with transaction.atomic():
            incident = DeliveryIncident.objects.create(
                department_id=destination.department_id,
                destination=destination,
                kind=kind,
                summary=summary[:400],
                delivery=delivery,
            )
    except IntegrityError:  # another dispatcher opened it a moment ago
        return None
    record_event(
        AuditAction.DELIVERY_ALERT,
        incident,
        actor_label="dispatcher",
        department=destination.department,
        destination=destination.slug,
        kind=kind,
        delivery=delivery.pk if delivery else None,
    )
    # Ids and the kind only: a receiver's error text may quote patient data.
    logger.warning(
        "ALERT destination %s: %s (incident %s, delivery %s)",
        destination.slug,
        kind,
        incident.pk,
        delivery.pk if delivery else "-",
    )
    return incident


def _close_incident(destination: ModelEndpoint) -> None:
    now = timezone.now()
    for incident in DeliveryIncident.objects.filter(
        destination=destination, closed_at__isnull=True
    ):
        if DeliveryIncident.objects.filter(pk=incident.pk, closed_at__isnull=True).update(
            closed_at=now
        ):
            record_event(
                AuditAction.DELIVERY_ALERT_RESOLVED,
                incident,
                actor_label="dispatcher",
                destination=destination.slug,
                kind=incident.kind,
            )
            logger.info("destination %s: incident %s resolved", destination.slug, incident.pk)


def due_destinations() -> list[int]:
    """Destinations with a delivery due now: queued and due, or sending with a lapsed lease
    (its dispatcher died). The sweep hands each to a dispatch task."""
    now = timezone.now()
    due = Delivery.objects.filter(
        Q(status=DeliveryStatus.QUEUED, next_attempt_at__lte=now)
        | Q(status=DeliveryStatus.SENDING, lease_expires_at__lte=now),
        destination__enabled=True,
    )
    return sorted(set(due.values_list("destination_id", flat=True)))


def alert_on_backlogs() -> int:
    """Open a backlog incident for each destination whose oldest undelivered delivery is older
    than PATHFLOW_DELIVERY_BACKLOG_ALERT_SECONDS (one per incident). Returns how many opened."""
    limit = timezone.now() - timedelta(seconds=settings.DELIVERY_BACKLOG_ALERT_SECONDS)
    old = waiting(Delivery.objects.filter(created_at__lte=limit)).values_list(
        "destination_id", flat=True
    )
    opened = 0
    for endpoint in ModelEndpoint.objects.filter(pk__in=set(old)):
        summary = f"undelivered messages older than {settings.DELIVERY_BACKLOG_ALERT_SECONDS} s"
        if open_incident(endpoint, IncidentKind.BACKLOG, None, summary):
            opened += 1
    return opened
