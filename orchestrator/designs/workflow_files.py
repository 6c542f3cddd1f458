"""Workflow export files: ``{schema_version, workflow, template, graph}``, written by
export and read by import (CLI and API). A file carries no ids and no department, so it can
move between sites; its template is named by slug and version number and must exist where
it is imported. Older graphs are upgraded and newer files read with a warning, never silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from orchestrator.accounts.models import Department, User
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.designs.models import ReportTemplate, TemplateVersion, Workflow, WorkflowVersion
from orchestrator.designs.workflows import (
    Validation,
    WorkflowError,
    WorkflowInvalid,
    check_workflow_graph,
    draft_of,
    publish_copy,
    publish_problems,
    save_draft,
)
from workflows.spec import upgrade_graph

# The version of the export file's own shape; the graph inside carries its schema_version.
EXPORT_SCHEMA_VERSION = 1


def export_document(version: WorkflowVersion) -> dict[str, Any]:
    """The export file of one version (no ids, no department: it can move between sites)."""
    workflow = version.workflow
    template_version = version.template_version
    return {
        "schema_version": EXPORT_SCHEMA_VERSION,
        "workflow": {
            "slug": workflow.slug,
            "name": workflow.name,
            "case_type": workflow.case_type,
            "description": workflow.description,
        },
        "template": {"slug": template_version.template.slug, "version": template_version.number},
        "graph": version.spec,
    }


def version_to_export(workflow: Workflow, number: int | None = None) -> WorkflowVersion:
    """Version ``number``, else the latest published one, else the draft."""
    if number is not None:
        version = workflow.versions.filter(number=number).first()
        if version is None:
            raise WorkflowError(f"workflow '{workflow.slug}' has no version {number}")
        return version
    version = workflow.published_version() or draft_of(workflow)
    if version is None:
        raise WorkflowError(f"workflow '{workflow.slug}' has no versions")
    return version


def export_workflow(
    workflow: Workflow, number: int | None = None, *, user: User | None = None
) -> dict[str, Any]:
    version = version_to_export(workflow, number)
    record_event(
        AuditAction.WORKFLOW_EXPORTED,
        version,
        actor=user,
        actor_label="" if user else "cli",
        department=workflow.department,
        workflow=workflow.slug,
        number=version.number,
    )
    return export_document(version)


@dataclass(frozen=True)
class ExportFile:
    """An export file read, with what the person importing it should know."""

    slug: str
    name: str
    case_type: str
    description: str
    template_slug: str | None
    template_number: int | None
    graph: Any
    warnings: list[str]


def read_export(document: Any) -> ExportFile:
    """Read an export file; raises WorkflowError listing every missing or wrong part.
    Older graphs are upgraded; newer files and graphs are read with a warning."""
    if not isinstance(document, dict):
        raise WorkflowError("the file is not a JSON object")
    problems, warnings = [], []
    version = document.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        problems.append("'schema_version' must be a whole number")
    elif version > EXPORT_SCHEMA_VERSION:
        warnings.append(
            f"the file has schema_version {version}, newer than this Pathflow writes "
            f"({EXPORT_SCHEMA_VERSION}); parts it does not know were ignored"
        )
    elif version < EXPORT_SCHEMA_VERSION:
        warnings.append(f"the file has the older schema_version {version}; read as current")
    meta = document.get("workflow")
    if not isinstance(meta, dict) or not isinstance(meta.get("slug"), str) or not meta["slug"]:
        problems.append("'workflow' must be an object with a 'slug'")
        meta = {}
    template = document.get("template")
    template_slug = template_number = None
    if template is not None:
        if not isinstance(template, dict) or not isinstance(template.get("slug"), str):
            problems.append("'template' must be an object with 'slug' and 'version'")
        else:
            template_slug = template["slug"]
            number = template.get("version")
            if not isinstance(number, int) or isinstance(number, bool):
                problems.append("'template.version' must be a whole number")
            else:
                template_number = number
    if "graph" not in document:
        problems.append("the file has no 'graph'")
    if problems:
        raise WorkflowError("; ".join(problems))
    graph, notes = upgrade_graph(document["graph"])
    return ExportFile(
        slug=meta["slug"],
        name=str(meta.get("name") or meta["slug"]),
        case_type=str(meta.get("case_type") or ""),
        description=str(meta.get("description") or ""),
        template_slug=template_slug,
        template_number=template_number,
        graph=graph,
        warnings=[*warnings, *notes],
    )


def find_template_version(department: Department, slug: str, number: int) -> TemplateVersion:
    """Template ``slug`` version ``number`` of the department, or an error naming what exists."""
    template = ReportTemplate.objects.filter(department=department, slug=slug).first()
    if template is None:
        known = ", ".join(
            ReportTemplate.objects.filter(department=department).values_list("slug", flat=True)
        )
        raise WorkflowError(
            f"template '{slug}' does not exist in department '{department.code}' "
            f"(known: {known or 'none'}); import the template first"
        )
    version = template.versions.filter(number=number).first()
    if version is None:
        known = ", ".join(str(n) for n in template.versions.values_list("number", flat=True))
        raise WorkflowError(f"template '{slug}' has no version {number} (known: {known or 'none'})")
    return version


@dataclass(frozen=True)
class ImportResult:
    version: WorkflowVersion
    warnings: list[str]
    validation: Validation


def import_workflow_file(
    department: Department, document: Any, *, user: User | None = None, publish: bool = True
) -> ImportResult:
    """Import an export file into ``department``: a new published version (raises
    WorkflowInvalid with every problem if it has any), or with ``publish=False`` the draft
    (saved even with problems, which come back in ``validation``). Importing the same graph
    and template as the latest published version publishes nothing and says so."""
    exported = read_export(document)
    if exported.template_slug is None or exported.template_number is None:
        raise WorkflowError("the file names no template ('template': {slug, version})")
    template_version = find_template_version(
        department, exported.template_slug, exported.template_number
    )
    existing = Workflow.objects.filter(slug=exported.slug).first()
    if existing is not None and existing.department_id != department.pk:
        raise WorkflowError(f"workflow '{exported.slug}' belongs to another department")
    if existing is None and not exported.case_type:
        raise WorkflowError("'workflow.case_type' is needed to create the workflow")
    validation = check_workflow_graph(
        department, exported.graph, template_version, slug=exported.slug
    )
    warnings = [*exported.warnings, *(str(w) for w in validation.warnings)]
    if publish:
        validation = publish_problems(template_version, validation)
    if publish and validation.problems:
        raise WorkflowInvalid(validation.problems, validation.warnings, exported.warnings)
    with transaction.atomic():
        workflow = existing or Workflow.objects.create(
            department=department,
            slug=exported.slug,
            name=exported.name,
            case_type=exported.case_type,
            description=exported.description,
        )
        latest = workflow.published_version()
        if (
            publish
            and latest
            and latest.spec == exported.graph
            and (latest.template_version_id == template_version.pk)
        ):
            warnings.append(f"identical to published version {latest.number}; nothing imported")
            return ImportResult(latest, warnings, validation)
        if publish:
            version = publish_copy(workflow, exported.graph, template_version, user=user)
        else:
            version, validation = save_draft(
                workflow, exported.graph, template_version=template_version, user=user
            )
        record_event(
            AuditAction.WORKFLOW_IMPORTED,
            version,
            actor=user,
            actor_label="" if user else "cli",
            department=department,
            workflow=workflow.slug,
            number=version.number,
            status=version.status,
            warnings=len(warnings),
        )
    return ImportResult(version, warnings, validation)


def department_for_file(code: str | None, template_slug: str | None) -> Department | None:
    """The department a CLI command works in: ``code`` if given, else the one department
    holding the file's template, else the only department; None when that is ambiguous."""
    if code:
        department = Department.objects.filter(code=code).first()
        if department is None:
            known = ", ".join(Department.objects.values_list("code", flat=True)) or "none"
            raise WorkflowError(f"department '{code}' does not exist (known: {known})")
        return department
    candidates = Department.objects.all()
    if template_slug:
        holding = candidates.filter(templates__slug=template_slug).distinct()
        if holding.count() == 1:
            return holding.get()
    return candidates.get() if candidates.count() == 1 else None
