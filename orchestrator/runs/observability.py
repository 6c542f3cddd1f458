"""Looking into runs and trying designs out: who may see and act on a run, re-runs from a node,
test runs of a draft on a sample case, single-node runs with pinned inputs, and the cheap
progress feed the run screen polls.

Node inputs and outputs may hold case data: nothing here logs them, and audit events carry only
identifiers and outcomes.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import networkx as nx
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import workflows.nodes  # noqa: F401  (registers the node types)
from orchestrator.accounts.models import Role, User
from orchestrator.accounts.policy import Permission, role_allows
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.cases.models import Case
from orchestrator.cases.services import create_case
from orchestrator.designs.models import VersionStatus, Workflow, WorkflowVersion
from orchestrator.runs.bridge import DjangoServices, case_payload
from orchestrator.runs.models import TERMINAL_STATUSES, NodeRun, NodeRunStatus, Run, RunStatus
from orchestrator.runs.services import RunRejected, enqueue_run, start_run
from workflows.context import RenderedReport, ReportFigure, RunContext
from workflows.errors import NodeError
from workflows.executor import json_safe
from workflows.http import new_client
from workflows.registry import REGISTRY, NodeType
from workflows.spec import NodeSpec, read_graph

logger = logging.getLogger(__name__)

# A single-node run happens inside a web request: never longer than this, whatever the node says.
SINGLE_NODE_MAX_SECONDS = 30.0

# Node types whose single-node run would change the world or needs a whole run; the reason is
# what the person sees.
NOT_SINGLE_RUNNABLE = {
    "render_report": "rendering stores a report version; start a test run of the draft instead",
    "review": "a review parks a whole run for a person; start a test run of the draft instead",
    "deliver": "delivering sends the report to its destination; start a test run instead "
    "(test runs never deliver)",
    "sub_workflow": "a sub-workflow starts a whole run of another workflow; start a test run "
    "of the draft instead",
}

# Checkpoints are stamped by the worker before they commit, and concurrent nodes commit in any
# order: a progress cursor looks back this far so that a late commit is never missed. The client
# merges rows by (node, attempt), so seeing a row twice is harmless.
PROGRESS_OVERLAP = timedelta(seconds=2)


class ActionDenied(PermissionError):
    """The user's role may not do this; the message says which roles may."""


def can_act(user: User) -> bool:
    """Start, cancel, review and re-run runs (the policy's ``run.act``)."""
    return role_allows(user.role, Permission.RUN_ACT)


def can_see_io(user: User) -> bool:
    """Node inputs and outputs hold case data and unsigned AI drafts: only those who act on
    runs see them. Clinicians receive signed reports (PRODUCT.md): in the run screens they see
    statuses, timings and errors, never inputs, outputs or test runs."""
    return role_allows(user.role, Permission.RUN_ACT)


def check_can_act(user: User, action: str) -> None:
    if not can_act(user):
        raise ActionDenied(
            f"only department admins and pathologists may {action}; "
            f"your role is {Role(user.role).label.lower()}"
        )


def visible_runs(user: User) -> Any:
    """The runs ``user`` may read: those of cases of their department; clinicians and other
    read-only roles do not see test runs."""
    if user.department_id is None:
        return Run.objects.none()
    runs = Run.objects.filter(case__department_id=user.department_id)
    if not can_see_io(user):
        runs = runs.filter(is_test=False)
    return runs


# --- the graph --------------------------------------------------------------------------------


