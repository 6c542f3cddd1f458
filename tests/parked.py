"""Runs of the demo workflows park at their review node ``signout``: the AI draft waits in the
pathologist's queue, and signing it out resumes the run to its end. ``wait_for_draft`` is
``tests.conftest.wait_for_run`` for such runs; ``sign_out_run`` is the pathologist's part."""

from __future__ import annotations

import contextlib
import time

from orchestrator.accounts.models import User
from orchestrator.reports.lifecycle import sign_out_report
from orchestrator.reports.models import Report
from orchestrator.runs.models import Run, RunStatus
from orchestrator.runs.services import LeaseHeld, execute_run
from tests.conftest import PASSWORD, wait_for_run

SIGNOUT_NODE = "signout"


def wait_for_draft(run_id: int, timeout: float = 120.0) -> Run:
    """The run once it waits for the pathologist's sign-out, or once it ended (failed, or a
    workflow without a review node)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = Run.objects.get(pk=run_id)
        if run.is_terminal or run.status == RunStatus.WAITING_REVIEW:
            return run
        time.sleep(0.25)
    raise AssertionError(f"run {run_id} did not park or end within {timeout:g} s ({run.status})")


def sign_out_run(
    run: Run, pathologist: User, *, inline: bool = False, timeout: float = 120.0
) -> tuple[Report, Run]:
    """Sign the draft ``run`` parked with (as the pathologist does in the cockpit) and wait for
    the resumed run to end: the signed version and the run. A worker resumes it, or this
    process when ``inline``."""
    assert run.status == RunStatus.WAITING_REVIEW, f"run {run.pk} is {run.status}: {run.error}"
    draft = Report.objects.filter(run=run).order_by("-version_no").first()
    assert draft is not None, f"run {run.pk} parked without a draft"
    signer = User.objects.get(pk=pathologist.pk)  # as stored (a persona fixture may be stale)
    signed = sign_out_report(draft, signer, PASSWORD)
    if inline:
        # The resumption was also sent to the broker; a worker of this session may take it.
        with contextlib.suppress(LeaseHeld):
            execute_run(run.pk)
    return signed, wait_for_run(run.pk, timeout)
