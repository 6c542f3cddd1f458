"""Golden cases, tolerances and shadow runs: views, the publish gate and tasks call these."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from orchestrator.accounts.models import Department, User
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.cases.models import Case
from orchestrator.designs.models import Workflow, WorkflowVersion
from orchestrator.quality.compare import agreement_figures, compare_values, printed_values
from orchestrator.quality.models import (
    ElementTolerance,
    GoldenCase,
    QualitySettings,
    ShadowCase,
    ShadowCaseStatus,
    ShadowPurpose,
    ShadowRun,
    ShadowSource,
    ShadowStatus,
)
from orchestrator.quality.shadow import ShadowInput, execute_shadow_batch, shadow_run_for
from orchestrator.reports.models import SIGNED_STATUSES, Report
from workflows.datasets import Dataset, parse_dataset
from workflows.registry import REGISTRY
from workflows.spec import parse_graph

logger = logging.getLogger(__name__)
# Cases executed together by one task (concurrently, in the worker's event loop).
BATCH_SIZE = 10
MAX_RECENT = 500


class QualityRejected(ValueError):
    """The request cannot be done; the message says why."""


def latest_signed(case: Case) -> Report | None:
    return (
        Report.objects.filter(case=case, status__in=SIGNED_STATUSES).order_by("-version_no").first()
    )


# --- settings, golden cases, tolerances -----------------------------------------------------


def golden_threshold(department: Department) -> float:
    found = QualitySettings.objects.filter(department=department).first()
    return found.golden_threshold if found else 1.0


def set_golden_threshold(department: Department, threshold: float, user: User) -> float:
    if not 0.0 <= threshold <= 1.0:
        raise QualityRejected("the threshold is a fraction of golden cases, from 0 to 1")
    QualitySettings.objects.update_or_create(
        department=department, defaults={"golden_threshold": threshold}
    )
    record_event(
        AuditAction.QUALITY_SETTINGS_CHANGED,
        department,
        actor=user,
        department=department,
        golden_threshold=threshold,
    )
    return threshold


def mark_golden(workflow: Workflow, case: Case, user: User, note: str = "") -> GoldenCase:
    """Mark a signed case of the workflow's department as one of its golden cases."""
    if case.department_id != workflow.department_id:
        raise QualityRejected("the case belongs to another department than the workflow")
    if latest_signed(case) is None:
        raise QualityRejected(f"case {case.accession} has no signed report yet")
    golden, created = GoldenCase.objects.get_or_create(
        workflow=workflow, case=case, defaults={"marked_by": user, "note": note}
    )
    if not created:
        raise QualityRejected(f"case {case.accession} is already a golden case of this workflow")
    record_event(
        AuditAction.GOLDEN_CASE_MARKED,
        golden,
        actor=user,
        department=workflow.department,
        workflow=workflow.slug,
        case=case.pk,
    )
    return golden


def workflow_of_report(report: Report) -> Workflow:
    """The workflow whose run drafted this case's report (the newest such version of the case)."""
    drafted = (
        report.case.reports.filter(run__isnull=False)
        .select_related("run__workflow_version__workflow")
        .order_by("-version_no")
        .first()
    )
    if drafted is None or drafted.run is None:
        raise QualityRejected(
            f"case {report.case.accession} was not drafted by a workflow; mark it from the "
            "workflow's quality page instead"
        )
    return drafted.run.workflow_version.workflow


def unmark_golden(golden: GoldenCase, user: User) -> None:
    workflow = golden.workflow
    record_event(
        AuditAction.GOLDEN_CASE_UNMARKED,
        golden,
        actor=user,
        department=workflow.department,
        workflow=workflow.slug,
        case=golden.case_id,
    )
    golden.delete()


def workflow_dataset(workflow: Workflow) -> Dataset:
    """The template of the workflow's newest version (its draft, else the latest published)."""
    version = workflow.versions.order_by("-number").select_related("template_version").first()
    if version is None:
        raise QualityRejected(f"workflow '{workflow.slug}' has no version")
    return parse_dataset(version.template_version.dataset)


