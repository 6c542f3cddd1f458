"""What the review cockpit reads: the queue of drafts waiting for the department, and one
draft's fields with their provenance, the AI's original values and what blocks sign-out.

Queries here are department-scoped by their caller's user and use a fixed number of queries
(the queue prefetches what the triage value reads).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from orchestrator.accounts.models import User
from orchestrator.cases.models import PRIORITY_RANK, Priority
from orchestrator.reports.lifecycle import UNSIGNED, dataset_of, sign_out_problems
from orchestrator.reports.models import FieldOverride, Report
from orchestrator.runs.models import NodeRun
from workflows.datasets import override_reasons

QUEUE_ORDERINGS = ("priority", "age", "-age", "triage", "-triage", "case_type")


def waiting_drafts(user: User) -> QuerySet[Report]:
    """Drafts of the user's department that are the newest version of their case and not a
    test run's: what waits for a pathologist."""
    if user.department_id is None:
        return Report.objects.none()
    return (
        Report.objects.filter(
            case__department_id=user.department_id,
            status__in=UNSIGNED,
            superseded_by__isnull=True,
        )
        .exclude(run__is_test=True)
        .select_related("case", "run", "template_version__template")
    )


def _predict_proba(outputs: Any) -> float | None:
    """P(positive class) from a binary classifier's ``predict_proba`` output ([[p0, p1]])."""
    result = outputs.get("result") if isinstance(outputs, dict) else None
    proba = result.get("predict_proba") if isinstance(result, dict) else None
    try:
        value = proba[0][1] if isinstance(proba[0], list) else proba[1]  # type: ignore[index]
    except (TypeError, IndexError, KeyError):
        return None
    return float(value) if isinstance(value, int | float) else None


def triage_value(report: Report, node_runs: list[NodeRun]) -> float | None:
    """The AI's triage value for the queue (e.g. a malignancy probability): the highest
    ``confidence`` a model gave for a field of the draft, else the positive-class probability
    of a classifier the run called."""
    confidences = [
        float(source["confidence"])
        for sources in report.provenance.values()
        if isinstance(sources, list)
        for source in sources
        if isinstance(source, dict) and isinstance(source.get("confidence"), int | float)
    ]
    if confidences:
        return max(confidences)
    found = [
        p
        for row in node_runs
        if row.node_type == "model_call" and (p := _predict_proba(row.outputs)) is not None
    ]
    return max(found) if found else None


@dataclass(frozen=True)
class QueueItem:
    report: Report
    triage: float | None
    age_seconds: int

    def as_dict(self) -> dict[str, Any]:
        case = self.report.case
        run = self.report.run
        return {
            "report_id": self.report.pk,
            "version": self.report.version_no,
            "status": self.report.status,
            "accession": case.accession,
            "case_id": case.pk,
            "case_type": case.case_type,
            "priority": case.priority,
            "template": self.report.template_version.template.name,
            "created_at": self.report.created_at,
            "age_seconds": self.age_seconds,
            "triage": self.triage,
            "run_id": run.pk if run else None,
            "run_status": run.status if run else None,
        }


def _sort_key(ordering: str) -> Any:
    """``age``: newest first; ``-age``: oldest first; ``priority``: most urgent first, then
    oldest first; ``triage``/``-triage``: by the AI's value (drafts without one last)."""

    def order(i: QueueItem) -> tuple[Any, int]:
        return (i.report.created_at, i.report.pk)

    keys: dict[str, Any] = {
        "priority": lambda i: (PRIORITY_RANK.get(Priority(i.report.case.priority), 9), order(i)),
        "age": lambda i: (-i.report.created_at.timestamp(), -i.report.pk),
        "-age": order,
        "triage": lambda i: (i.triage is None, i.triage or 0.0, order(i)),
        "-triage": lambda i: (i.triage is None, -(i.triage or 0.0), order(i)),
        "case_type": lambda i: (i.report.case.case_type, order(i)),
    }
    return keys[ordering]


