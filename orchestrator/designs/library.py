"""The template library (``templates/``) as a starting point: list it, clone one into a
department as a draft the designer then edits.

A clone is a new template of the department with a draft v1 holding the library's dataset (its
slug set to the clone's) and, unless the library template has an expert's custom layout, the
default designed layout (``default_layout_spec``), so the layout composer has blocks to arrange.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import transaction

from orchestrator.accounts.models import Department, User
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.designs.models import TemplateVersion
from orchestrator.designs.templates import (
    TemplateContent,
    TemplateInvalid,
    create_template,
    read_template_dir,
    valid_slug,
)
from orchestrator.reports.layout_spec import default_layout_spec
from workflows.datasets import parse_dataset


@dataclass(frozen=True)
class LibraryTemplate:
    slug: str
    name: str
    title_zh: str
    title_en: str
    sections: int
    elements: int


def _library_dir() -> Path:
    return Path(settings.REPORT_LIBRARY_DIR)


@lru_cache(maxsize=1)
def _read_library(root: Path) -> tuple[tuple[LibraryTemplate, TemplateContent], ...]:
    # The library ships with the code: read once per process.
    found = []
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or folder.name.startswith(("_", ".")):
            continue
        if not (folder / "dataset.json").exists():
            continue
        read = read_template_dir(folder)
        dataset = parse_dataset(read.content.dataset)
        summary = LibraryTemplate(
            slug=read.slug,
            name=read.name,
            title_zh=dataset.title["zh"],
            title_en=dataset.title["en"],
            sections=len(dataset.sections),
            elements=len(dataset.elements()),
        )
        found.append((summary, read.content))
    return tuple(found)


def library_templates() -> list[LibraryTemplate]:
    return [summary for summary, _ in _read_library(_library_dir())]


def clone_library_template(
    department: Department, library_slug: str, slug: str, name: str, *, user: User
) -> TemplateVersion:
    """A new template of ``department`` named ``slug`` with a draft v1 from the library
    template ``library_slug``; raises TemplateInvalid (unknown library template, slug taken
    or malformed)."""
    chosen = next((c for s, c in _read_library(_library_dir()) if s.slug == library_slug), None)
    if chosen is None:
        raise TemplateInvalid([f"library template {library_slug!r} does not exist"])
    if not valid_slug(slug):
        raise TemplateInvalid([f"slug {slug!r}: use letters, digits, hyphens and underscores"])
    dataset = copy.deepcopy(chosen.dataset)
    dataset["slug"] = slug
    spec = None if chosen.layout_html else default_layout_spec(parse_dataset(dataset))
    content = TemplateContent(dataset, chosen.layout_html, chosen.layout_css, spec)
    with transaction.atomic():
        version = create_template(department, slug, name, content, user=user)
        record_event(
            AuditAction.TEMPLATE_CLONED,
            version,
            actor=user,
            department=department,
            slug=slug,
            library_template=library_slug,
        )
    return version