def ordered_nodes(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The graph's nodes in execution order (topological, ties in the order they are drawn);
    a graph with a cycle (only possible in an unsaved draft) keeps the drawn order."""
    nodes = [n for n in spec.get("nodes", []) if isinstance(n, dict) and "id" in n]
    index = {str(n["id"]): i for i, n in enumerate(nodes)}
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(index)
    for edge in spec.get("edges", []):
        if isinstance(edge, dict) and edge.get("source") in index and edge.get("target") in index:
            graph.add_edge(str(edge["source"]), str(edge["target"]))
    try:
        order = list(nx.lexicographical_topological_sort(graph, key=lambda n: index[n]))
    except nx.NetworkXUnfeasible:
        order = list(index)
    return [nodes[index[node_id]] for node_id in order]


def downstream_of(spec: dict[str, Any], node_id: str) -> set[str]:
    """``node_id`` and every node reachable from it: what a re-run from ``node_id`` runs again."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(str(n["id"]) for n in spec.get("nodes", []) if isinstance(n, dict))
    graph.add_edges_from(
        (str(e["source"]), str(e["target"]))
        for e in spec.get("edges", [])
        if isinstance(e, dict) and "source" in e and "target" in e
    )
    if node_id not in graph:
        return {node_id}
    return {node_id, *nx.descendants(graph, node_id)}


def _node_ids(spec: dict[str, Any]) -> list[str]:
    return [str(n["id"]) for n in spec.get("nodes", []) if isinstance(n, dict) and "id" in n]


# --- re-run from a node -----------------------------------------------------------------------


def rerun_from_node(run: Run, from_node: str, user: User, *, enqueue: bool = True) -> Run:
    """Start a new run of the same case and workflow version that reuses the checkpoints of
    every node that is neither ``from_node`` nor downstream of it, and runs the rest again.

    Preconditions: ``run`` is finished (succeeded, failed or cancelled) and ``user`` acts for the
    run's department. The new run has ``rerun_of``/``rerun_from_node`` set, keeps ``is_test``,
    and is enqueued once the transaction commits. It delivers again if a deliver node is
    downstream of ``from_node`` (a test run never delivers).
    """
    check_can_act(user, "re-run a run")
    spec = run.workflow_version.spec
    if from_node not in _node_ids(spec):
        raise RunRejected(
            f"node '{from_node}' is not in {run.workflow_version}; choose one of its nodes"
        )
    if not run.is_terminal:
        raise RunRejected(
            f"run {run.pk} is still {run.status}; wait for it to end or cancel it "
            "before re-running from a node"
        )
    version = run.workflow_version
    if version.status == VersionStatus.DRAFT and version.updated_at > run.created_at:
        raise RunRejected(
            f"the draft of workflow '{version.workflow.slug}' changed after run {run.pk}; "
            "its checkpoints may not fit the new graph: start a new test run instead"
        )
    again = downstream_of(spec, from_node)
    with transaction.atomic():
        rerun = Run.objects.create(
            case=run.case,
            workflow_version=run.workflow_version,
            template_version=run.template_version,
            requested_by=user,
            is_test=run.is_test,
            rerun_of=run,
            rerun_from_node=from_node,
        )
        reused = _copy_checkpoints(run, rerun, again)
        record_event(
            AuditAction.RUN_RERUN_STARTED,
            rerun,
            actor=user,
            department=run.case.department,
            rerun_of=run.pk,
            from_node=from_node,
            reused_nodes=sorted(reused),
        )
        if enqueue:
            enqueue_run(rerun.pk)
    return rerun


def _copy_checkpoints(source: Run, target: Run, again: set[str]) -> set[str]:
    """Copy the final, finished attempt of every node outside ``again``; return their ids.
    Nodes of a sub-workflow are recorded as ``<node>/<child node>`` and go with their node."""
    latest: dict[str, NodeRun] = {}
    for row in source.node_runs.order_by("attempt"):
        if row.node_id.split("/", 1)[0] not in again:
            latest[row.node_id] = row
    kept = [row for row in latest.values() if row.status in ("succeeded", "skipped")]
    NodeRun.objects.bulk_create(
        NodeRun(
            run=target,
            node_id=row.node_id,
            node_type=row.node_type,
            attempt=row.attempt,
            status=row.status,
            inputs=row.inputs,
            outputs=row.outputs,
            error=row.error,
            started_at=row.started_at,
            finished_at=row.finished_at,
            duration_ms=row.duration_ms,
            final=True,
            pinned=row.pinned,
        )
        for row in kept
    )
    return {row.node_id for row in kept}


# --- test runs --------------------------------------------------------------------------------


def draft_version(workflow: Workflow) -> WorkflowVersion:
    draft = workflow.versions.filter(status=VersionStatus.DRAFT).order_by("-number").first()
    if draft is None:
        raise RunRejected(
            f"workflow '{workflow.slug}' has no draft version to test; "
            "edit the workflow to create one"
        )
    return draft


def create_sample_case(workflow: Workflow, document: Any) -> Case:
    """A case made from a case document (as in demo/cases/*.json) only for testing: its source
    is ``sample`` and its accession is prefixed, so it never clashes with a real case."""
    if isinstance(document, dict) and isinstance(document.get("accession"), str):
        suffix = uuid.uuid4().hex[:6]
        document = {**document, "accession": f"TEST-{document['accession']}-{suffix}"[:64]}
    return create_case(workflow.department, document, source="sample")


def start_test_run(
    workflow: Workflow,
    user: User,
    *,
    case: Case | None = None,
    case_document: Any = None,
    enqueue: bool = True,
    pinned: dict[str, dict[str, Any]] | None = None,
) -> Run:
    """Run the workflow's draft version on ``case`` (of the workflow's department) or on a new
    sample case made from ``case_document``. The run has ``is_test=True``: it never delivers
    and its report stays a draft. Raises ``CaseDocumentInvalid`` for a bad document.

    ``pinned`` gives some nodes' outputs (port name → value): those nodes are not executed —
    each is recorded as a succeeded, ``pinned`` checkpoint before the run starts, so the
    executor treats it as finished and its outputs flow downstream."""
    check_can_act(user, "test a workflow")
    version = draft_version(workflow)
    pins = _pinned_checkpoints(version, pinned or {})
    with transaction.atomic():
        if case is None:
            if case_document is None:
                raise RunRejected("give a case id or a case document to test the workflow on")
            case = create_sample_case(workflow, case_document)
        elif case.department_id != workflow.department_id:
            raise RunRejected("the case belongs to another department than the workflow")
        # Enqueued when the transaction commits: the pinned checkpoints are there first.
        run = start_run(case, version, requested_by=user, enqueue=enqueue, allow_draft=True)
        for row in pins:
            row.run = run
        NodeRun.objects.bulk_create(pins)
    return run


def _pinned_checkpoints(
    version: WorkflowVersion, pinned: dict[str, dict[str, Any]]
) -> list[NodeRun]:
    """A succeeded, final, ``pinned`` checkpoint per pinned node (without its run yet);
    ``RunRejected`` naming every pin that is not a node of the draft or not an object."""
    types = {
        str(n["id"]): str(n.get("type", ""))
        for n in version.spec.get("nodes", [])
        if isinstance(n, dict) and "id" in n
    }
    problems = [
        f"pinned: '{node_id}' is not a node of the draft"
        for node_id in pinned
        if node_id not in types
    ]
    problems += [
        f"pinned: the outputs of '{node_id}' must be an object of port name → value"
        for node_id, outputs in pinned.items()
        if not isinstance(outputs, dict)
    ]
    if problems:
        raise RunRejected("; ".join(problems))
    now = timezone.now()
    return [
        NodeRun(
            node_id=node_id,
            node_type=types[node_id],
            attempt=1,
            status=NodeRunStatus.SUCCEEDED,
            outputs=json_safe(outputs),
            started_at=now,
            finished_at=now,
            duration_ms=0,
            final=True,
            pinned=True,
        )
        for node_id, outputs in pinned.items()
    ]


# --- single-node runs -------------------------------------------------------------------------


@dataclass(frozen=True)
class SingleNodeResult:
    node_id: str
    node_type: str
    status: str  # "succeeded" or "failed"
    outputs: dict[str, Any]
    error: str
    duration_ms: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "node_type": self.node_type,
            "status": self.status,
            "outputs": self.outputs,
            "error": self.error,
            "duration_ms": self.duration_ms,
        }


