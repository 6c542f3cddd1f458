"""`manage.py validate_workflow FILE`: check a graph or an export file, every problem listed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orchestrator.accounts.models import Department
from orchestrator.designs.models import TemplateVersion, VersionStatus
from orchestrator.designs.workflow_files import (
    department_for_file,
    find_template_version,
    read_export,
)
from orchestrator.designs.workflows import (
    WorkflowError,
    check_workflow_graph,
    sub_workflow_references,
)
from orchestrator.management.cli import read_json_file, write_problems
from workflows.spec import upgrade_graph
from workflows.validation import check_graph


class Command(BaseCommand):
    help = (
        "Validate a workflow graph or export file. Prints every problem, one per line, naming "
        "its node, edge or port, and exits 1; prints 'valid' and exits 0 otherwise. When the "
        "file names a template that exists here, its required elements are checked too."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="graph JSON or export file")
        parser.add_argument("--department", help="department code (default: inferred)")
        parser.add_argument("--template", help="template slug to check a bare graph against")
        parser.add_argument(
            "--template-version", type=int, help="template version (default: latest published)"
        )

    def _template(
        self, options: dict[str, Any], slug: str | None, number: int | None, references: bool
    ) -> tuple[Department | None, TemplateVersion | None, list[str]]:
        """The department and template version to check against, with notes when not found.
        A bare graph with nothing to look up is checked without the database."""
        if slug is None and not options["department"] and not references:
            return None, None, []
        try:
            department = department_for_file(options["department"], slug)
        except WorkflowError as exc:
            raise CommandError(str(exc)) from None
        if slug is None:
            return department, None, []
        if department is None:
            return None, None, [f"template '{slug}' not found here; elements not checked"]
        if number is None:
            latest = TemplateVersion.objects.filter(
                template__department=department,
                template__slug=slug,
                status=VersionStatus.PUBLISHED,
            ).first()  # ordered newest first
            number = latest.number if latest else 0
        try:
            return department, find_template_version(department, slug, number), []
        except WorkflowError as exc:
            return department, None, [f"{exc}; elements not checked"]

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        document = read_json_file(path)
        slug = None
        if isinstance(document, dict) and "graph" in document:
            try:
                exported = read_export(document)
            except WorkflowError as exc:
                raise CommandError(f"{path} is not a workflow export file: {exc}") from None
            graph, notes, slug = exported.graph, exported.warnings, exported.slug
            template_slug, number = exported.template_slug, exported.template_number
        else:
            graph, notes = upgrade_graph(document)
            template_slug, number = options["template"], options["template_version"]
        department, template_version, missing = self._template(
            options, template_slug, number, bool(sub_workflow_references(graph))
        )
        if department is None:
            check = check_graph(graph)
            problems, warnings = check.problems, check.warnings
        else:
            validation = check_workflow_graph(department, graph, template_version, slug=slug)
            problems, warnings = validation.problems, validation.warnings
        write_problems(self.stdout, [*notes, *missing, *warnings], problems)
        if problems:
            raise CommandError(f"{path}: {len(problems)} problem(s)")
        checked = f" (template {template_version} checked)" if template_version else ""
        self.stdout.write(f"valid{checked}")
