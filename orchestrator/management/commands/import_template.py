"""`manage.py import_template DIR`: import a template folder as a new (or reused) version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orchestrator.accounts.models import Department
from orchestrator.designs.templates import TemplateInvalid, import_template_folder

OUTCOMES = {
    "created": "created",
    "reused": "reused (identical to the latest version)",
    "draft replaced": "replaced the content of the draft",
    "draft published": "published the identical draft",
}


def resolve_department(code: str | None) -> Department:
    """The department named by ``code``, or the only one there is."""
    if code:
        department = Department.objects.filter(code=code).first()
        if department is None:
            known = ", ".join(Department.objects.values_list("code", flat=True)) or "none"
            raise CommandError(f"department '{code}' does not exist (known: {known})")
        return department
    departments = list(Department.objects.order_by("code")[:2])
    if not departments:
        raise CommandError("no department exists yet; create one first (manage.py load_demo)")
    if len(departments) > 1:
        known = ", ".join(Department.objects.values_list("code", flat=True))
        raise CommandError(f"several departments exist; choose one with --department ({known})")
    return departments[0]


class Command(BaseCommand):
    help = (
        "Import a report template folder (dataset.json, optional layout.html.j2, layout.css and "
        "template.json) as the next published version, or as the draft with --draft."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="the template folder")
        parser.add_argument("--department", help="department code (default: the only one)")
        parser.add_argument("--draft", action="store_true", help="import as the draft")

    def handle(self, *args: Any, **options: Any) -> None:
        department = resolve_department(options["department"])
        try:
            result = import_template_folder(
                department,
                options["folder"],
                publish=not options["draft"],
                via="manage.py import_template",
            )
        except TemplateInvalid as exc:
            problems = "\n  ".join(exc.problems)
            raise CommandError(
                f"{options['folder']} was not imported; fix these problems:\n  {problems}"
            ) from None
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        version = result.version
        self.stdout.write(
            f"template '{version.template.slug}' v{version.number} ({version.status}): "
            f"{OUTCOMES[result.outcome]}"
        )
