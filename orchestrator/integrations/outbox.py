"""The outbox's services: queue deliveries (with what they deliver, in the same transaction),
resend one, and read the queues. Sending is the dispatcher's (``dispatcher.py``).

Seams:
- ``queue_report_deliveries(report)`` — called by sign-out/amend inside its transaction: one
  delivery per matching enabled route of the report's department, never two for the same
  destination and report version.
- ``check_node_delivery`` / ``write_node_deliveries`` — the deliver node's request, checked
  when the node runs and written with the node's checkpoint (``runs/bridge.py``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from orchestrator.accounts.models import Department, User
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.integrations.outbox_models import (
    HOLDING_STATUSES,
    PENDING_STATUSES,
    Delivery,
    DeliveryIncident,
    DeliveryRoute,
)
from orchestrator.reports.models import Report, ReportSignature
from orchestrator.runs.models import Run
from workflows.channels import CHANNELS
from workflows.context import DeliveryRequest
from workflows.errors import NodeError

logger = logging.getLogger(__name__)


class ResendRefused(Exception):
    """The delivery cannot be resent now; the message says why."""


def new_control_id() -> str:
    """A message control id (MSH-10, at most 20 characters), unique per delivery."""
    return "PF" + uuid.uuid4().hex[:18].upper()


def _create(delivery: Delivery) -> Delivery | None:
    """Insert ``delivery``; None when the destination already has this report version."""
    try:
        with transaction.atomic():
            delivery.save()
    except IntegrityError:
        return None
    record_event(
        AuditAction.DELIVERY_QUEUED,
        delivery,
        actor=delivery.requested_by,
        actor_label="" if delivery.requested_by else "outbox",
        department=delivery.department,
        destination=delivery.destination.slug,
        report=delivery.report_id,
        channel=delivery.channel,
        resend_of=delivery.resend_of_id,
    )
    return delivery


def _existing(destination_id: int, report_id: int) -> Delivery | None:
    return Delivery.objects.filter(
        destination_id=destination_id, report_id=report_id, resend_of__isnull=True
    ).first()


def enqueue_after_commit(destination_ids: Iterable[int]) -> None:
    chosen = sorted(set(destination_ids))
    if chosen:
        from orchestrator.integrations.tasks import enqueue_dispatch

        transaction.on_commit(lambda: enqueue_dispatch(chosen))


def queue_report_deliveries(report: Report) -> list[Delivery]:
    """One Delivery per enabled route of the report's department that matches its case type
    and status, to an enabled destination — an existing one when that destination already
    has this report version. Call it inside the transaction that stores ``report``; the
    dispatcher is told once it commits."""
    case = report.case
    routes = DeliveryRoute.objects.filter(
        department_id=case.department_id, enabled=True, destination__enabled=True
    ).select_related("destination", "department")
    deliveries: list[Delivery] = []
    new: list[int] = []
    with transaction.atomic():
        for route in routes:
            destination = route.destination
            if destination.protocol not in CHANNELS or not route.matches(
                case.case_type, report.status
            ):
                continue
            now = timezone.now()
            due = max(now, recall_until(report) or now)
            created = _create(
                Delivery(
                    department=route.department,
                    destination=destination,
                    channel=destination.protocol,
                    report=report,
                    route=route,
                    event=f"report.{report.status}",
                    include_pdf=route.include_pdf,
                    idempotency_key=f"report:{report.pk}:destination:{destination.pk}",
                    control_id=new_control_id(),
                    queued_at=now,
                    next_attempt_at=due,
                )
            )
            if created is not None:
                new.append(destination.pk)
            found = created or _existing(destination.pk, report.pk)
            if found is not None and found not in deliveries:
                deliveries.append(found)
        enqueue_after_commit(new)
    return deliveries


def recall_until(report: Report) -> datetime | None:
    """Until when the signer may still recall this version's sign-out (its deliveries wait);
    None for a version without a signature record."""
    until: datetime | None = (
        ReportSignature.objects.filter(report=report).values_list("recall_until", flat=True).first()
    )
    return until


# --- the deliver node ------------------------------------------------------------------------


def latest_version(report: Report) -> Report:
    """The newest version in the chain that starts at ``report`` (amendments supersede)."""
    current = report
    for _ in range(1000):
        following = Report.objects.filter(supersedes=current).first()
        if following is None:
            return current
        current = following
    return current


@dataclass(frozen=True)
class NodeDelivery:
    """A deliver node's request, checked; written with the node's checkpoint."""

    request: DeliveryRequest
    report_id: int
    destination_id: int


def check_node_delivery(run: Run, request: DeliveryRequest) -> tuple[NodeDelivery, dict[str, Any]]:
    """Check a deliver node's request against the run's case and the catalog; return it ready
    to write and the receipt the node records. Raises NodeError naming what is wrong."""
    report = Report.objects.filter(pk=request.report_id, case_id=run.case_id).first()
    if report is None:
        raise NodeError(f"report {request.report_id} is not a report of this case", permanent=True)
    report = latest_version(report)
    if not report.pdf:
        raise NodeError(f"report {report.pk} of this case has no PDF", permanent=True)
    destination = ModelEndpoint.objects.filter(
        department_id=run.case.department_id, slug=request.destination, enabled=True
    ).first()
    if destination is None or destination.protocol != request.channel:
        raise NodeError(
            f"destination '{request.destination}' is not an enabled {request.channel} "
            "destination of the department",
            permanent=True,
        )
    receipt: dict[str, Any] = {
        "status": "queued",
        "report_id": report.pk,
        "report_version": report.version_no,
    }
    existing = _existing(destination.pk, report.pk)
    if existing is not None:
        receipt.update(status="already queued", delivery_id=existing.pk)
    return NodeDelivery(request, report.pk, destination.pk), receipt


def write_node_deliveries(run: Run, pending: list[NodeDelivery]) -> list[Delivery]:
    """Write the deliveries of deliver nodes; call inside the checkpoint's transaction. A
    destination that already has the report version keeps its delivery (written once)."""
    written: list[Delivery] = []
    for item in pending:
        now = timezone.now()
        created = _create(
            Delivery(
                department_id=run.case.department_id,
                destination_id=item.destination_id,
                channel=item.request.channel,
                report_id=item.report_id,
                run=run,
                node_id=item.request.node_id,
                event=item.request.event,
                include_pdf=item.request.include_pdf,
                data=item.request.data,
                idempotency_key=item.request.idempotency_key,
                control_id=new_control_id(),
                queued_at=now,
                next_attempt_at=now,
            )
        )
        if created is not None:
            written.append(created)
    enqueue_after_commit(d.destination_id for d in written)
    return written


# --- resend and queues -----------------------------------------------------------------------


def resend_delivery(original: Delivery, user: User) -> Delivery:
    """A new delivery of the same report version to the same destination, linked to
    ``original``. A stopped or failed original is released (it holds its destination no
    longer) and the copy takes its place in the destination's order; a delivered one is sent
    again at the end of the queue. A pending one is refused: it is still going out."""
    if original.status in PENDING_STATUSES:
        raise ResendRefused(f"delivery {original.pk} is still {original.status}; wait for it")
    now = timezone.now()
    holding = original.status in HOLDING_STATUSES
    with transaction.atomic():
        copies = Delivery.objects.filter(resend_of=original).count()
        copy = Delivery(
            department_id=original.department_id,
            destination_id=original.destination_id,
            channel=original.channel,
            report_id=original.report_id,
            route_id=original.route_id,
            run_id=original.run_id,
            node_id=original.node_id,
            resend_of=original,
            requested_by=user,
            event=original.event,
            include_pdf=original.include_pdf,
            data=original.data,
            idempotency_key=f"{original.idempotency_key}:resend:{copies + 1}",
            control_id=new_control_id(),
            queued_at=original.queued_at if holding else now,
            next_attempt_at=now,
        )
        copy.save()
        if holding:
            Delivery.objects.filter(pk=original.pk).update(released=True)
        record_event(
            AuditAction.DELIVERY_RESENT,
            original,
            actor=user,
            department=original.department,
            resend=copy.pk,
            released=holding,
        )
        record_event(
            AuditAction.DELIVERY_QUEUED,
            copy,
            actor=user,
            department=original.department,
            resend_of=original.pk,
            destination=copy.destination_id,
        )
        enqueue_after_commit([copy.destination_id])
    return copy


def waiting(queryset: Any) -> Any:
    """Deliveries not yet delivered that still count: pending ones and unreleased held ones."""
    return queryset.filter(
        Q(status__in=PENDING_STATUSES) | Q(status__in=HOLDING_STATUSES, released=False)
    )


@dataclass(frozen=True)
class QueueStats:
    destination: ModelEndpoint
    depth: int
    oldest_undelivered_at: datetime | None
    held: bool
    open_incident: DeliveryIncident | None

    @property
    def oldest_age_s(self) -> float | None:
        if self.oldest_undelivered_at is None:
            return None
        return max(0.0, (timezone.now() - self.oldest_undelivered_at).total_seconds())


def queue_stats(department: Department) -> list[QueueStats]:
    """Per delivery destination of the department: undelivered deliveries, when the oldest of
    them was queued, whether a stopped/failed one holds the queue, and the open incident."""
    destinations = [
        d
        for d in ModelEndpoint.objects.filter(department=department).order_by("slug")
        if d.protocol in CHANNELS
    ]
    counts = {
        row["destination_id"]: row
        for row in waiting(Delivery.objects.filter(department=department))
        .values("destination_id")
        .annotate(
            depth=Count("id"),
            oldest=Min("created_at"),
            held=Count("id", filter=Q(status__in=HOLDING_STATUSES)),
        )
    }
    incidents = {
        i.destination_id: i
        for i in DeliveryIncident.objects.filter(department=department, closed_at__isnull=True)
    }
    return [
        QueueStats(
            destination=d,
            depth=counts.get(d.pk, {}).get("depth", 0),
            oldest_undelivered_at=counts.get(d.pk, {}).get("oldest"),
            held=bool(counts.get(d.pk, {}).get("held", 0)),
            open_incident=incidents.get(d.pk),
        )
        for d in destinations
    ]
