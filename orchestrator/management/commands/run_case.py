"""One-shot CLI: run a case document through a published workflow and write its PDF."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orchestrator.cases.models import Case
from orchestrator.cases.services import CaseDocumentInvalid, create_case, parse_case_document
from orchestrator.designs.models import Workflow
from orchestrator.management.cli import read_json_file, workflow_named
from orchestrator.runs.models import RunStatus
from orchestrator.runs.services import RunRejected, execute_run, start_run


class Command(BaseCommand):
    help = (
        "Run one case (a JSON case document) through the published version of a workflow "
        "in this process and write the draft report PDF (the run may then wait at a review "
        "node for a person's sign-out)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workflow", required=True, help="workflow slug")
        parser.add_argument("--case", required=True, type=Path, help="case document (JSON)")
        parser.add_argument("--out", required=True, type=Path, help="where to write the PDF")

    def _case(self, workflow: Workflow, path: Path) -> Case:
        document = read_json_file(path, f"case file {path}")
        try:
            accession = parse_case_document(document)["accession"]
            existing = Case.objects.filter(
                department=workflow.department, accession=accession
            ).first()
            # Re-running a case document (scripts, benchmarks) adds a run to the same case.
            return existing or create_case(workflow.department, document, source="cli")
        except CaseDocumentInvalid as exc:
            problems = "\n  ".join(exc.problems)
            raise CommandError(f"case file {path} is invalid:\n  {problems}") from None

    def handle(self, *args: Any, **options: Any) -> None:
        workflow = workflow_named(options["workflow"])
        version = workflow.published_version()
        if version is None:
            raise CommandError(f"workflow '{workflow.slug}' has no published version")
        case = self._case(workflow, options["case"])
        # "In this process": the report renders here even where PATHFLOW_RENDER_QUEUE hands
        # the workers' renders to render workers (a parked run would not finish here).
        settings.RENDER_QUEUE = ""
        try:
            run = start_run(case, version, enqueue=False)
        except RunRejected as exc:
            raise CommandError(str(exc)) from None
        run = execute_run(run.pk) or run
        for node_run in run.node_runs.order_by("started_at", "id"):
            self.stderr.write(
                f"  {node_run.node_id:<12} {node_run.status:<10} "
                f"attempt {node_run.attempt} {node_run.error}"
            )
        # A workflow with a review node (the demo's sign-out) parks the run with its draft.
        parked = run.status == RunStatus.WAITING_REVIEW
        if run.status != RunStatus.SUCCEEDED and not parked:
            raise CommandError(f"run {run.pk} failed: {run.error}")
        report = run.reports.order_by("-version_no").first()
        if report is None or not report.pdf:
            raise CommandError(
                f"run {run.pk} finished without a report; does the workflow "
                "have a render_report node?"
            )
        options["out"].parent.mkdir(parents=True, exist_ok=True)
        with report.pdf.open("rb") as source, options["out"].open("wb") as target:
            shutil.copyfileobj(source, target)
        outcome = "waits for a person's review (sign-out)" if parked else "succeeded"
        self.stdout.write(
            f"run {run.pk} {outcome}; report v{report.version_no} sha256 {report.pdf_sha256}"
        )
        self.stdout.write(str(options["out"].resolve()))
