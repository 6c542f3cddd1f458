"""The report lifecycle after the AI draft: per-field overrides at review, sign-out (an
electronic signature), recall inside the window, and amendments, corrections and addenda.

Versions of a case form one chain: every new version is a new ``Report`` row that supersedes
the newest one, with its author, reason and time. A signed version is never changed (the
model, the API and, on PostgreSQL, a trigger refuse it). Rendering happens before the
transaction that stores a version, so the audit chain's lock is never held during a render.

Checks (``check_*``) raise typed errors naming every problem; changes (``do``-style functions
below) run inside ``transaction.atomic``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from orchestrator.accounts.models import User
from orchestrator.accounts.policy import Permission, can
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.cases.models import Case
from orchestrator.reports.models import (
    SIGNED_STATUSES,
    FieldOverride,
    Report,
    ReportSignature,
    ReportStatus,
)
from orchestrator.reports.services import (
    ReportHeader,
    Revision,
    Signature,
    queue_deliveries,
    render_report_pdf,
)
from orchestrator.runs.models import NodeRun, NodeRunStatus, Run, RunStatus
from orchestrator.runs.services import RunRejected, submit_review
from workflows.datasets import OVERRIDES, Dataset, findings_problems, parse_dataset

UNSIGNED = (ReportStatus.DRAFT, ReportStatus.PRELIMINARY)
REVISION_KINDS = (ReportStatus.AMENDED, ReportStatus.CORRECTED, ReportStatus.ADDENDUM)


class LifecycleError(Exception):
    """A lifecycle step cannot happen; ``problems`` lists every reason a person can act on."""

    status_code = 400

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class SignOutBlocked(LifecycleError):
    """Required elements are missing or values are invalid: the report cannot be signed."""


class SignatureRejected(LifecycleError):
    """The password given as the electronic signature is not the signer's."""

    status_code = 403


class VersionConflict(LifecycleError):
    """The version is not the one to act on (signed, superseded, or not yet signed)."""

    status_code = 409


class NotAllowed(LifecycleError):
    status_code = 403


# --- checks -----------------------------------------------------------------------------------


def check_signature(user: User, password: str, request: HttpRequest | None = None) -> None:
    """The electronic signature: the signer types their password again. Through the login
    backends when there is a request, so failed attempts count towards the login lockout."""
    if request is not None:
        ok = authenticate(request, username=user.get_username(), password=password) is not None
    else:
        ok = user.check_password(password)
    if not ok:
        raise SignatureRejected(["the password is not correct: the report was not signed"])


def _check_allowed(user: User, permission: Permission, report: Report) -> None:
    decision = can(user, permission, report)
    if not decision:
        raise NotAllowed([decision.reason])


def latest_version(case: Case) -> Report | None:
    return case.reports.order_by("-version_no").first()


def _check_newest(report: Report) -> None:
    newest = latest_version(report.case)
    if newest is not None and newest.pk != report.pk:
        raise VersionConflict(
            [f"version {report.version_no} was superseded by version {newest.version_no}"]
        )


def dataset_of(report: Report) -> Dataset:
    """The report's parsed dataset, parsed once per loaded template version (a cockpit request
    asks for it twice: the fields and the sign-out problems); parsed again if the version's
    dataset is replaced."""
    version = report.template_version
    memo = version.__dict__.get("_parsed_dataset")
    if memo is not None and memo[0] is version.dataset:
        return cast(Dataset, memo[1])
    dataset = parse_dataset(version.dataset)
    version.__dict__["_parsed_dataset"] = (version.dataset, dataset)
    return dataset


def sign_out_problems(report: Report) -> list[str]:
    """Everything that blocks signing ``report``'s values, each naming its element."""
    return [str(p) for p in findings_problems(dataset_of(report), report.data, complete=True)]


def live_signature(report: Report) -> ReportSignature | None:
    signature = ReportSignature.objects.filter(report=report).first()
    return signature if signature is not None and signature.recalled_at is None else None


def _previous_signed(report: Report) -> Report | None:
    """The newest signed, not recalled version of the case before ``report``."""
    return (
        Report.objects.filter(
            case_id=report.case_id,
            version_no__lt=report.version_no,
            status__in=SIGNED_STATUSES,
            signature__recalled_at__isnull=True,
        )
        .order_by("-version_no")
        .first()
    )


