"""`manage.py export_workflow SLUG [--version N]`: a workflow version's export file on stdout."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser

from orchestrator.designs.workflow_files import (
    export_workflow,
)
from orchestrator.designs.workflows import (
    WorkflowError,
)
from orchestrator.management.cli import VersionOptionCommand, workflow_named


class Command(VersionOptionCommand):
    help = (
        "Print the export file (JSON) of a workflow version: --version N, else the latest "
        "published version, else the draft."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="workflow slug")
        parser.add_argument("--version", type=int, dest="number", help="version number")

    def handle(self, *args: Any, **options: Any) -> None:
        workflow = workflow_named(options["slug"])
        try:
            document = export_workflow(workflow, options["number"])
        except WorkflowError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))