class SingleNodeRejected(ValueError):
    """The single-node run cannot start; ``problems`` lists everything wrong with the request."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class _SingleNodeServices(DjangoServices):
    """The run's services without the one that stores something."""

    async def render_report(
        self,
        findings: dict[str, Any],
        provenance: dict[str, Any],
        language: str,
        figures: Sequence[ReportFigure] = (),
    ) -> RenderedReport:
        raise NodeError(NOT_SINGLE_RUNNABLE["render_report"], permanent=True)

    def delivery_withheld(self) -> str | None:
        return "a single-node run never delivers"


def _single_node(
    version: WorkflowVersion, node_id: str, inputs: Any, node_outputs: Any
) -> tuple[NodeSpec, NodeType]:
    spec, problems = read_graph(version.spec)
    node = next((n for n in spec.nodes if n.id == node_id), None) if spec else None
    if node is None:
        if spec is None:
            raise SingleNodeRejected([str(p) for p in problems])
        raise SingleNodeRejected([f"node '{node_id}' is not in {version}"])
    node_type = REGISTRY.get(node.type, node.type_version)
    if node_type is None:
        raise SingleNodeRejected(
            [f"node '{node_id}': unknown type {node.type} v{node.type_version}"]
        )
    if node.type in NOT_SINGLE_RUNNABLE:
        raise SingleNodeRejected(
            [
                f"node '{node_id}' ({node.title}) is not available as a single-node run: "
                f"{NOT_SINGLE_RUNNABLE[node.type]}"
            ]
        )
    found = [f"node '{node_id}': {p}" for p in node_type.config_problems(node.config)]
    if not isinstance(inputs, dict):
        found.append("inputs: must be an object keyed by input port name")
    else:
        ports = {p.name: p for p in node_type.inputs}
        found += [
            f"inputs: node '{node_id}' has no input port '{name}' "
            f"(its ports: {', '.join(ports) or 'none'})"
            for name in inputs
            if name not in ports
        ]
        found += [
            f"inputs: port '{p.name}' is required"
            for p in node_type.inputs
            if p.required and p.name not in inputs
        ]
    if not isinstance(node_outputs, dict) or any(
        not isinstance(v, dict) for v in node_outputs.values()
    ):
        found.append("nodes: must be an object of node id → outputs by port name")
    if found:
        raise SingleNodeRejected(found)
    return node, node_type


