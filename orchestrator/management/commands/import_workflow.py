"""`manage.py import_workflow FILE [--draft]`: an export file into a new version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orchestrator.designs.workflow_files import (
    department_for_file,
    import_workflow_file,
    read_export,
)
from orchestrator.designs.workflows import (
    WorkflowError,
    WorkflowInvalid,
)
from orchestrator.management.cli import read_json_file, write_problems


class Command(BaseCommand):
    help = (
        "Import a workflow export file as a new published version (every problem is printed "
        "and nothing is imported if it has any), or with --draft as the workflow's draft "
        "(saved even with problems, which are printed)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="export file (JSON)")
        parser.add_argument("--draft", action="store_true", help="save as the draft instead")
        parser.add_argument("--department", help="department code (default: inferred)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        document = read_json_file(path)
        try:
            department = department_for_file(
                options["department"], read_export(document).template_slug
            )
            if department is None:
                raise WorkflowError("several departments exist; choose one with --department")
            result = import_workflow_file(department, document, publish=not options["draft"])
        except WorkflowInvalid as exc:
            write_problems(self.stdout, [*exc.notes, *exc.warnings], exc.problems)
            raise CommandError(
                f"{path}: {len(exc.problems)} problem(s); nothing imported"
            ) from None
        except WorkflowError as exc:
            raise CommandError(f"{path}: {exc}") from None
        version = result.version
        self.stdout.write(f"{version.workflow.slug} v{version.number} ({version.status})")
        for warning in result.warnings:
            self.stdout.write(f"warning: {warning}")
        for problem in result.validation.problems:
            self.stdout.write(f"problem: {problem}")
