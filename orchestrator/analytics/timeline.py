"""A case's way through the department and the figures built on it: turnaround, throughput,
the review queue's length over time, and failed runs and deliveries.

A case's milestones (docs/analytics.md defines them):

- **received**: ``Case.created_at`` (the order arrived: REST, HL7 or the integration API);
- **draft ready**: the first AI draft of the case (a ``Report`` a worker stored: no author,
  status draft, from a run that is not a test run);
- **signed**: the first sign-out that was not recalled (``ReportSignature.signed_at`` of the
  case's ``final`` version);
- **delivered**: the first successful delivery of that signed version
  (``Delivery.delivered_at``).

Sample cases (``source="sample"``, made for test runs in the designer) are left out. Counts are
grouped in the database (``TruncDate`` in the server's time zone); durations are read as
timestamps in one query and their percentiles computed here (SQLite has no percentile
function, and the figures must be the same on SQLite and PostgreSQL).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, DateTimeField, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncDate

from orchestrator.analytics.filters import Filters, local_day
from orchestrator.cases.models import Case
from orchestrator.integrations.outbox_models import Delivery, DeliveryStatus
from orchestrator.reports.models import Report, ReportSignature, ReportStatus
from orchestrator.runs.models import TERMINAL_STATUSES, Run, RunStatus

MILESTONES = ("received", "draft_ready", "signed", "delivered")
# Turnaround segments: (name, from milestone, to milestone).
SEGMENTS = (
    ("received_to_draft", "received", "draft_ready"),
    ("draft_to_signed", "draft_ready", "signed"),
    ("signed_to_delivered", "signed", "delivered"),
    ("received_to_signed", "received", "signed"),
    ("received_to_delivered", "received", "delivered"),
)


def ai_drafts() -> QuerySet[Report]:
    """Drafts a worker stored for a real (not test) run: what the AI proposed."""
    return Report.objects.filter(
        author__isnull=True, status=ReportStatus.DRAFT, run__isnull=False, run__is_test=False
    )


def live_final_signatures() -> QuerySet[ReportSignature]:
    """Sign-outs that stand: the ``final`` version's signature, not recalled."""
    return ReportSignature.objects.filter(
        report__status=ReportStatus.FINAL, recalled_at__isnull=True
    )


def _first(queryset: QuerySet[Any], field: str) -> Subquery:
    return Subquery(queryset.order_by(field).values(field)[:1], output_field=DateTimeField())


def cases(filters: Filters) -> QuerySet[Any]:
    """The department's real cases (of the case type, if one is chosen) with their milestones
    annotated: ``received``, ``draft_ready``, ``signed``, ``delivered`` (null until reached)."""
    found = Case.objects.filter(department_id=filters.department_id).exclude(source="sample")
    if filters.case_type:
        found = found.filter(case_type=filters.case_type)
    deliveries = Delivery.objects.filter(
        report__case=OuterRef("pk"),
        report__status=ReportStatus.FINAL,
        report__signature__recalled_at__isnull=True,
        status=DeliveryStatus.DELIVERED,
        delivered_at__isnull=False,
    )
    return found.annotate(
        received=F("created_at"),
        draft_ready=_first(ai_drafts().filter(case=OuterRef("pk")), "created_at"),
        signed=_first(live_final_signatures().filter(report__case=OuterRef("pk")), "signed_at"),
        delivered=_first(deliveries, "delivered_at"),
    )


def minutes(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 60


def nearest_rank(ordered: list[float], percent: float) -> float:
    """The nearest-rank percentile of sorted values: the value at rank ceil(p/100 × n)."""
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: Iterable[float]) -> dict[str, Any]:
    """n, min, p25, median, p75, p90, max and mean of durations in minutes (one decimal)."""
    ordered = sorted(values)
    if not ordered:
        return {"n": 0} | dict.fromkeys(("min", "p25", "median", "p75", "p90", "max", "mean"))
    figures = {
        "min": ordered[0],
        "p25": nearest_rank(ordered, 25),
        "median": statistics.median(ordered),
        "p75": nearest_rank(ordered, 75),
        "p90": nearest_rank(ordered, 90),
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }
    return {"n": len(ordered), **{k: round(v, 1) for k, v in figures.items()}}


