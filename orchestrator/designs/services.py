"""Importing and publishing report template versions and workflow versions."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max

from orchestrator.accounts.models import Department, User
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.designs.models import (
    TemplateVersion,
    Workflow,
    WorkflowVersion,
)

# The template part lives in templates.py; re-exported for the demo loader and older callers.
from orchestrator.designs.templates import ImportResult as ImportResult
from orchestrator.designs.templates import TemplateInvalid as TemplateInvalid
from orchestrator.designs.templates import import_template_dir as import_template_dir
from orchestrator.designs.templates import import_template_folder as import_template_folder
from orchestrator.designs.workflows import check_workflow_graph, publish_copy, save_draft
from workflows.errors import GraphInvalid


class DesignInvalid(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def _next_number(versions: Any) -> int:
    return int(versions.aggregate(n=Max("number"))["n"] or 0) + 1


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
        record_event(AuditAction.WORKFLOW_IMPORTED, version, actor=user, department=department)
    return version
