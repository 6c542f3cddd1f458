"""What several management commands share: reading a JSON file, listing problems, finding a
workflow by slug, a ``--version`` option; each failure is a CommandError with a message for the
person at the shell."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from orchestrator.designs.models import Workflow


def read_json_file(path: Path, name: str | None = None) -> Any:
    """The JSON document in ``path``; ``name`` is how errors call the file (default: its path)."""
    name = name or str(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandError(f"cannot read {name}: {exc.strerror}") from None
    except ValueError as exc:
        raise CommandError(f"{name} is not valid JSON: {exc}") from None


def write_problems(
    out: OutputWrapper, warnings: Iterable[object], problems: Iterable[object]
) -> None:
    """Every warning, then every problem, one a line."""
    for warning in warnings:
        out.write(f"warning: {warning}")
    for problem in problems:
        out.write(str(problem))


def workflow_named(slug: str) -> Workflow:
    workflow = Workflow.objects.filter(slug=slug).first()
    if workflow is None:
        known = ", ".join(Workflow.objects.values_list("slug", flat=True)) or "none"
        raise CommandError(f"workflow '{slug}' does not exist (known: {known})")
    return workflow


class VersionOptionCommand(BaseCommand):
    """A command whose ``--version N`` names a version of a design: Django's own ``--version``
    (print Django's version) gives way to it."""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)