def review_queue(
    user: User,
    *,
    ordering: str = "priority",
    case_type: str = "",
    priority: str = "",
    min_triage: float | None = None,
) -> list[QueueItem]:
    """The department's waiting drafts, filtered and sorted (see ``QUEUE_ORDERINGS``)."""
    drafts = waiting_drafts(user)
    if case_type:
        drafts = drafts.filter(case__case_type=case_type)
    if priority:
        drafts = drafts.filter(case__priority=priority)
    model_calls = NodeRun.objects.filter(node_type="model_call", status="succeeded")
    drafts = drafts.prefetch_related(Prefetch("run__node_runs", model_calls, to_attr="models"))
    now = timezone.now()
    items = [
        QueueItem(
            report,
            triage_value(report, getattr(report.run, "models", []) if report.run else []),
            int((now - report.created_at).total_seconds()),
        )
        for report in drafts
    ]
    if min_triage is not None:
        items = [i for i in items if i.triage is not None and i.triage >= min_triage]
    return sorted(items, key=_sort_key(ordering))


def next_in_queue(user: User, after: Report, ordering: str = "priority") -> int | None:
    """The report id to open after ``after`` is signed: the first other waiting draft."""
    for item in review_queue(user, ordering=ordering):
        if item.report.pk != after.pk:
            return item.report.pk
    return None


def _ai_values(report: Report, overrides: list[FieldOverride]) -> dict[str, Any]:
    """The AI draft's values: the first version's, with each field a person changed (anywhere
    in the chain, in time order) put back to the value before its first change."""
    values = dict(report.data)
    seen: set[str] = set()
    for override in overrides:
        if override.element in seen:
            continue
        seen.add(override.element)
        if override.old_value is None:
            values.pop(override.element, None)
        else:
            values[override.element] = override.old_value
    return values


def _first_draft(report: Report) -> Report:
    """The AI's draft this chain started from (a recalled sign-out reopens a copy)."""
    current = report
    while current.supersedes_id is not None:
        current = Report.objects.select_related("supersedes").get(pk=current.supersedes_id)
    return current


def review_detail(report: Report) -> dict[str, Any]:
    """The cockpit's view of one version: every element with its value, the AI's value, the
    provenance (endpoint, model version, run, confidence where given), whether the person
    changed it, and every problem that blocks sign-out."""
    dataset = dataset_of(report)
    origin = _first_draft(report)
    overrides = list(
        FieldOverride.objects.filter(report__case_id=report.case_id)
        .select_related("user")
        .order_by("at", "id")
    )
    ai = _ai_values(origin, overrides)
    derived = {rule.element for rule in dataset.rules if rule.kind == "derived"}
    reasons = override_reasons(report.data)
    fields = []
    for section in dataset.sections:
        for element in section.elements:
            value = report.data.get(element.id)
            fields.append(
                {
                    "id": element.id,
                    "section": section.title,
                    "labels": element.label,
                    "type": element.type,
                    "is_required": element.required,
                    "unit": element.unit,
                    "answers": [{"code": a.code, "labels": a.label} for a in element.answers],
                    "value": value,
                    "ai_value": ai.get(element.id),
                    "differs_from_ai": value != ai.get(element.id),
                    "provenance": report.provenance.get(element.id, []),
                    "confidence": _confidence(report.provenance.get(element.id, [])),
                    "derived": element.id in derived,
                    "override_reason": reasons.get(element.id, ""),
                }
            )
    return {
        "report_id": report.pk,
        "version": report.version_no,
        "status": report.status,
        "signed": report.is_signed,
        "template": {"name": dataset.title, "version": report.template_version.number},
        "case": _case_block(report),
        "elements": fields,
        "problems": sign_out_problems(report) if not report.is_signed else [],
        "overrides": [
            {
                "element": o.element,
                "old_value": o.old_value,
                "new_value": o.new_value,
                "user": str(o.user),
                "at": o.at,
            }
            for o in overrides
        ],
        "pdf_url": f"/api/v1/reports/{report.pk}/pdf",
    }


def _confidence(sources: Any) -> float | None:
    found = [
        float(s["confidence"])
        for s in sources or []
        if isinstance(s, dict) and isinstance(s.get("confidence"), int | float)
    ]
    return max(found) if found else None


def _case_block(report: Report) -> dict[str, Any]:
    case = report.case
    return {
        "id": case.pk,
        "accession": case.accession,
        "case_type": case.case_type,
        "priority": case.priority,
        "patient_name": case.patient_name,
        "patient_mrn": case.patient_mrn,
        "clinical_info": case.clinical_info,
        "received_at": case.created_at,
    }