def turnaround(filters: Filters) -> dict[str, list[dict[str, Any]]]:
    """Durations between milestones of the cases signed in the range: per case type and
    segment (``by_case_type``) and per day of sign-out and case type (``by_day``). A segment
    counts the cases that reached both of its milestones."""
    rows = cases(filters).filter(signed__gte=filters.start, signed__lt=filters.end)
    durations: dict[tuple[str, str], list[float]] = defaultdict(list)
    per_day: dict[tuple[date, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows.values("case_type", *MILESTONES):
        day = local_day(row["signed"])
        for name, start, end in SEGMENTS:
            if row[start] is not None and row[end] is not None:
                value = minutes(row[end], row[start])
                durations[(row["case_type"], name)].append(value)
                per_day[(day, row["case_type"])][name].append(value)
    by_case_type = [
        {"case_type": case_type, "segment": name, **summary(durations[(case_type, name)])}
        for case_type in sorted({k[0] for k in durations})
        for name, _, _ in SEGMENTS
    ]
    by_day = []
    for (day, case_type), found in sorted(per_day.items()):
        signed = summary(found["received_to_signed"])
        review = summary(found["draft_to_signed"])
        delivered = summary(found["received_to_delivered"])
        by_day.append(
            {
                "day": day,
                "case_type": case_type,
                "signed": signed["n"],
                "received_to_signed_median": signed["median"],
                "received_to_signed_p90": signed["p90"],
                "draft_to_signed_median": review["median"],
                "received_to_delivered_median": delivered["median"],
            }
        )
    return {"by_case_type": by_case_type, "by_day": by_day}


def _count_by_day(
    queryset: QuerySet[Any], field: str, case_type_path: str
) -> dict[tuple[date, str], int]:
    grouped = (
        queryset.annotate(day=TruncDate(field))
        .values("day", case_type_path)
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {(row["day"], row[case_type_path]): row["n"] for row in grouped}


def throughput(filters: Filters) -> dict[str, list[dict[str, Any]]]:
    """Per day and case type: cases received, AI drafts ready, cases signed and delivered
    (each case counted on the day it reached the milestone)."""
    counts = {}
    for milestone in MILESTONES:
        in_range = cases(filters).filter(
            **{f"{milestone}__gte": filters.start, f"{milestone}__lt": filters.end}
        )
        counts[milestone] = _count_by_day(in_range, milestone, "case_type")
    keys = sorted({key for found in counts.values() for key in found})
    by_day = [
        {"day": day, "case_type": case_type}
        | {milestone: counts[milestone].get((day, case_type), 0) for milestone in MILESTONES}
        for day, case_type in keys
    ]
    return {"by_day": by_day}


def queue_length(filters: Filters) -> dict[str, list[dict[str, Any]]]:
    """The review queue at the end of each day, per case type: cases whose AI draft was ready
    and that were not yet signed (a sign-out that was later recalled does not count)."""
    ends = {
        day: filters.end - timedelta(days=(filters.date_to - day).days) for day in filters.days()
    }
    waiting = {
        f"d{index}": Count(
            "pk",
            filter=Q(draft_ready__lt=end) & (Q(signed__isnull=True) | Q(signed__gte=end)),
        )
        for index, end in enumerate(ends.values())
    }
    found = (
        cases(filters)
        .filter(draft_ready__lt=filters.end)
        .filter(Q(signed__isnull=True) | Q(signed__gte=filters.start))
        .values("case_type")
        .annotate(**waiting)
        .order_by("case_type")
    )
    rows: list[dict[str, Any]] = [dict(row) for row in found]
    by_day = [
        {"day": day, "case_type": row["case_type"], "waiting": row[f"d{index}"]}
        for index, day in enumerate(ends)
        for row in rows
    ]
    return {"by_day": by_day}


def failures(filters: Filters) -> dict[str, list[dict[str, Any]]]:
    """Finished runs per day (of finishing), case type and workflow version with how many
    failed; deliveries per day (of queueing), destination and channel with how many failed
    (no attempt left) or were stopped (the receiver rejected them)."""
    runs = Run.objects.filter(
        case__department_id=filters.department_id, is_test=False, status__in=TERMINAL_STATUSES
    ).exclude(case__source="sample")
    deliveries = Delivery.objects.filter(department_id=filters.department_id)
    if filters.case_type:
        runs = runs.filter(case__case_type=filters.case_type)
        deliveries = deliveries.filter(report__case__case_type=filters.case_type)
    runs = runs.annotate(ended=Coalesce("finished_at", "created_at")).filter(
        ended__gte=filters.start, ended__lt=filters.end
    )
    run_rows = (
        runs.annotate(day=TruncDate("ended"))
        .values(
            "day",
            "case__case_type",
            "workflow_version__workflow__slug",
            "workflow_version__number",
        )
        .annotate(finished=Count("pk"), failed=Count("pk", filter=Q(status=RunStatus.FAILED)))
        .order_by("day", "case__case_type", "workflow_version__workflow__slug")
    )
    delivery_rows = (
        deliveries.filter(queued_at__gte=filters.start, queued_at__lt=filters.end)
        .annotate(day=TruncDate("queued_at"))
        .values("day", "destination__slug", "channel")
        .annotate(
            queued=Count("pk"),
            delivered=Count("pk", filter=Q(status=DeliveryStatus.DELIVERED)),
            failed=Count("pk", filter=Q(status=DeliveryStatus.FAILED)),
            stopped=Count("pk", filter=Q(status=DeliveryStatus.STOPPED)),
        )
        .order_by("day", "destination__slug", "channel")
    )
    return {
        "runs": [
            {
                "day": row["day"],
                "case_type": row["case__case_type"],
                "workflow": row["workflow_version__workflow__slug"],
                "workflow_version": row["workflow_version__number"],
                "finished": row["finished"],
                "failed": row["failed"],
            }
            for row in run_rows
        ],
        "deliveries": [
            {
                "day": row["day"],
                "destination": row["destination__slug"],
                "channel": row["channel"],
                "queued": row["queued"],
                "delivered": row["delivered"],
                "failed": row["failed"],
                "stopped": row["stopped"],
            }
            for row in delivery_rows
        ],
    }


def case_types(department_id: int) -> list[str]:
    """The case types the department has real cases of (the dashboard's filter)."""
    found = (
        Case.objects.filter(department_id=department_id)
        .exclude(source="sample")
        .values_list("case_type", flat=True)
        .distinct()
        .order_by("case_type")
    )
    return list(found)