def set_tolerance(
    workflow: Workflow, element_id: str, tolerance: float | None, user: User
) -> ElementTolerance | None:
    """Set (or with None remove) the tolerance of a numeric element of the workflow's template."""
    element = workflow_dataset(workflow).element(element_id)
    if element is None:
        raise QualityRejected(f"'{element_id}' is not an element of the workflow's template")
    if element.type != "number":
        raise QualityRejected(f"'{element_id}' is not a number: only numbers have a tolerance")
    if tolerance is not None and tolerance < 0:
        raise QualityRejected("a tolerance cannot be negative")
    found: ElementTolerance | None = None
    if tolerance is None:
        ElementTolerance.objects.filter(workflow=workflow, element=element_id).delete()
    else:
        found, _ = ElementTolerance.objects.update_or_create(
            workflow=workflow, element=element_id, defaults={"tolerance": tolerance}
        )
    record_event(
        AuditAction.ELEMENT_TOLERANCE_SET,
        workflow,
        actor=user,
        department=workflow.department,
        workflow=workflow.slug,
        element=element_id,
        tolerance=tolerance,
    )
    return found


# --- shadow runs ----------------------------------------------------------------------------


def _chosen_cases(
    version: WorkflowVersion, source: str, case_type: str, limit: int
) -> list[tuple[Case, Report]]:
    workflow = version.workflow
    if source == ShadowSource.GOLDEN:
        cases = [g.case for g in workflow.golden_cases.select_related("case")]
    else:
        if not 1 <= limit <= MAX_RECENT:
            raise QualityRejected(f"choose from 1 to {MAX_RECENT} past cases")
        signed = Report.objects.filter(status__in=SIGNED_STATUSES)
        cases = list(
            Case.objects.filter(
                department_id=workflow.department_id,
                case_type=case_type or workflow.case_type,
                pk__in=signed.values("case_id"),
            ).order_by("-created_at", "-id")[:limit]
        )
    chosen = []
    for case in cases:
        report = latest_signed(case)
        if report is not None:
            chosen.append((case, report))
    return chosen


def start_shadow_run(
    version: WorkflowVersion,
    *,
    source: str,
    user: User | None,
    case_type: str = "",
    limit: int = 20,
    purpose: str = ShadowPurpose.MANUAL,
) -> ShadowRun:
    """Create a shadow run of ``version`` over its workflow's golden cases or the last ``limit``
    signed cases of ``case_type``, and hand its cases to workers in batches once the
    transaction commits. Raises QualityRejected when there is no case to run."""
    chosen = _chosen_cases(version, source, case_type, limit)
    if not chosen:
        what = "golden cases" if source == ShadowSource.GOLDEN else "signed past cases"
        raise QualityRejected(f"workflow '{version.workflow.slug}' has no {what} to run")
    with transaction.atomic():
        shadow = ShadowRun.objects.create(
            workflow_version=version,
            source=source,
            case_type=case_type if source == ShadowSource.RECENT else "",
            purpose=purpose,
            requested_by=user,
        )
        rows = ShadowCase.objects.bulk_create(
            ShadowCase(shadow_run=shadow, case=case, report=report) for case, report in chosen
        )
        record_event(
            AuditAction.SHADOW_RUN_STARTED,
            shadow,
            actor=user,
            actor_label="" if user else "system",
            department=version.workflow.department,
            workflow=version.workflow.slug,
            number=version.number,
            cases=len(rows),
            purpose=purpose,
        )
        ids = [r.pk for r in rows]
        batches = [ids[i : i + BATCH_SIZE] for i in range(0, len(ids), BATCH_SIZE)]
        transaction.on_commit(lambda: _enqueue(batches))
    return shadow


def _enqueue(batches: list[list[int]]) -> None:
    from orchestrator.quality.tasks import execute_shadow_cases_task

    for batch in batches:
        execute_shadow_cases_task.delay(batch)


def _fills(version: WorkflowVersion) -> set[str]:
    """Every element a node of the version's graph fills (by its config)."""
    filled: set[str] = set()
    for node in parse_graph(version.spec).nodes:
        node_type = REGISTRY.get(node.type, node.type_version)
        if node_type is not None:
            try:
                filled |= node_type.fills(node.config)
            except Exception:  # noqa: S112 - a node with an unusable config fills nothing
                continue
    return filled


