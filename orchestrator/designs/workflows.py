"""Workflow versions: drafts, validation, publishing, rollback, diff, export and import.

The rules, in one place:

- A workflow has at most one draft. Saving replaces the draft's graph (and, if given, its
  template version) and returns every problem and warning; a draft *may* be saved with
  problems, so that work in progress is never lost, but it cannot be published.
- Publishing requires zero problems (warnings do not block). It freezes the draft: published
  versions are never edited, and every run is pinned to one.
- Version numbers grow by one. The draft carries the number it will get when published.
- Rollback publishes an older version again, as a new number whose graph and template version
  equal the old one's, with ``published_from`` pointing at it. It is validated again first:
  node types or referenced sub-workflows may have changed since.
- Export is a JSON file ``{schema_version, workflow, template, graph}``; import reads it
  (upgrading older graphs, warning about newer ones) into a published version, or the draft.
- Validation here adds what needs the database to the engine's checks: the template
  version's dataset (the template-first contract) and sub-workflow references.

Every change is recorded as an ``AuditEvent``, with identifiers and counts, never report values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
from workflows.datasets import DatasetInvalid, parse_dataset
from workflows.errors import GraphProblem
from workflows.spec import GraphSpec, diff_graphs, upgrade_graph
from workflows.validation import check_graph, exposed_fills

# The version of the export file's own shape; the graph inside carries its schema_version.
EXPORT_SCHEMA_VERSION = 1
SUB_WORKFLOW_TYPE = "sub_workflow"


class WorkflowError(ValueError):
    """A request that cannot be done as asked (unknown version, template, slug taken...)."""


class WorkflowInvalid(ValueError):
    """The graph has problems that block publishing; ``problems`` lists every one."""

    def __init__(
        self,
        problems: list[GraphProblem],
        warnings: list[GraphProblem],
        notes: list[str] | None = None,
    ) -> None:
        self.problems = problems
        self.warnings = warnings
        # What an import found about the file itself (older or newer schema_version).
        self.notes = notes or []
        super().__init__("; ".join(str(p) for p in problems))


def problem_dict(problem: GraphProblem) -> dict[str, str | None]:
    """A problem as the API and CLI show it; every problem has the same keys."""
    return {"element_id": None, **problem.as_dict()}


@dataclass(frozen=True)
class Validation:
    problems: list[GraphProblem] = field(default_factory=list)
    warnings: list[GraphProblem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "problems": [problem_dict(p) for p in self.problems],
            "warnings": [problem_dict(p) for p in self.warnings],
        }


# --- validation -----------------------------------------------------------------------------


def sub_workflow_references(spec: Any) -> list[tuple[str, str, int | None]]:
    """(node id, workflow slug, version or None) of each sub-workflow node in a graph
    document (config ``workflow`` and optional ``version``)."""
    nodes = spec.get("nodes") if isinstance(spec, dict) else None
    found = []
    for node in nodes if isinstance(nodes, list) else []:
        if not isinstance(node, dict) or node.get("type") != SUB_WORKFLOW_TYPE:
            continue
        config = node.get("config")
        slug = config.get("workflow") if isinstance(config, dict) else None
        if isinstance(slug, str) and slug:
            version = config.get("version") if isinstance(config, dict) else None
            found.append((str(node.get("id")), slug, version if isinstance(version, int) else None))
    return found


def _referenced_version(
    department: Department, slug: str, number: int | None
) -> tuple[WorkflowVersion | None, str]:
    """The published version a sub-workflow node would run, or why there is none."""
    workflow = Workflow.objects.filter(slug=slug, department=department).first()
    if workflow is None:
        return None, f"sub-workflow '{slug}' does not exist in this department"
    if number is None:
        version = workflow.published_version()
        return version, "" if version else f"sub-workflow '{slug}' has no published version"
    version = workflow.versions.filter(number=number, status=VersionStatus.PUBLISHED).first()
    return version, "" if version else f"sub-workflow '{slug}' has no published version {number}"


def _cycle(department: Department, own_slug: str, start: str, number: int | None) -> list[str]:
    """The chain of workflows from ``start`` back to ``own_slug``, if there is one."""
    stack: list[tuple[str, int | None, list[str]]] = [(start, number, [own_slug, start])]
    seen: set[tuple[str, int | None]] = set()
    while stack:
        slug, num, path = stack.pop()
        if slug == own_slug:
            return path
        if (slug, num) in seen:
            continue
        seen.add((slug, num))
        version, _ = _referenced_version(department, slug, num)
        if version is not None:
            for _, ref, ref_num in sub_workflow_references(version.spec):
                stack.append((ref, ref_num, [*path, ref]))
    return []


def sub_workflow_problems(
    department: Department, spec: GraphSpec, own_slug: str | None
) -> list[GraphProblem]:
    """Each sub-workflow node must name a published version of a workflow of the same
    department, and no chain of sub-workflows may lead back to this workflow."""
    problems = []
    nodes = [{"id": n.id, "type": n.type, "config": n.config} for n in spec.nodes]
    for node_id, slug, number in sub_workflow_references({"nodes": nodes}):
        version, reason = _referenced_version(department, slug, number)
        if version is None:
            problems.append(GraphProblem("sub_workflow_unknown", reason, node_id=node_id))
            continue
        if own_slug and (path := _cycle(department, own_slug, slug, number)):
            problems.append(
                GraphProblem(
                    "sub_workflow_cycle",
                    "sub-workflows lead back to this workflow: " + " → ".join(path),
                    node_id=node_id,
                )
            )
    return problems


def _sub_workflow_fills(
    department: Department, document: Any, seen: frozenset[str]
) -> dict[str, frozenset[str]]:
    """By sub-workflow node id, the report elements its child graph fills and passes on
    through the node's ``outputs`` (``name: "<child node>.<port>"``)."""
    nodes = {
        str(n.get("id")): n
        for n in (document.get("nodes") or [] if isinstance(document, dict) else [])
        if isinstance(n, dict)
    }
    fills: dict[str, frozenset[str]] = {}
    for node_id, slug, number in sub_workflow_references(document):
        version, _ = _referenced_version(department, slug, number)
        if version is None or slug in seen:
            continue  # reported as a problem by sub_workflow_problems
        outputs = nodes[node_id].get("config", {}).get("outputs") or {}
        exposed = [
            str(ref).rpartition(".")[0]
            for ref in (outputs.values() if isinstance(outputs, dict) else [])
        ]
        nested = _sub_workflow_fills(department, version.spec, seen | {slug})
        fills[node_id] = exposed_fills(version.spec, exposed, extra_fills=nested)
    return fills


