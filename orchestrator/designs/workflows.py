"""Workflow versions: drafts, validation, publishing, rollback and diff.

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
  (upgrading older graphs, warning about newer ones) into a published version, or the draft
  (``orchestrator.designs.workflow_files``).
- Validation here adds what needs the database to the engine's checks: the template
  version's dataset (the template-first contract) and sub-workflow references.

Every change is recorded as an ``AuditEvent``, with identifiers and counts, never report values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from orchestrator.accounts.models import Department, User
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.catalog.models import ModelEndpoint, output_measures_problems
from orchestrator.designs.models import (
    TemplateVersion,
    VersionStatus,
    Workflow,
    WorkflowVersion,
)
from workflows.context import EndpointOutputs
from workflows.datasets import DatasetInvalid, parse_dataset
from workflows.errors import GraphProblem
from workflows.registry import REGISTRY
from workflows.spec import GraphSpec, OnError, diff_graphs, read_graph
from workflows.validation import check_graph, exposed_fills

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


class DraftConflict(WorkflowError):
    """The draft changed since the copy being saved was read: saving would overwrite someone's
    work. Names who saved it last and when, so the editor can say so."""

    def __init__(self, draft: WorkflowVersion) -> None:
        self.updated_by = str(draft.updated_by) if draft.updated_by else None
        self.updated_at = draft.updated_at
        who = self.updated_by or "someone"
        super().__init__(
            f"the draft was changed by {who} at {draft.updated_at.isoformat()} since you "
            "opened it; reload it (your changes are kept in the editor) and save again"
        )


class PublishBlocked(WorkflowError):
    """A check in ``PUBLISH_CHECKS`` refused the draft; ``body`` is the API's answer (409)."""

    def __init__(self, message: str, body: dict[str, Any]) -> None:
        super().__init__(message)
        self.body = body


# Checks a valid draft must pass before it is published, registered by other apps (the
# golden-case gate of orchestrator.quality). Each gets (draft, user, override_reason) and
# raises PublishBlocked to refuse; they run before the publishing transaction.
PUBLISH_CHECKS: list[Callable[[WorkflowVersion, User | None, str], None]] = []


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
        config = spec.node(node_id).config
        problems.extend(
            GraphProblem("sub_workflow_output_unknown", message, node_id=node_id)
            for message in _output_reference_problems(config.get("outputs"), version)
        )
        if own_slug and (path := _cycle(department, own_slug, slug, number)):
            problems.append(
                GraphProblem(
                    "sub_workflow_cycle",
                    "sub-workflows lead back to this workflow: " + " → ".join(path),
                    node_id=node_id,
                )
            )
    return problems