# --- overrides at review ----------------------------------------------------------------------


def person_source(user: User, at: str) -> dict[str, Any]:
    return {"kind": "person", "user": user.pk, "name": str(user), "at": at}


def override_field(
    report: Report, user: User, element_id: str, value: Any, reason: str = ""
) -> FieldOverride:
    """Set one field of a draft under review (``None`` clears it). Records the old and new
    value, who and when; the field's provenance becomes the person. ``reason`` says why the
    value differs from the one a derived rule computes (kept in the findings' ``_overrides``,
    printed with the value); without one, such a difference is refused naming the rule."""
    _check_allowed(user, Permission.REPORT_REVIEW, report)
    if report.status not in UNSIGNED:
        raise VersionConflict([f"version {report.version_no} is signed; amend it instead"])
    dataset = dataset_of(report)
    if dataset.element(element_id) is None:
        raise LifecycleError([f"{element_id}: is not an element of this template"])
    values = {k: v for k, v in report.data.items() if k != element_id}
    if value is not None:
        values[element_id] = value
    _set_override_reason(values, element_id, reason.strip() if value is not None else "")
    before = {str(p) for p in findings_problems(dataset, report.data, complete=False)}
    added = [
        str(p)
        for p in findings_problems(dataset, values, complete=False)
        if str(p) not in before and p.element_id == element_id
    ]
    if added:
        raise LifecycleError(added)
    now = timezone.now()
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        _check_newest(locked)
        if locked.status not in UNSIGNED:
            raise VersionConflict([f"version {locked.version_no} was signed meanwhile"])
        old = locked.data.get(element_id)
        old_provenance = locked.provenance.get(element_id)
        provenance = dict(locked.provenance)
        provenance[element_id] = [person_source(user, now.isoformat())]
        locked.data, locked.provenance = values, provenance
        locked.save(update_fields=["data", "provenance"])
        override = FieldOverride.objects.create(
            report=locked,
            element=element_id,
            old_value=old,
            new_value=value,
            old_provenance=old_provenance,
            user=user,
            at=now,
        )
        record_event(
            AuditAction.REPORT_FIELD_OVERRIDDEN,
            locked,
            actor=user,
            department=locked.case.department,
            element=element_id,
        )
    report.refresh_from_db()
    return override


def _set_override_reason(values: dict[str, Any], element_id: str, reason: str) -> None:
    """Record (or, with no reason, remove) the person's reason for ``element_id`` in the
    findings' ``_overrides``, which the dataset rules read."""
    reasons = dict(values.get(OVERRIDES) or {})
    reasons.pop(element_id, None)
    if reason:
        reasons[element_id] = {"reason": reason}
    if reasons:
        values[OVERRIDES] = reasons
    else:
        values.pop(OVERRIDES, None)


# --- sign-out -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rendered:
    content: bytes
    sha256: str
    status: str
    signed_at: Any


def _render_signed(
    report: Report, user: User, values: dict[str, Any], status: str, reason: str
) -> _Rendered:
    dataset = dataset_of(report)
    signed_at = timezone.now()
    revision = Revision(kind=status, reason=reason) if status in REVISION_KINDS else None
    rendered = render_report_pdf(
        report.template_version,
        dataset,
        ReportHeader.from_case(report.case),
        values,
        report.provenance,
        report.language,
        status,
        signature=Signature(
            signed_by=str(user), signed_at=timezone.localtime(signed_at).strftime("%Y-%m-%d %H:%M")
        ),
        revision=revision,
    )
    return _Rendered(rendered.content, rendered.sha256, status, signed_at)


