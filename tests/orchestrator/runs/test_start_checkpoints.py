"""Start checkpoints: written (and committed) for nodes that act on the world, skipped for node
types without side effects, whose row is written with their end."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from orchestrator.cases.services import create_case
from orchestrator.demo_data import DemoData
from orchestrator.runs.bridge import DjangoCheckpoints, _side_effect_free
from orchestrator.runs.models import NodeRun
from orchestrator.runs.services import close_run_connections, execute_run, start_run
from tests.conftest import case_document
from workflows.executor import NodeResult
from workflows.registry import REGISTRY

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]

PURE = {"case_trigger", "condition", "switch", "transform", "join"}


def test_only_the_node_types_that_compute_alone_are_side_effect_free() -> None:
    names = {name for name, _ in REGISTRY._types}
    assert {n for n in names if _side_effect_free(n)} == PURE


def test_a_side_effect_free_node_has_no_start_row_and_a_model_call_has_one(
    demo: DemoData,
) -> None:
    run = start_run(
        create_case(demo.department, case_document("breast-resection")),
        demo.workflow_version,
        enqueue=False,
    )
    checkpoints = DjangoCheckpoints(run)
    now = datetime.now(UTC)

    async def steps() -> None:
        await checkpoints.node_started("triage", "switch", 1, {"in": {}})
        await checkpoints.node_started("ihc", "map", 1, {"in": {}})
        await checkpoints.node_finished(
            NodeResult("triage", "switch", "succeeded", 1, {}, {"yes": True}, "", now, now)
        )

    asyncio.run(steps())
    close_run_connections()
    rows = {r.node_id: r.status for r in NodeRun.objects.filter(run=run)}
    assert rows == {"ihc": "running", "triage": "succeeded"}


def test_a_demo_run_still_records_every_node_once(demo: DemoData) -> None:
    run = start_run(
        create_case(demo.department, case_document("breast-resection")),
        demo.workflow_version,
        enqueue=False,
    )
    finished = execute_run(run.pk)
    close_run_connections()
    assert finished is not None
    assert finished.status == "waiting_review", finished.error  # the draft waits for sign-out
    done = NodeRun.objects.filter(run=run).exclude(node_type="review")
    rows = list(done.values_list("node_id", "attempt", "status"))
    assert sorted(rows) == sorted({(n, 1, "succeeded") for n, _, _ in rows})
    assert {n for n, _, _ in rows} >= {"case", "triage", "ihc", "ki67", "fields", "merge", "report"}