def check_workflow_graph(
    department: Department,
    document: Any,
    template_version: TemplateVersion | None,
    *,
    slug: str | None = None,
) -> Validation:
    """Every problem and warning of a graph for workflow ``slug``: the engine's checks, the
    template-first contract against ``template_version`` (skipped when None), and
    sub-workflow references."""
    dataset = None
    problems: list[GraphProblem] = []
    if template_version is not None:
        try:
            dataset = parse_dataset(template_version.dataset)
        except DatasetInvalid as exc:
            problems.append(
                GraphProblem(
                    "template_invalid",
                    f"template version {template_version} cannot be read: {exc}",
                )
            )
    extra_fills = None
    if dataset is not None:
        extra_fills = _sub_workflow_fills(department, document, frozenset({slug} if slug else ()))
    check = check_graph(document, dataset=dataset, extra_fills=extra_fills)
    problems.extend(check.problems)
    if check.spec is not None:
        problems.extend(sub_workflow_problems(department, check.spec, slug))
    return Validation(problems, list(check.warnings))


def check_version(version: WorkflowVersion) -> Validation:
    workflow = version.workflow
    return check_workflow_graph(
        workflow.department, version.spec, version.template_version, slug=workflow.slug
    )


def publish_problems(template_version: TemplateVersion, validation: Validation) -> Validation:
    """``validation`` plus what only publishing requires: a published template version (a
    draft template may still change under the runs pinned to this workflow version)."""
    if template_version.status == VersionStatus.PUBLISHED:
        return validation
    problem = GraphProblem(
        "template_unpublished",
        f"template version {template_version} is a draft; publish it before this workflow",
    )
    return Validation([*validation.problems, problem], validation.warnings)


# --- drafts and publishing ------------------------------------------------------------------


def _next_number(workflow: Workflow) -> int:
    return int(workflow.versions.aggregate(n=Max("number"))["n"] or 0) + 1


def draft_of(workflow: Workflow) -> WorkflowVersion | None:
    return workflow.versions.filter(status=VersionStatus.DRAFT).first()


def starter_graph(name: str, case_type: str) -> dict[str, Any]:
    """The graph a new workflow starts with: its trigger, ready for the next node."""
    return {
        "schema_version": 1,
        "name": name,
        "nodes": [
            {
                "id": "case",
                "type": "case_trigger",
                "type_version": 1,
                "title": "Case arrives",
                "config": {"case_types": [case_type]},
                "position": {"x": 0, "y": 0},
            }
        ],
        "edges": [],
    }


def _check_template(department: Department, template_version: TemplateVersion) -> None:
    if template_version.template.department_id != department.pk:
        raise WorkflowError(f"template version {template_version} belongs to another department")


def create_workflow(
    department: Department,
    *,
    slug: str,
    name: str,
    case_type: str,
    template_version: TemplateVersion,
    description: str = "",
    spec: dict[str, Any] | None = None,
    user: User | None = None,
) -> tuple[Workflow, Validation]:
    """Create workflow ``slug`` with a draft (``spec`` or a graph holding just the trigger)."""
    _check_template(department, template_version)
    with transaction.atomic():
        if Workflow.objects.filter(slug=slug).exists():
            raise WorkflowError(f"a workflow with slug '{slug}' already exists")
        workflow = Workflow.objects.create(
            department=department,
            slug=slug,
            name=name,
            case_type=case_type,
            description=description,
        )
        record_event("workflow.created", workflow, actor=user, department=department)
        _, validation = save_draft(
            workflow,
            spec or starter_graph(name, case_type),
            template_version=template_version,
            user=user,
        )
    return workflow, validation