def _store_version(
    base: Report,
    user: User,
    *,
    status: str,
    values: dict[str, Any],
    provenance: dict[str, Any],
    reason: str,
    content: bytes,
    sha256: str,
    signed_at: Any = None,
) -> Report:
    """A new version of ``base``'s case superseding ``base`` (inside the caller's atomic
    block, with the case locked)."""
    case = Case.objects.select_for_update().get(pk=base.case_id)
    latest = case.reports.aggregate(n=Max("version_no"))["n"] or 0
    if latest != base.version_no:
        raise VersionConflict([f"version {base.version_no} was superseded meanwhile"])
    version = Report(
        case=case,
        run=base.run,
        template_version=base.template_version,
        version_no=latest + 1,
        status=status,
        supersedes=base,
        language=base.language,
        data=values,
        provenance=provenance,
        pdf_sha256=sha256,
        author=user,
        reason=reason,
        signed_by=user if signed_at is not None else None,
        signed_at=signed_at,
    )
    version.pdf.save(f"{case.accession}-v{latest + 1}.pdf", ContentFile(content), save=False)
    version.save()
    return version


def _sign(version: Report, user: User, rendered: _Rendered) -> ReportSignature:
    return ReportSignature.objects.create(
        report=version,
        signer=user,
        signed_at=rendered.signed_at,
        pdf_sha256=rendered.sha256,
        recall_until=rendered.signed_at + timedelta(seconds=settings.SIGNOUT_RECALL_SECONDS),
    )


def _resume_run(report: Report, user: User) -> int | None:
    """Approve the review node the report's run is parked at (the values the review asks for
    come from the signed version); returns the run id resumed, or None."""
    run = report.run
    if run is None or run.status != RunStatus.WAITING_REVIEW:
        return None
    for row in NodeRun.objects.filter(run=run, status=NodeRunStatus.WAITING):
        request = (row.outputs or {}).get("waiting", {})
        if request.get("kind") != "review":
            continue
        fields = request.get("fields", [])
        values = {k: report.data[k] for k in fields if k in report.data}
        decision = {"decision": "approve", "values": values}
        submit_review(
            Run.objects.select_related("case").get(pk=run.pk), row.node_id, decision, user
        )
        return run.pk
    return None


def check_sign_out(report: Report, user: User) -> None:
    _check_allowed(user, Permission.REPORT_SIGN, report)
    if report.status not in UNSIGNED:
        raise VersionConflict([f"version {report.version_no} is already signed"])
    _check_newest(report)
    problems = sign_out_problems(report)
    if problems:
        raise SignOutBlocked(problems)


def sign_out_report(
    report: Report, user: User, password: str, *, request: HttpRequest | None = None
) -> Report:
    """Sign ``report`` (a draft or preliminary version): the signer's password again, no
    missing or invalid element; renders the signed PDF (with the AMENDED banner when a signed
    version existed before), stores it as a new version with its signature record, resumes the
    run parked at its review node and queues the deliveries — all in one transaction.
    Deliveries wait for the recall window (``ReportSignature.recall_until``)."""
    check_sign_out(report, user)
    check_signature(user, password, request)
    return _sign_checked(report, user)


def _sign_checked(report: Report, user: User) -> Report:
    previous = _previous_signed(report)
    status = ReportStatus.FINAL if previous is None else ReportStatus.AMENDED
    reason = report.reason if previous is not None else ""
    rendered = _render_signed(report, user, report.data, status, reason)
    with transaction.atomic():
        version = _store_version(
            report,
            user,
            status=status,
            values=report.data,
            provenance=report.provenance,
            reason=reason,
            content=rendered.content,
            sha256=rendered.sha256,
            signed_at=rendered.signed_at,
        )
        signature = _sign(version, user, rendered)
        try:
            resumed = _resume_run(report, user)
        except RunRejected as exc:
            raise VersionConflict([str(exc)]) from None
        record_event(
            AuditAction.REPORT_SIGNED,
            version,
            actor=user,
            department=version.case.department,
            draft=report.pk,
            version=version.version_no,
            sha256=rendered.sha256,
            meaning=signature.meaning,
            run_resumed=resumed,
        )
        queue_deliveries(version)
    return version


@dataclass(frozen=True)
class BatchResult:
    report_id: int
    signed: Report | None
    problems: list[str]


def sign_out_batch(
    reports: list[Report], user: User, password: str, *, request: HttpRequest | None = None
) -> list[BatchResult]:
    """Sign several drafts with one password entry: each gets its own version and signature
    record; one that is blocked is reported with its problems and the others are signed."""
    check_signature(user, password, request)
    results = []
    for report in reports:
        try:
            check_sign_out(report, user)
            results.append(BatchResult(report.pk, _sign_checked(report, user), []))
        except LifecycleError as exc:
            results.append(BatchResult(report.pk, None, exc.problems))
    return results


