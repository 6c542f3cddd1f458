"""`manage.py export_template SLUG --out DIR`: write a template version to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from orchestrator.designs.models import ReportTemplate, TemplateVersion, VersionStatus
from orchestrator.designs.templates import TemplateInvalid, export_version
from orchestrator.management.cli import VersionOptionCommand
from orchestrator.management.commands.import_template import resolve_department


class Command(VersionOptionCommand):
    help = (
        "Export a report template version (default: the latest published) to a folder that "
        "import_template reads back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="template slug")
        parser.add_argument(
            "--version", type=int, help="version number (default: latest published)"
        )
        parser.add_argument("--out", required=True, type=Path, help="folder to write")
        parser.add_argument("--department", help="department code (default: the only one)")

    def _version(self, template: ReportTemplate, number: int | None) -> TemplateVersion:
        versions = template.versions.order_by("-number")
        if number is not None:
            version = versions.filter(number=number).first()
            if version is None:
                known = ", ".join(f"v{n}" for n in versions.values_list("number", flat=True))
                raise CommandError(
                    f"template '{template.slug}' has no version {number} (has: {known or 'none'})"
                )
            return version
        version = versions.filter(status=VersionStatus.PUBLISHED).first()
        if version is None:
            raise CommandError(
                f"template '{template.slug}' has no published version; pass --version N "
                "to export its draft"
            )
        return version

    def handle(self, *args: Any, **options: Any) -> None:
        department = resolve_department(options["department"])
        template = ReportTemplate.objects.filter(
            department=department, slug=options["slug"]
        ).first()
        if template is None:
            known = ", ".join(department.templates.values_list("slug", flat=True)) or "none"
            raise CommandError(
                f"template '{options['slug']}' does not exist in department "
                f"'{department.code}' (known: {known})"
            )
        version = self._version(template, options["version"])
        try:
            written = export_version(version, options["out"], via="manage.py export_template")
        except TemplateInvalid as exc:
            raise CommandError("; ".join(exc.problems)) from None
        self.stdout.write(
            f"exported template '{template.slug}' v{version.number} ({version.status}) to "
            f"{options['out'].resolve()}: {', '.join(p.name for p in written)}"
        )
