"""Importing and publishing report template versions and workflow versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from orchestrator.accounts.models import Department, User
from orchestrator.audit.services import record_event
from orchestrator.designs.models import (
    ReportTemplate,
    TemplateVersion,
    VersionStatus,
    Workflow,
    WorkflowVersion,
)
from orchestrator.designs.workflows import check_workflow_graph, publish_copy, save_draft
from workflows.datasets import parse_dataset
from workflows.errors import GraphInvalid


class DesignInvalid(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def _next_number(versions: Any) -> int:
    return int(versions.aggregate(n=Max("number"))["n"] or 0) + 1


def import_template_dir(
    department: Department, folder: Path, *, user: User | None = None, publish: bool = True
) -> TemplateVersion:
    """Create a new version of the template in ``folder`` (dataset.json, optional layout.html.j2
    and layout.css). An identical published version is reused instead of duplicated."""
    try:
        dataset = json.loads((folder / "dataset.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DesignInvalid([f"{folder / 'dataset.json'}: {exc}"]) from None
    parsed = parse_dataset(dataset)
    layout = folder / "layout.html.j2"
    css = folder / "layout.css"
    fields = {
        "dataset": dataset,
        "layout_html": layout.read_text(encoding="utf-8") if layout.exists() else "",
        "layout_css": css.read_text(encoding="utf-8") if css.exists() else "",
    }
    with transaction.atomic():
        template, _ = ReportTemplate.objects.get_or_create(
            department=department,
            slug=parsed.slug or folder.name,
            defaults={"name": parsed.title["en"]},
        )
        latest = template.versions.order_by("-number").first()
        if latest and all(getattr(latest, k) == v for k, v in fields.items()):
            return latest
        version = TemplateVersion.objects.create(
            template=template,
            number=_next_number(template.versions),
            created_by=user,
            status=VersionStatus.PUBLISHED if publish else VersionStatus.DRAFT,
            published_at=timezone.now() if publish else None,
            **fields,
        )
        record_event("template.imported", version, actor=user, department=department)
    return version


def import_workflow(
    department: Department,
    document: dict[str, Any],
    template_version: TemplateVersion,
    *,
    slug: str,
    case_type: str,
    user: User | None = None,
    publish: bool = True,
) -> WorkflowVersion:
    """Validate a graph document and store it as the next published version of workflow
    ``slug`` (or, without ``publish``, as its draft). An identical latest published version
    is reused. Raises GraphInvalid listing every problem.

    This is the loader path (demo data, fixtures): it checks the graph and sub-workflow
    references but not the template-first contract, which publishing through the API or the
    CLI (``orchestrator.designs.workflows``) does check.
    """
    validation = check_workflow_graph(department, document, None, slug=slug)
    if validation.problems:
        raise GraphInvalid(validation.problems)
    with transaction.atomic():
        workflow, _ = Workflow.objects.get_or_create(
            slug=slug,
            defaults={
                "department": department,
                "name": str(document.get("name") or slug),
                "case_type": case_type,
            },
        )
        if workflow.department_id != department.pk:
            raise DesignInvalid([f"workflow '{slug}' belongs to another department"])
        if not publish:
            version, _ = save_draft(
                workflow, document, template_version=template_version, user=user
            )
            return version
        latest = workflow.published_version()
        if latest and latest.spec == document and latest.template_version == template_version:
            return latest
        version = publish_copy(workflow, document, template_version, user=user)
        record_event("workflow.imported", version, actor=user, department=department)
    return version