def run_single_node(
    version: WorkflowVersion,
    node_id: str,
    inputs: Any,
    user: User,
    *,
    case: Case | None = None,
    node_outputs: Any = None,
) -> SingleNodeResult:
    """Run one node of ``version`` in this process with the given inputs (by port name), the
    case's payload as ``case`` and ``node_outputs`` as ``nodes.<id>.<port>`` for expressions.

    One attempt, no retries, at most ``SINGLE_NODE_MAX_SECONDS``; outbound HTTP only to the
    department's catalog endpoints, as in a run. Nothing is stored except an audit event.
    A failing node is a result with status ``failed`` and the error as a run would show it.
    """
    check_can_act(user, "run a single node")
    node_outputs = {} if node_outputs is None else node_outputs
    node, node_type = _single_node(version, node_id, inputs, node_outputs)
    department = version.workflow.department
    if case is not None and case.department_id != department.pk:
        raise SingleNodeRejected(["case: belongs to another department than the workflow"])
    # Unsaved run: the bridge's services and case payload read only its case.
    holder = Run(case=case or Case(department=department), workflow_version=version)
    payload = case_payload(holder) if case is not None else {}
    services = _SingleNodeServices(holder)
    timeout = min(node.timeout_s or SINGLE_NODE_MAX_SECONDS, SINGLE_NODE_MAX_SECONDS)
    started = time.monotonic()
    status, outputs, error = "failed", {}, ""
    try:
        outputs = asyncio.run(
            _run_node(node, node_type, payload, services, inputs, node_outputs, timeout)
        )
        status = "succeeded"
    except NodeError as exc:
        error = str(exc)
    except TimeoutError:
        error = f"no result within the node's timeout of {timeout:g} s"
    except Exception as exc:  # a bug in a node type is shown, not a 500
        logger.exception("single-node run of node %s (%s) raised", node.id, node.type)
        error = f"internal error: {type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    record_event(
        AuditAction.WORKFLOW_NODE_RUN,
        version,
        actor=user,
        department=department,
        node_id=node.id,
        node_type=node.type,
        status=status,
        case=case.pk if case is not None else None,
    )
    return SingleNodeResult(node.id, node.type, status, json_safe(outputs), error, duration_ms)