def save_draft(
    workflow: Workflow,
    spec: Any,
    *,
    template_version: TemplateVersion | None = None,
    user: User | None = None,
) -> tuple[WorkflowVersion, Validation]:
    """Replace the draft's graph (creating the draft if there is none) and return what
    validation found. Problems do not stop the save; they stop publishing."""
    if template_version is not None:
        _check_template(workflow.department, template_version)
    with transaction.atomic():
        Workflow.objects.select_for_update().filter(pk=workflow.pk).first()
        draft = draft_of(workflow)
        if draft is None:
            if template_version is None:
                latest = workflow.versions.order_by("-number").first()
                if latest is None:
                    raise WorkflowError(f"workflow '{workflow.slug}' needs a template version")
                template_version = latest.template_version
            draft = WorkflowVersion(
                workflow=workflow,
                number=_next_number(workflow),
                template_version=template_version,
                created_by=user,
            )
        elif template_version is not None:
            draft.template_version = template_version
        draft.spec = spec
        draft.save()
        validation = check_version(draft)
        record_event(
            "workflow.draft_saved",
            draft,
            actor=user,
            department=workflow.department,
            workflow=workflow.slug,
            number=draft.number,
            problems=len(validation.problems),
        )
    return draft, validation


def publish_draft(workflow: Workflow, *, user: User | None = None) -> WorkflowVersion:
    """Publish the draft; raises WorkflowInvalid listing every problem when it has any."""
    with transaction.atomic():
        Workflow.objects.select_for_update().filter(pk=workflow.pk).first()
        draft = draft_of(workflow)
        if draft is None:
            raise WorkflowError(f"workflow '{workflow.slug}' has no draft to publish")
        validation = publish_problems(draft.template_version, check_version(draft))
        if validation.problems:
            record_event(
                "workflow.publish_refused",
                draft,
                actor=user,
                department=workflow.department,
                workflow=workflow.slug,
                problems=len(validation.problems),
            )
        else:
            draft.status = VersionStatus.PUBLISHED
            draft.published_at = timezone.now()
            draft.save()
            record_event(
                "workflow.published",
                draft,
                actor=user,
                department=workflow.department,
                workflow=workflow.slug,
                number=draft.number,
            )
    if validation.problems:
        raise WorkflowInvalid(validation.problems, validation.warnings)
    return draft


def publish_copy(
    workflow: Workflow,
    spec: Any,
    template_version: TemplateVersion,
    *,
    published_from: WorkflowVersion | None = None,
    user: User | None = None,
) -> WorkflowVersion:
    """Publish ``spec`` as the next number without touching the draft's graph; the draft
    moves up one number, so that it still comes after every published version."""
    Workflow.objects.select_for_update().filter(pk=workflow.pk).first()
    number = _next_number(workflow)
    draft = draft_of(workflow)
    if draft is not None:
        number = draft.number
        draft.number = number + 1
        draft.save(update_fields=["number", "updated_at"])
    return WorkflowVersion.objects.create(
        workflow=workflow,
        number=number,
        spec=spec,
        template_version=template_version,
        created_by=user,
        status=VersionStatus.PUBLISHED,
        published_at=timezone.now(),
        published_from=published_from,
    )


def rollback_to(workflow: Workflow, number: int, *, user: User | None = None) -> WorkflowVersion:
    """Publish version ``number`` again as a new version; raises WorkflowInvalid if it no
    longer validates (e.g. a node type or sub-workflow it uses is gone)."""
    old = workflow.versions.filter(number=number, status=VersionStatus.PUBLISHED).first()
    if old is None:
        raise WorkflowError(f"workflow '{workflow.slug}' has no published version {number}")
    validation = check_version(old)
    if validation.problems:
        raise WorkflowInvalid(validation.problems, validation.warnings)
    with transaction.atomic():
        version = publish_copy(
            workflow, old.spec, old.template_version, published_from=old, user=user
        )
        record_event(
            "workflow.rolled_back",
            version,
            actor=user,
            department=workflow.department,
            workflow=workflow.slug,
            number=version.number,
            published_from=old.number,
        )
    return version


# --- diff -----------------------------------------------------------------------------------


def diff_versions(old: WorkflowVersion, new: WorkflowVersion) -> dict[str, Any]:
    """Nodes added/removed/changed (with the config keys), edges added/removed, and the
    template version if it changed, from ``old`` to ``new``."""
    template = None
    if old.template_version_id != new.template_version_id:
        template = {"from": str(old.template_version), "to": str(new.template_version)}
    return {
        "from": old.number,
        "to": new.number,
        **diff_graphs(old.spec, new.spec),
        "template_version": template,
    }


# --- export and import ----------------------------------------------------------------------


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
        "workflow.exported",
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
            "workflow.imported",
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
