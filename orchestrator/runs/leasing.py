"""Taking a run's lease and loading what its execution needs, on the path of every run.

The lease is one conditional UPDATE; loading is five SELECTs (the run with its case, department,
workflow version, workflow and template version; its checkpoints; the case's specimens; the
department's catalog). Their SQL is written here once per database connection instead of being
compiled by the ORM for every run (the 6-table ``select_related`` alone took ~1.7 ms of CPU to
compile, the five ~3 ms): rows become model instances through the fields' own converters
(``Model.from_db``), exactly as the querysets they replace made them (docs/performance.md).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.utils import timezone

from orchestrator.accounts.models import Department
from orchestrator.cases.models import Case, Specimen
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.designs.models import TemplateVersion, Workflow, WorkflowVersion
from orchestrator.runs.bridge import DjangoServices, ResumeState, case_payload, resume_from
from orchestrator.runs.models import NodeRun, NodeRunStatus, Run, RunStatus
from orchestrator.runs.outage import through_outage
from orchestrator.runs.render_queue import PARKED

logger = logging.getLogger(__name__)
# A node whose attempts stopped their worker process this many times (the process was killed or
# ran out of memory while running it: a poison step) is not tried again, whatever its retry
# policy says: the broker's redeliveries of the run end, and the run fails naming the node.
MAX_INTERRUPTIONS = 3
INTERRUPTED = "interrupted: the worker running this attempt stopped before it finished"


class LeaseHeld(Exception):
    """Another worker holds the run's lease; try again in ``retry_in`` seconds (by then the
    holder has finished, or its lease expired because it died)."""

    def __init__(self, run_id: int, retry_in: float) -> None:
        super().__init__(f"run {run_id} is being executed by another worker")
        self.retry_in = retry_in


def lease_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def lease_until() -> datetime:
    seconds: int = settings.RUN_LEASE_SECONDS
    return timezone.now() + timedelta(seconds=seconds)


class _Columns:
    """A model's concrete columns in a SELECT under ``alias``, and a row's slice of them back
    into an instance, through the converters the ORM itself applies (``SQLCompiler``)."""

    def __init__(self, model: type[Model], alias: str, db: BaseDatabaseWrapper) -> None:
        quote = db.ops.quote_name
        fields: list[Field[Any, Any]] = list(model._meta.concrete_fields)
        self.model, self.width, self.db = model, len(fields), db.alias
        self.attnames = [f.attname for f in fields]
        self.sql = ", ".join(f"{alias}.{quote(str(f.column))}" for f in fields)
        self.converters: list[tuple[int, list[Any], Any]] = []
        for index, f in enumerate(fields):
            column = f.get_col(alias)
            found = db.ops.get_db_converters(column) + column.get_db_converters(db)
            if found:
                self.converters.append((index, found, column))
        self.connection = db

    def instance(self, row: Sequence[Any], start: int = 0) -> Any:
        values = list(row[start : start + self.width])
        for index, converters, column in self.converters:
            value = values[index]
            for convert in converters:
                value = convert(value, column, self.connection)
            values[index] = value
        return self.model.from_db(self.db, self.attnames, values)


class _Statements:
    """The lease and loading SQL of one database connection (its vendor's quoting and
    converters), built once."""

    def __init__(self, db: BaseDatabaseWrapper) -> None:
        quote = db.ops.quote_name

        def table(model: type[Model]) -> str:
            return quote(model._meta.db_table)

        def col(model: type[Model], name: str) -> str:
            field = model._meta.get_field(name)
            assert isinstance(field, Field)
            return quote(str(field.column))

        self.parts = [
            _Columns(Run, "r", db),
            _Columns(Case, "c", db),
            _Columns(Department, "d", db),
            _Columns(WorkflowVersion, "wv", db),
            _Columns(Workflow, "w", db),
            _Columns(TemplateVersion, "tv", db),
        ]

        def pk(model: type[Model]) -> str:
            return quote(str(model._meta.pk.column))

        self.lease = (
            f"UPDATE {table(Run)} SET {col(Run, 'lease_owner')} = %s, "  # noqa: S608
            f"{col(Run, 'lease_expires_at')} = %s, {col(Run, 'status')} = %s, "
            f"{col(Run, 'started_at')} = COALESCE({col(Run, 'started_at')}, %s) "
            f"WHERE {pk(Run)} = %s AND {col(Run, 'status')} IN (%s, %s) "
            f"AND ({col(Run, 'lease_expires_at')} IS NULL OR {col(Run, 'lease_expires_at')} <= %s)"
        )
        # select_related's joins: every one of these foreign keys is NOT NULL.
        self.run = (
            "SELECT " + ", ".join(p.sql for p in self.parts) + f" FROM {table(Run)} r "  # noqa: S608
            f"INNER JOIN {table(Case)} c ON c.{pk(Case)} = r.{col(Run, 'case')} "
            f"INNER JOIN {table(Department)} d ON d.{pk(Department)} = c.{col(Case, 'department')} "
            f"INNER JOIN {table(WorkflowVersion)} wv "
            f"ON wv.{pk(WorkflowVersion)} = r.{col(Run, 'workflow_version')} "
            f"INNER JOIN {table(Workflow)} w "
            f"ON w.{pk(Workflow)} = wv.{col(WorkflowVersion, 'workflow')} "
            f"INNER JOIN {table(TemplateVersion)} tv "
            f"ON tv.{pk(TemplateVersion)} = r.{col(Run, 'template_version')} "
            f"WHERE r.{pk(Run)} = %s"
        )
        self.node_runs = _Columns(NodeRun, "n", db)
        # run.node_runs.order_by("attempt"), as resume_state read them.
        self.checkpoints = (
            f"SELECT {self.node_runs.sql} FROM {table(NodeRun)} n "  # noqa: S608
            f"WHERE n.{col(NodeRun, 'run')} = %s ORDER BY n.{col(NodeRun, 'attempt')} ASC"
        )
        self.specimen = _Columns(Specimen, "s", db)
        # case.specimens.all(): Specimen's ordering (case, label) within one case; labels are
        # unique per case.
        self.specimens = (
            f"SELECT {self.specimen.sql} FROM {table(Specimen)} s "  # noqa: S608
            f"WHERE s.{col(Specimen, 'case')} = %s ORDER BY s.{col(Specimen, 'label')} ASC"
        )
        self.endpoint = _Columns(ModelEndpoint, "e", db)
        self.endpoints = (
            f"SELECT {self.endpoint.sql} FROM {table(ModelEndpoint)} e "  # noqa: S608
            f"WHERE e.{col(ModelEndpoint, 'department')} = %s"
        )
        self.related = [
            (Run._meta.get_field("case"), 0, 1),
            (Case._meta.get_field("department"), 1, 2),
            (Run._meta.get_field("workflow_version"), 0, 3),
            (WorkflowVersion._meta.get_field("workflow"), 3, 4),
            (Run._meta.get_field("template_version"), 0, 5),
        ]

    def load_run(self, run_id: int) -> Run | None:
        """The run with its case, department, workflow version, workflow and template version,
        as ``select_related`` loads them."""
        with connection.cursor() as cursor:
            cursor.execute(self.run, [run_id])
            row = cursor.fetchone()
        if row is None:
            return None
        objects, start = [], 0
        for part in self.parts:
            objects.append(part.instance(row, start))
            start += part.width
        for field, owner, target in self.related:
            field.set_cached_value(objects[owner], objects[target])  # type: ignore[attr-defined]
        run: Run = objects[0]
        return run

    def rows(self, sql: str, columns: _Columns, key: int) -> list[Any]:
        with connection.cursor() as cursor:
            cursor.execute(sql, [key])
            return [columns.instance(row) for row in cursor.fetchall()]


_statements: weakref.WeakKeyDictionary[BaseDatabaseWrapper, _Statements] = (
    weakref.WeakKeyDictionary()
)


def _sql() -> _Statements:
    # Per connection object (each thread has its own): the converters are bound to it.
    db = connections[connection.alias]
    statements = _statements.get(db)
    if statements is None:
        statements = _statements[db] = _Statements(db)
    return statements


@through_outage
def take_lease(run_id: int, owner: str) -> bool:
    """Take the run's lease if nobody holds a live one: one conditional UPDATE, atomic on
    SQLite and PostgreSQL alike. A run waiting for a review or finished is not taken."""
    now = timezone.now()
    ops = connection.ops
    params = [
        owner,
        ops.adapt_datetimefield_value(lease_until()),
        RunStatus.RUNNING.value,
        ops.adapt_datetimefield_value(now),
        run_id,
        RunStatus.QUEUED.value,
        RunStatus.RUNNING.value,
        ops.adapt_datetimefield_value(now),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_sql().lease, params)
        return bool(cursor.rowcount)


@dataclass
class Loaded:
    """Everything the ORM must load for an execution, loaded before the event loop runs."""

    run: Run
    case: dict[str, Any]
    services: DjangoServices
    resume: ResumeState
    # Why the run must fail without executing (a poison step), or "".
    poisoned: str = ""


def take_and_load(run_id: int, owner: str) -> Loaded | Exception | None:
    """Take the run's lease and load the run: None when the lease is not ours (nothing is
    loaded); an error while loading is returned, for the caller to fail the run with it."""
    _drop_broken_connection()
    if not take_lease(run_id, owner):
        return None
    try:
        return load(run_id)
    except Exception as exc:
        return exc


@through_outage
def load(run_id: int) -> Loaded:
    sql = _sql()
    run = sql.load_run(run_id)
    if run is None:
        raise Run.DoesNotExist(f"run {run_id} does not exist")
    if run.cancel_requested_at is not None:
        run.cancelled_by  # noqa: B018 (loaded here, in the ORM thread: the loop reads it)
    resume = resume_from(sql.rows(sql.checkpoints, sql.node_runs, run.pk))
    if resume.interrupted:
        # Attempts left running by an execution that died (we hold the lease now, so none is
        # live) become failed attempts; each node goes on at its next attempt.
        NodeRun.objects.filter(pk__in=resume.interrupted).update(
            status=NodeRunStatus.FAILED,
            final=False,
            finished_at=timezone.now(),
            error=INTERRUPTED,
        )
    poisoned = _poisoned(run, resume.interrupted)
    case = run.case
    specimens = sql.rows(sql.specimens, sql.specimen, case.pk)
    endpoints = sql.rows(sql.endpoints, sql.endpoint, case.department_id)
    return Loaded(
        run,
        case_payload(run, specimens),
        DjangoServices(run, endpoints),
        resume,
        poisoned,
    )


def _poisoned(run: Run, interrupted: list[int]) -> str:
    """The reason to fail ``run`` if a node interrupted just now has stopped its worker
    MAX_INTERRUPTIONS times; its last attempt then becomes its final, failed checkpoint."""
    if not interrupted:
        return ""
    for row in NodeRun.objects.filter(pk__in=interrupted).order_by("node_id"):
        count = NodeRun.objects.filter(run=run, node_id=row.node_id, error=INTERRUPTED).count()
        if count < MAX_INTERRUPTIONS:
            continue
        reason = (
            f"node '{row.node_id}' ({row.node_type}) stopped its worker process {count} times "
            "(the process was killed or ran out of memory each time it ran this node); it is "
            "not tried again"
        )
        NodeRun.objects.filter(pk=row.pk).update(final=True, error=f"interrupted: {reason}")
        logger.error("run %s: %s", run.pk, reason)
        return reason
    return ""


def _drop_broken_connection() -> None:
    """The checkpoint thread keeps its database connection from run to run (a reconnect per
    run costs milliseconds); drop it only if the server closed it."""
    if connection.connection is not None and not connection.is_usable():
        connection.close()


@through_outage
def not_taken(run_id: int) -> Run | None:
    """The run as it is when its lease could not be taken; LeaseHeld if a live worker has it."""
    run = Run.objects.filter(pk=run_id).first()
    if run is None or run.is_terminal or run.status in PARKED:
        return run
    expires = run.lease_expires_at or timezone.now()
    raise LeaseHeld(run_id, max(1.0, (expires - timezone.now()).total_seconds() + 1))