def _output_reference_problems(outputs: Any, version: WorkflowVersion) -> list[str]:
    """Each ``name: "<child node>.<port>"`` must name an output port of a node of the child
    version; a mistyped one would leave everything downstream silently skipped."""
    child, _ = read_graph(version.spec)
    if child is None or not isinstance(outputs, dict):
        return []
    problems = []
    for name, reference in outputs.items():
        node_id, _, port = str(reference).rpartition(".")
        node = next((n for n in child.nodes if n.id == node_id), None)
        node_type = REGISTRY.get(node.type, node.type_version) if node else None
        if node is None or node_type is None:
            problems.append(
                f"outputs.{name}: {version} has no node '{node_id}' (reference {reference!r})"
            )
            continue
        ports = {p.name for p in node_type.output_ports(node.config)}
        if node.on_error == OnError.ERROR_BRANCH:
            ports.add("error")
        if port not in ports:
            problems.append(
                f"outputs.{name}: node '{node_id}' of {version} has no output port '{port}' "
                f"(it has {', '.join(sorted(ports)) or 'none'})"
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
    check = check_graph(
        document,
        dataset=dataset,
        extra_fills=extra_fills,
        endpoint_outputs=endpoint_outputs(department) if dataset is not None else None,
    )
    problems.extend(check.problems)
    if check.spec is not None:
        problems.extend(sub_workflow_problems(department, check.spec, slug))
    return Validation(problems, list(check.warnings))


def endpoint_outputs(department: Department) -> EndpointOutputs:
    """What the department's catalog endpoints declare their outputs measure."""
    declared = ModelEndpoint.objects.filter(department=department).exclude(outputs={})
    return {
        slug: outputs
        for slug, outputs in declared.values_list("slug", "outputs")
        if not output_measures_problems(outputs)
    }


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
        record_event(AuditAction.WORKFLOW_CREATED, workflow, actor=user, department=department)
        _, validation = save_draft(
            workflow,
            spec or starter_graph(name, case_type),
            template_version=template_version,
            user=user,
        )
    return workflow, validation


def _record(
    action: AuditAction,
    version: WorkflowVersion,
    workflow: Workflow,
    user: User | None,
    **detail: Any,
) -> None:
    """Audit ``action`` on a version of ``workflow``, in its department, naming the workflow."""
    record_event(
        action,
        version,
        actor=user,
        department=workflow.department,
        workflow=workflow.slug,
        **detail,
    )


def save_draft(
    workflow: Workflow,
    spec: Any,
    *,
    template_version: TemplateVersion | None = None,
    user: User | None = None,
    expected_updated_at: datetime | None = None,
) -> tuple[WorkflowVersion, Validation]:
    """Replace the draft's graph (creating the draft if there is none) and return what
    validation found. Problems do not stop the save; they stop publishing.

    ``expected_updated_at`` is the ``updated_at`` of the draft the caller edited (optimistic
    locking): if the draft has been saved since, nothing is saved and DraftConflict names who
    saved it. Without it the save is unconditional (files, the CLI)."""
    if template_version is not None:
        _check_template(workflow.department, template_version)
    with transaction.atomic():
        Workflow.objects.select_for_update().filter(pk=workflow.pk).first()
        draft = draft_of(workflow)
        stale = draft is not None and expected_updated_at not in (None, draft.updated_at)
        if not stale:
            draft, validation = _write_draft(workflow, draft, spec, template_version, user)
    if stale:
        assert draft is not None
        _record(AuditAction.WORKFLOW_DRAFT_CONFLICT, draft, workflow, user, number=draft.number)
        raise DraftConflict(draft)
    assert draft is not None
    return draft, validation


def _write_draft(
    workflow: Workflow,
    draft: WorkflowVersion | None,
    spec: Any,
    template_version: TemplateVersion | None,
    user: User | None,
) -> tuple[WorkflowVersion, Validation]:
    """Store ``spec`` in the draft (a new one if there is none); inside save_draft's lock."""
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
    draft.updated_by = user
    draft.save()
    validation = check_version(draft)
    _record(
        AuditAction.WORKFLOW_DRAFT_SAVED,
        draft,
        workflow,
        user,
        number=draft.number,
        problems=len(validation.problems),
    )
    return draft, validation


def publish_draft(
    workflow: Workflow, *, user: User | None = None, note: str = "", override_reason: str = ""
) -> WorkflowVersion:
    """Publish the draft with the publisher's ``note``; raises WorkflowInvalid listing every
    problem when it has any, PublishBlocked when a check in PUBLISH_CHECKS refuses it (unless
    ``override_reason`` lets it through)."""
    checked = draft_of(workflow)
    if checked is not None and PUBLISH_CHECKS:
        validation = publish_problems(checked.template_version, check_version(checked))
        for check in PUBLISH_CHECKS if not validation.problems else []:
            check(checked, user, override_reason)
    with transaction.atomic():
        Workflow.objects.select_for_update().filter(pk=workflow.pk).first()
        draft = draft_of(workflow)
        if draft is None:
            raise WorkflowError(f"workflow '{workflow.slug}' has no draft to publish")
        if checked is not None and draft.updated_at != checked.updated_at:
            raise WorkflowError("the draft was saved while it was being checked; publish again")
        validation = publish_problems(draft.template_version, check_version(draft))
        if validation.problems:
            _record(
                AuditAction.WORKFLOW_PUBLISH_REFUSED,
                draft,
                workflow,
                user,
                problems=len(validation.problems),
            )
        else:
            draft.status = VersionStatus.PUBLISHED
            draft.published_at = timezone.now()
            draft.publish_note = note
            draft.save()
            _record(AuditAction.WORKFLOW_PUBLISHED, draft, workflow, user, number=draft.number)
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
        _record(
            AuditAction.WORKFLOW_ROLLED_BACK,
            version,
            workflow,
            user,
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