def execute_shadow_cases(case_ids: list[int]) -> None:
    """Execute and compare the pending cases ``case_ids`` of one shadow run (a task's batch)."""
    rows = list(
        ShadowCase.objects.filter(pk__in=case_ids, status=ShadowCaseStatus.PENDING)
        .select_related(
            "case__department",
            "report",
            "shadow_run__workflow_version__workflow",
            "shadow_run__workflow_version__template_version",
        )
        .prefetch_related("case__specimens")
    )
    if not rows:
        return
    shadow = rows[0].shadow_run
    ShadowRun.objects.filter(pk=shadow.pk, status=ShadowStatus.QUEUED).update(
        status=ShadowStatus.RUNNING
    )
    try:
        _execute_and_judge(shadow, rows)
    except Exception as exc:  # the graph or template cannot be used: the cases end failed
        logger.exception("shadow run %s: a batch could not be executed", shadow.pk)
        for row in rows:
            row.status, row.error = ShadowCaseStatus.FAILED, f"{type(exc).__name__}: {exc}"
        ShadowCase.objects.bulk_update(rows, ["status", "error"])
    finish_if_done(shadow.pk)


def _execute_and_judge(shadow: ShadowRun, rows: list[ShadowCase]) -> None:
    version = shadow.workflow_version
    dataset = parse_dataset(version.template_version.dataset)
    inputs = [ShadowInput(row.pk, shadow_run_for(row.case, version)) for row in rows]
    answers = {
        a.key: a for a in execute_shadow_batch(version, parse_graph(version.spec), dataset, inputs)
    }
    fills = _fills(version)
    tolerances = dict(
        ElementTolerance.objects.filter(workflow=version.workflow).values_list(
            "element", "tolerance"
        )
    )
    for row in rows:
        _judge(row, answers[row.pk], dataset, fills, tolerances)
    ShadowCase.objects.bulk_update(
        rows, ["status", "expected", "got", "differences", "compared", "error", "duration_ms"]
    )


def _judge(
    row: ShadowCase,
    answer: Any,
    dataset: Dataset,
    fills: set[str],
    tolerances: dict[str, float],
) -> None:
    row.duration_ms = answer.duration_ms
    row.expected = printed_values(dataset, row.report.data)
    if answer.values is None:
        row.status, row.error = ShadowCaseStatus.FAILED, answer.error
        return
    row.got = printed_values(dataset, answer.values)
    comparison = compare_values(dataset, row.expected, row.got, fills=fills, tolerances=tolerances)
    row.compared = comparison.compared
    row.differences = [d.as_dict() for d in comparison.differences]
    row.status = ShadowCaseStatus.AGREED if comparison.agrees else ShadowCaseStatus.DIFFERED


def finish_if_done(shadow_id: int) -> ShadowRun | None:
    """Store a shadow run's agreement once none of its cases is pending."""
    with transaction.atomic():
        shadow = ShadowRun.objects.select_for_update().filter(pk=shadow_id).first()
        if shadow is None or shadow.status == ShadowStatus.FINISHED:
            return shadow
        if shadow.cases.filter(status=ShadowCaseStatus.PENDING).exists():
            return shadow
        results = [
            (status == ShadowCaseStatus.AGREED, compared, [d["element"] for d in differences])
            for status, compared, differences in shadow.cases.exclude(
                status=ShadowCaseStatus.FAILED
            ).values_list("status", "compared", "differences")
        ]
        shadow.cases_agreeing, shadow.element_agreement = agreement_figures(results)
        shadow.status = ShadowStatus.FINISHED
        shadow.finished_at = timezone.now()
        shadow.save(update_fields=["cases_agreeing", "element_agreement", "status", "finished_at"])
    logger.info("shadow run %s finished", shadow_id)
    return shadow


def progress(shadow: ShadowRun) -> dict[str, int]:
    """How many of the shadow run's cases are done, and how they came out."""
    counts = shadow.cases.aggregate(
        total=Count("id"),
        pending=Count("id", filter=Q(status=ShadowCaseStatus.PENDING)),
        agreed=Count("id", filter=Q(status=ShadowCaseStatus.AGREED)),
        differed=Count("id", filter=Q(status=ShadowCaseStatus.DIFFERED)),
        failed=Count("id", filter=Q(status=ShadowCaseStatus.FAILED)),
    )
    return {k: int(v or 0) for k, v in counts.items()}
