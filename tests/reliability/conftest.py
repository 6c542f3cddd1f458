"""Shared set-up of the engine's reliability checks: demo data wired to a test model server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator import devstack
from orchestrator.cases.models import Case
from orchestrator.cases.services import create_case
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import DemoData
from orchestrator.designs.models import WorkflowVersion
from orchestrator.designs.services import import_workflow
from tests.conftest import case_document
from tests.faults import start_fault_worker
from tests.workflows.conftest import edge, graph, model_call, trigger

QUEUE = "pathflow-reliability-test"


@pytest.fixture(scope="package")
def worker(
    worker_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[devstack.ManagedProcess]:
    """One worker process with two pool processes for the checks that do not kill workers. The
    broker hands an unacknowledged task out again after 2 s; a dead execution's run lease lapses
    after 4 s; a delivery retry waits 3.5–4.5 s, and the sweep is too slow to matter (the dispatch
    task's own countdown brings it back)."""
    env = {
        **worker_env,
        "PATHFLOW_DELIVERY_RETRY_BASE_MS": "3500",
        "PATHFLOW_DELIVERY_RETRY_MAX_SECONDS": "4",
        "PATHFLOW_DELIVERY_SWEEP_SECONDS": "120",
    }
    process = start_fault_worker(
        tmp_path_factory.mktemp("reliability"),
        "reliability",
        env,
        queue=QUEUE,
        concurrency=2,
        visibility_timeout_s=2,
    )
    yield process
    process.stop()


def add_endpoint(demo: DemoData, slug: str, base_url: str, timeout_s: float = 30) -> None:
    ModelEndpoint.objects.create(
        department=demo.department,
        slug=slug,
        name=f"Test model {slug}",
        protocol="open_inference_v2",
        base_url=base_url,
        model_name=slug,
        timeout_s=timeout_s,
    )


def chain_workflow(
    demo: DemoData, slug: str, models: list[str], **node_extra: Any
) -> WorkflowVersion:
    """The case trigger, then a model call per name in ``models``, one after the other."""
    nodes = [trigger(), *(model_call(m, **node_extra) for m in models)]
    ids = ["case", *models]
    edges = [
        edge(a, b, **({"source_port": "case"} if a == "case" else {}))
        for a, b in itertools.pairwise(ids)
    ]
    return import_workflow(
        demo.department,
        graph(nodes, edges),
        demo.fna_workflow_version.template_version,
        slug=slug,
        case_type="breast-fna",
    )


def new_case(demo: DemoData, number: int) -> Case:
    return create_case(
        demo.department, case_document("breast-fna-malignant", accession=f"R26-{number:05d}")
    )
