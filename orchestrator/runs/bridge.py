"""The bridge from Django to the engine: catalog, tiles, rendering and checkpoints as services.

The engine runs in an event loop; the ORM is synchronous, so every database touch goes through
``sync_to_async`` on one thread, which keeps one connection per worker process.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from orchestrator.cases.models import Specimen
from orchestrator.cases.tiles import load_tile_png
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.designs.models import VersionStatus, Workflow
from orchestrator.integrations.outbox import NodeDelivery, write_node_deliveries
from orchestrator.reports.rendering import Figure
from orchestrator.reports.services import FindingsRejected, create_draft_report
from orchestrator.runs.models import NodeRun, Run
from orchestrator.runs.outage import through_outage
from workflows.context import DeliveryRequest, Endpoint, RenderedReport, ReportFigure
from workflows.datasets import (
    drop_inapplicable_model_values,
    dropped_values,
    findings_problems,
    parse_dataset,
)
from workflows.errors import AwaitingTask, NodeError
from workflows.executor import NodeResult
from workflows.registry import REGISTRY


def case_payload(run: Run, specimens: Iterable[Specimen] | None = None) -> dict[str, Any]:
    """What nodes see as ``case``: clinical data, specimens and tiles, no patient identity.
    ``specimens``: the case's, in their order, when the caller loaded them already."""
    case = run.case
    return {
        "id": case.pk,
        "accession": case.accession,
        "case_type": case.case_type,
        "patient_sex": case.patient_sex,
        "clinical_info": case.clinical_info,
        "findings": case.findings,
        "specimens": [
            {
                "label": s.label,
                "site": s.site,
                "procedure": s.procedure,
                "data": s.data,
                "tiles": s.tiles,
            }
            for s in (case.specimens.all() if specimens is None else specimens)
        ],
    }


class DjangoServices:
    def __init__(self, run: Run, endpoints: Iterable[ModelEndpoint] | None = None) -> None:
        """``endpoints``: the department's catalog, when the caller loaded it already."""
        self.run = run
        if endpoints is None:
            endpoints = ModelEndpoint.objects.filter(department=run.case.department_id)
        self.endpoints = {e.slug: e for e in endpoints}
        # Deliveries deliver nodes asked for, by node id, until their checkpoint writes them.
        self.pending_deliveries: dict[str, list[NodeDelivery]] = {}

    def _entry(self, slug: str, kind: str, catalog: str) -> ModelEndpoint:
        """The enabled catalog entry ``slug``; ``kind`` and ``catalog`` name it in errors."""
        entry = self.endpoints.get(slug)
        if entry is None:
            raise NodeError(f"{kind} '{slug}' is not in the department's {catalog}", permanent=True)
        if not entry.enabled:
            raise NodeError(f"{kind} '{slug}' is disabled in the catalog", permanent=True)
        return entry

    @staticmethod
    def _secret(entry: ModelEndpoint, kind: str) -> str:
        """The value of the entry's secret on this worker (its ``secret_ref`` is set)."""
        secret = os.environ.get(entry.secret_ref)
        if not secret:
            raise NodeError(
                f"{kind} '{entry.slug}': its secret {entry.secret_ref} is not set on this worker",
                permanent=True,
            )
        return secret

    @staticmethod
    def _endpoint(entry: ModelEndpoint, headers: dict[str, str] | None = None) -> Endpoint:
        return Endpoint(
            slug=entry.slug,
            protocol=entry.protocol,
            base_url=entry.base_url,
            model_name=entry.model_name,
            timeout_s=entry.timeout_s,
            headers=headers or {},
            max_response_bytes=settings.MODEL_RESPONSE_MAX_BYTES,
        )

    def resolve_endpoint(self, slug: str) -> Endpoint:
        entry = self._entry(slug, "endpoint", "model catalog")
        headers = {}
        if entry.secret_ref:
            headers["Authorization"] = f"Bearer {self._secret(entry, 'endpoint')}"
        return self._endpoint(entry, headers=headers)

    async def load_tile(self, reference: dict[str, Any]) -> bytes:
        return await sync_to_async(load_tile_png, thread_sensitive=False)(reference)

    async def render_report(
        self,
        findings: dict[str, Any],
        provenance: dict[str, Any],
        language: str,
        figures: Sequence[ReportFigure] = (),
    ) -> RenderedReport:
        if settings.RENDER_QUEUE:
            # Findings that cannot fit fail the node here, within its error policy; the rest is
            # rendered by a worker on the render queue while the run parks (render_queue.py).
            await sync_to_async(through_outage(check_findings))(self.run, findings, provenance)
            raise AwaitingTask(render_request(findings, provenance, language, figures))
        return await sync_to_async(through_outage(render_draft))(
            self.run, findings, provenance, language, figures
        )

    async def load_workflow(self, slug: str, version: int | None) -> dict[str, Any]:
        return await sync_to_async(through_outage(self._published_spec))(slug, version)

    def _published_spec(self, slug: str, version: int | None) -> dict[str, Any]:
        """The spec of a published version of a workflow of the run's department."""
        workflow = Workflow.objects.filter(
            slug=slug, department_id=self.run.case.department_id
        ).first()
        if workflow is None:
            raise NodeError(f"workflow '{slug}' is not one of the department's", permanent=True)
        published = workflow.versions.filter(status=VersionStatus.PUBLISHED)
        chosen = (
            published.filter(number=version).first()
            if version is not None
            else published.order_by("-number").first()
        )
        if chosen is None:
            which = f"version {version}" if version is not None else "a version"
            raise NodeError(f"workflow '{slug}' has no published {which}", permanent=True)
        spec: dict[str, Any] = chosen.spec
        return spec

    def resolve_destination(self, slug: str) -> Endpoint:
        return self._endpoint(self._entry(slug, "destination", "catalog"))

    async def queue_delivery(self, request: DeliveryRequest) -> dict[str, Any]:
        """Check the request now; the delivery is written with the node's checkpoint (in its
        transaction), so a node that fails or is interrupted queues nothing."""
        from orchestrator.integrations.outbox import check_node_delivery

        pending, receipt = await sync_to_async(through_outage(check_node_delivery))(
            self.run, request
        )
        if receipt["status"] == "queued":
            self.pending_deliveries.setdefault(request.node_id, []).append(pending)
        return receipt

    def delivery_withheld(self) -> str | None:
        if self.run.is_test:
            return "a test run of a draft is never delivered"
        return None


