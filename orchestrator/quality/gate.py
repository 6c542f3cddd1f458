"""The golden-case gate on publishing: a draft with golden cases is shadow-run over them first.

Below the department's threshold (``QualitySettings.golden_threshold``, default 1: every golden
case agrees on every element) publishing is refused with every disagreement; an admin may
publish anyway with a reason, which is audited and shown in the version history.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings

from orchestrator.accounts.models import User
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.designs.models import WorkflowVersion
from orchestrator.designs.workflows import PublishBlocked, WorkflowError
from orchestrator.quality.models import (
    PublishGate,
    ShadowCase,
    ShadowCaseStatus,
    ShadowPurpose,
    ShadowRun,
    ShadowSource,
    ShadowStatus,
)
from orchestrator.quality.services import golden_threshold, start_shadow_run
from workflows.datasets import parse_dataset

POLL_SECONDS = 0.2


def wait_for_shadow_run(shadow: ShadowRun, timeout: float) -> ShadowRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shadow.refresh_from_db()
        if shadow.status == ShadowStatus.FINISHED:
            return shadow
        time.sleep(POLL_SECONDS)
    raise WorkflowError(
        f"the golden cases were not checked within {timeout:g} s (shadow run {shadow.pk}); "
        "are the workers running? Publishing again waits for the same shadow run"
    )


def disagreements(shadow: ShadowRun) -> list[dict[str, Any]]:
    """Every case and element that differs (or case that gave no values), in case order."""
    dataset = parse_dataset(shadow.workflow_version.template_version.dataset)
    found: list[dict[str, Any]] = []
    rows = shadow.cases.exclude(status=ShadowCaseStatus.AGREED).select_related("case")
    for row in rows.order_by("id"):
        found.extend(case_disagreements(row, dataset))
    return found


def case_disagreements(row: ShadowCase, dataset: Any) -> list[dict[str, Any]]:
    accession = row.case.accession
    if row.status == ShadowCaseStatus.FAILED:
        empty = {"zh": "", "en": ""}
        return [
            {
                "accession": accession,
                "element": "",
                "label": empty,
                "expected": None,
                "got": None,
                "tolerance": None,
                "error": row.error,
            }
        ]
    found = []
    for difference in row.differences:
        element = dataset.element(difference["element"])
        label = dict(element.label) if element else {"zh": "", "en": ""}
        found.append({"accession": accession, **difference, "label": label, "error": ""})
    return found


def _unfinished_gate_run(draft: WorkflowVersion) -> ShadowRun | None:
    """A gate run of this very draft over the current golden cases that has not finished yet
    (an earlier publish stopped waiting for it): publishing again waits for it."""
    golden = set(draft.workflow.golden_cases.values_list("case_id", flat=True))
    candidates = ShadowRun.objects.filter(
        workflow_version=draft,
        purpose=ShadowPurpose.PUBLISH_GATE,
        created_at__gte=draft.updated_at,
    ).exclude(status=ShadowStatus.FINISHED)
    for shadow in candidates.order_by("-created_at"):
        if set(shadow.cases.values_list("case_id", flat=True)) == golden:
            return shadow
    return None


def check_golden_cases(draft: WorkflowVersion, user: User | None, override_reason: str) -> None:
    """PUBLISH_CHECKS entry: run the draft over its workflow's golden cases and refuse below the
    threshold, unless ``override_reason`` is given (then the override is recorded)."""
    workflow = draft.workflow
    if not workflow.golden_cases.exists():
        return
    shadow = _unfinished_gate_run(draft) or start_shadow_run(
        draft, source=ShadowSource.GOLDEN, user=user, purpose=ShadowPurpose.PUBLISH_GATE
    )
    shadow = wait_for_shadow_run(shadow, settings.QUALITY_GATE_TIMEOUT_SECONDS)
    total = shadow.cases.count()
    agreement = shadow.cases_agreeing / total if total else 1.0
    threshold = golden_threshold(workflow.department)
    passed = agreement + 1e-9 >= threshold
    reason = "" if passed else override_reason.strip()
    PublishGate.objects.update_or_create(
        workflow_version=draft,
        defaults={
            "shadow_run": shadow,
            "passed": passed,
            "agreement": agreement,
            "threshold": threshold,
            "override_reason": reason,
            "decided_by": user,
        },
    )
    if passed:
        return
    detail: dict[str, Any] = {
        "number": draft.number,
        "shadow_run": shadow.pk,
        "agreement": round(agreement, 4),
    }
    if reason:
        record_event(
            AuditAction.WORKFLOW_GOLDEN_GATE_OVERRIDDEN,
            draft,
            actor=user,
            department=workflow.department,
            workflow=workflow.slug,
            reason=reason,
            **detail,
        )
        return
    record_event(
        AuditAction.WORKFLOW_GOLDEN_GATE_REFUSED,
        draft,
        actor=user,
        department=workflow.department,
        workflow=workflow.slug,
        **detail,
    )
    agreeing, cases = shadow.cases_agreeing, total
    raise PublishBlocked(
        f"{agreeing} of {cases} golden case(s) agree with version {draft.number}; the "
        f"department requires {threshold:.0%}. Fix the draft, or publish with an override "
        "reason",
        {
            "shadow_run": shadow.pk,
            "agreement": agreement,
            "threshold": threshold,
            "disagreements": disagreements(shadow),
        },
    )