# --- recall -------------------------------------------------------------------------------------


def check_recall(report: Report, user: User) -> ReportSignature:
    _check_allowed(user, Permission.REPORT_SIGN, report)
    signature = live_signature(report)
    if signature is None:
        raise VersionConflict([f"version {report.version_no} has no sign-out to recall"])
    if signature.signer_id != user.pk:
        raise NotAllowed(["only the signer may recall a sign-out"])
    if timezone.now() >= signature.recall_until:
        raise VersionConflict(
            ["the recall window has passed (the report may have been delivered): amend it"]
        )
    _check_newest(report)
    return signature


def recall_sign_out(report: Report, user: User) -> Report:
    """Take a sign-out back inside the recall window: the signature is marked recalled (its
    deliveries never leave) and a new draft with the same values is opened for review."""
    check_recall(report, user)
    dataset = dataset_of(report)
    draft_pdf = render_report_pdf(
        report.template_version,
        dataset,
        ReportHeader.from_case(report.case),
        report.data,
        report.provenance,
        report.language,
    )
    now = timezone.now()
    with transaction.atomic():
        signature = ReportSignature.objects.select_for_update().get(report=report)
        if signature.recalled_at is not None or now >= signature.recall_until:
            raise VersionConflict(["the sign-out was already recalled or its window passed"])
        ReportSignature.objects.filter(pk=signature.pk).update(recalled_at=now, recalled_by=user)
        draft = _store_version(
            report,
            user,
            status=ReportStatus.DRAFT,
            values=report.data,
            provenance=report.provenance,
            reason=report.reason,
            content=draft_pdf.content,
            sha256=draft_pdf.sha256,
        )
        record_event(
            AuditAction.REPORT_RECALLED,
            report,
            actor=user,
            department=report.case.department,
            version=report.version_no,
            new_draft=draft.pk,
        )
    return draft


# --- amendments, corrections, addenda ----------------------------------------------------------


def amend_report(
    report: Report,
    user: User,
    password: str,
    *,
    kind: str,
    reason: str,
    changes: dict[str, Any],
    request: HttpRequest | None = None,
) -> Report:
    """A new signed version of a signed report: ``kind`` amended, corrected or addendum, with
    the reason printed in the banner; ``changes`` (element → value, None clears) become the
    person's values. The original stays as it was, and reachable."""
    _check_allowed(user, Permission.REPORT_SIGN, report)
    problems = []
    if kind not in REVISION_KINDS:
        problems.append(f"kind: must be one of {', '.join(REVISION_KINDS)}")
    if not reason.strip():
        problems.append("reason: say why the signed report changes")
    if report.status not in SIGNED_STATUSES or live_signature(report) is None:
        raise VersionConflict([f"version {report.version_no} is not signed: sign it instead"])
    _check_newest(report)
    values = {k: v for k, v in report.data.items() if k not in changes}
    values.update({k: v for k, v in changes.items() if v is not None})
    problems += [str(p) for p in findings_problems(dataset_of(report), values, complete=True)]
    if problems:
        raise SignOutBlocked(problems)
    check_signature(user, password, request)
    now = timezone.now().isoformat()
    provenance = {**report.provenance, **{k: [person_source(user, now)] for k in changes}}
    rendered = _render_signed(report, user, values, kind, reason.strip())
    with transaction.atomic():
        version = _store_version(
            report,
            user,
            status=kind,
            values=values,
            provenance=provenance,
            reason=reason.strip(),
            content=rendered.content,
            sha256=rendered.sha256,
            signed_at=rendered.signed_at,
        )
        _sign(version, user, rendered)
        record_event(
            AuditAction.REPORT_AMENDED,
            version,
            actor=user,
            department=version.case.department,
            supersedes=report.pk,
            kind=kind,
            fields=sorted(changes),
            sha256=rendered.sha256,
        )
        queue_deliveries(version)
    return version


def value_changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """What changed between two versions' values, element by element (sorted by element)."""
    return [
        {"element": key, "old": old.get(key), "new": new.get(key)}
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    ]