def render_request(
    findings: dict[str, Any],
    provenance: dict[str, Any],
    language: str,
    figures: Sequence[ReportFigure],
) -> dict[str, Any]:
    """What a render node parked on the render queue asks for, stored with its waiting node."""
    return {
        "kind": "render",
        "title": "rendering the report",
        "findings": findings,
        "provenance": provenance,
        "language": language,
        "figures": [{"reference": f.reference, "caption": f.caption} for f in figures],
    }


def check_findings(run: Run, findings: dict[str, Any], provenance: dict[str, Any]) -> None:
    """A permanent NodeError when ``findings`` cannot fill the run's template version (as
    ``create_draft_report`` checks them), naming every problem."""
    dataset = parse_dataset(run.template_version.dataset)
    values, _, _ = drop_inapplicable_model_values(dataset, findings, provenance)
    problems = findings_problems(dataset, values, complete=False)
    if problems:
        raise NodeError(
            "the findings do not fit the template: " + "; ".join(str(p) for p in problems),
            permanent=True,
        )


def render_draft(
    run: Run,
    findings: dict[str, Any],
    provenance: dict[str, Any],
    language: str,
    figures: Sequence[ReportFigure] = (),
) -> RenderedReport:
    """Render and store a draft report of ``run``; a NodeError when the findings do not fit."""
    printed = [Figure(load_tile_png(f.reference), f.caption) for f in figures]
    try:
        report, rendered = create_draft_report(run, findings, provenance, language, figures=printed)
    except FindingsRejected as exc:
        raise NodeError(
            "the findings do not fit the template: " + "; ".join(exc.problems), permanent=True
        ) from None
    return RenderedReport(
        report_id=report.pk,
        sha256=rendered.sha256,
        pages=rendered.pages,
        dropped=tuple(d.as_dict() for d in dropped_values(report.provenance)),
    )