async def _run_node(
    node: NodeSpec,
    node_type: NodeType,
    case: dict[str, Any],
    services: DjangoServices,
    inputs: dict[str, Any],
    node_outputs: dict[str, dict[str, Any]],
    timeout: float,
) -> dict[str, Any]:
    async with new_client() as http:
        context = RunContext(
            run_id=f"single-node-{uuid.uuid4().hex[:12]}",
            case=case,
            services=services,
            http=http,
            node_id=node.id,
            node_outputs=dict(node_outputs),
        )
        return await asyncio.wait_for(node_type.run(context, inputs, node.config), timeout)


# --- live progress ----------------------------------------------------------------------------


# The columns of a node attempt without its inputs and outputs (which may be large and hold case
# data): what the run list and the progress feed read.
NODE_RUN_SUMMARY = (
    "id",
    "run_id",
    "node_id",
    "node_type",
    "attempt",
    "status",
    "error",
    "started_at",
    "finished_at",
    "duration_ms",
)


class CursorInvalid(ValueError):
    """The ``since`` cursor is not one this endpoint returned."""


def parse_cursor(since: str | None) -> datetime | None:
    if not since:
        return None
    try:
        moment = datetime.fromisoformat(since)
    except ValueError:
        raise CursorInvalid(
            "since: not a cursor from an earlier progress answer; leave it out to start over"
        ) from None
    if moment.tzinfo is None:
        raise CursorInvalid("since: the cursor has no time zone; use the cursor as returned")
    return moment


def run_progress(run: Run, since: datetime | None) -> dict[str, Any]:
    """The run's status and the node attempts that changed since ``since`` (all without it),
    without inputs or outputs: two queries, small answers, safe to poll every second.

    ``cursor`` is the latest checkpoint time seen; pass it back as ``since``. Attempts stamped
    up to ``PROGRESS_OVERLAP`` before it come again, so commits that land out of order are not
    missed. ``active`` says whether the run may still change on its own.
    """
    rows = run.node_runs.only(*NODE_RUN_SUMMARY).order_by("started_at", "id")
    if since is not None:
        floor = since - PROGRESS_OVERLAP
        rows = rows.filter(Q(started_at__gte=floor) | Q(finished_at__gte=floor))
    changed = list(rows)
    stamps = [t for row in changed for t in (row.started_at, row.finished_at) if t is not None]
    cursor = max([*stamps, *([since] if since else [])], default=None)
    return {
        "id": run.pk,
        "status": run.status,
        "active": run.status not in TERMINAL_STATUSES and run.status != RunStatus.WAITING_REVIEW,
        "error": run.error,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "cancel_requested_at": run.cancel_requested_at,
        "cursor": cursor.isoformat() if cursor else None,
        "node_runs": [
            {
                "node_id": row.node_id,
                "node_type": row.node_type,
                "attempt": row.attempt,
                "status": row.status,
                "error": row.error,
                "started_at": row.started_at,
                "finished_at": row.finished_at,
                "duration_ms": row.duration_ms,
            }
            for row in changed
        ],
    }