@functools.cache
def _side_effect_free(node_type: str) -> bool:
    """Whether every registered version of ``node_type`` declares no side effects."""
    versions = REGISTRY.versions(node_type)
    types = [REGISTRY.get(node_type, v) for v in versions]
    return bool(types) and all(t is not None and t.side_effect_free for t in types)


class DjangoCheckpoints:
    """Each call commits a NodeRun row, so a resumed run knows what already finished (a node
    type without side effects has no start checkpoint, see ``node_started``).

    Rows are written by one upsert statement (INSERT … ON CONFLICT DO UPDATE, on SQLite and
    PostgreSQL alike), and checkpoints that arrive while a write is in flight (parallel nodes
    starting or finishing together) go in the next statement together: a checkpoint is on the
    path of every node, so its cost is the engine's overhead per node (docs/performance.md).
    Every call still returns only once its own row is committed."""

    def __init__(self, run: Run, services: DjangoServices | None = None) -> None:
        self.run = run
        # A deliver node's delivery is written in the same transaction as its checkpoint.
        self.services = services
        self._pending: list[tuple[NodeRun, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def node_started(
        self, node_id: str, node_type: str, attempt: int, inputs: dict[str, Any]
    ) -> None:
        if _side_effect_free(node_type):
            # Nothing to guard: such a node changes nothing outside the run, so one
            # interrupted before its end is simply run again (at the same attempt), and its
            # row is written with its end — committed before, or with, the start checkpoint
            # of any node that acts on its outputs. This saves a commit on the path of every
            # switch, transform and join (docs/performance.md).
            return
        row = NodeRun(
            run=self.run,
            node_id=node_id,
            attempt=attempt,
            node_type=node_type,
            status="running",
            inputs=inputs,
            started_at=timezone.now(),
        )
        await self._commit(row)

    async def node_finished(self, result: NodeResult) -> None:
        duration = None
        if result.started_at and result.finished_at:
            duration = int((result.finished_at - result.started_at).total_seconds() * 1000)
        row = NodeRun(
            run=self.run,
            node_id=result.node_id,
            attempt=result.attempt,
            node_type=result.node_type,
            status=result.status,
            inputs=result.inputs,
            outputs=result.outputs,
            error=result.error,
            started_at=result.started_at,
            finished_at=result.finished_at,
            duration_ms=duration,
            final=result.final and result.status in FINISHED_FOR_GOOD,
        )
        await self._commit(row)

    async def _commit(self, row: NodeRun) -> None:
        done = asyncio.get_running_loop().create_future()
        self._pending.append((row, done))
        # The writer is a task of its own, so that a node cancelled while waiting for its
        # checkpoint does not stop the writes of the others.
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        await done

    async def _drain(self) -> None:
        while self._pending:
            # Let the checkpoints of nodes scheduled in the same step join this write (e.g.
            # a node's end and the start of the nodes it feeds).
            await asyncio.sleep(0)
            batch, self._pending = self._pending, []
            # One row per node attempt: a later checkpoint of the same attempt wins.
            rows = {(r.node_id, r.attempt): r for r, _ in batch}
            deliveries = self._deliveries(list(rows.values()))
            try:
                await sync_to_async(_upsert)(self.run, list(rows.values()), deliveries)
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    def _deliveries(self, rows: list[NodeRun]) -> list[NodeDelivery]:
        """The deliveries to write with ``rows``: those of nodes that finished succeeded; a
        node's request is dropped when its attempt ends any other way."""
        if self.services is None:
            return []
        pending = self.services.pending_deliveries
        chosen: list[NodeDelivery] = []
        for row in rows:
            if row.status in ("running", "waiting") or row.node_id not in pending:
                continue
            requests = pending.pop(row.node_id)
            if row.status == "succeeded":
                chosen.extend(requests)
        return chosen


_UPSERT_FIELDS = [
    "node_type",
    "status",
    "inputs",
    "outputs",
    "error",
    "started_at",
    "finished_at",
    "duration_ms",
    "final",
]


class _Upsert:
    """Checkpoint rows as one ``INSERT … ON CONFLICT (run, node, attempt) DO UPDATE`` whose SQL
    is built once per database vendor: no SQL compilation per checkpoint (``bulk_create`` with
    ``update_conflicts`` compiled it every time, ~0.2 ms of CPU on the path of every node).
    The same statement on SQLite (≥ 3.24) and PostgreSQL; rows of one call never share a key
    (``DjangoCheckpoints._drain`` keeps the last checkpoint of each node attempt)."""

    # Column types whose Python values the database driver does not take as they are.
    CONVERTED = ("DateTimeField", "JSONField")

    def __init__(self) -> None:
        meta = NodeRun._meta
        # Model instances carry every field's value (defaults are set when they are made).
        self.fields = [f for f in meta.concrete_fields if not f.primary_key]
        self.converted = {f.attname for f in self.fields if f.get_internal_type() in self.CONVERTED}
        quote = connection.ops.quote_name
        column = {f.name: quote(str(f.column)) for f in self.fields}
        self.table = quote(meta.db_table)
        self.columns = ", ".join(column[f.name] for f in self.fields)
        self.marks = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        key = ", ".join(column[n] for n in ("run", "node_id", "attempt"))
        updates = ", ".join(f"{column[n]} = excluded.{column[n]}" for n in _UPSERT_FIELDS)
        self.conflict = f"ON CONFLICT ({key}) DO UPDATE SET {updates}"

    def __call__(self, rows: list[NodeRun]) -> None:
        params: list[Any] = []
        for row in rows:
            for f in self.fields:
                value = getattr(row, f.attname)
                if value is not None and f.attname in self.converted:
                    value = f.get_db_prep_save(value, connection)
                params.append(value)
        values = ", ".join([self.marks] * len(rows))
        sql = f"INSERT INTO {self.table} ({self.columns}) VALUES {values} {self.conflict}"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


_upserts: dict[str, _Upsert] = {}


@through_outage
def _upsert(run: Run, rows: list[NodeRun], deliveries: list[NodeDelivery]) -> None:
    statement = _upserts.get(connection.vendor)
    if statement is None:
        statement = _upserts[connection.vendor] = _Upsert()
    if not deliveries:
        statement(rows)  # one statement: atomic as it is
        return
    with transaction.atomic():
        statement(rows)
        write_node_deliveries(run, deliveries)


# A node with one of these statuses and ``final`` set is never run again in the same run.
FINISHED_FOR_GOOD = frozenset({"succeeded", "skipped", "failed"})


@dataclass
class ResumeState:
    """What earlier executions of a run left, read in one query.

    ``completed``: nodes that finished for good (succeeded, skipped, or failed after their last
    attempt or permanently) — never run again. ``attempts``: per node, the highest attempt
    started (a node parked ``waiting`` for a person did not use its attempt) — a resumed node
    goes on at the next number. ``steps``: node executions so far, for the step limit.
    ``interrupted``: attempts left ``running`` by an execution that died."""

    completed: dict[str, NodeResult] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    steps: int = 0
    interrupted: list[int] = field(default_factory=list)


def resume_state(run: Run) -> ResumeState:
    return resume_from(run.node_runs.order_by("attempt"))


def resume_from(rows: Iterable[NodeRun]) -> ResumeState:
    """The resume state of a run's checkpoint rows, in the order of their attempts."""
    state = ResumeState()
    for row in rows:
        if row.status != "waiting":
            state.attempts[row.node_id] = max(state.attempts.get(row.node_id, 0), row.attempt)
        if row.status not in ("skipped", "waiting") and not row.pinned:
            state.steps += 1
        if row.status == "running":
            state.interrupted.append(row.pk)
        if row.status in ("succeeded", "skipped") or (row.status == "failed" and row.final):
            state.completed[row.node_id] = NodeResult(
                node_id=row.node_id,
                node_type=row.node_type,
                status=row.status,  # type: ignore[arg-type]
                attempt=row.attempt,
                inputs=row.inputs,
                outputs=row.outputs,
                error=row.error,
                started_at=row.started_at,
                finished_at=row.finished_at,
                final=True,
            )
    return state


def completed_results(run: Run) -> dict[str, NodeResult]:
    """Checkpoints of nodes that finished for good in an earlier execution of this run."""
    return resume_state(run).completed
