"""Shared set-up of the engine's reliability checks: demo data wired to a test model server."""

from __future__ import annotations

import itertools
from typing import Any

from orchestrator.cases.models import Case
from orchestrator.cases.services import create_case
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import DemoData
from orchestrator.designs.models import WorkflowVersion
from orchestrator.designs.services import import_workflow
from tests.conftest import case_document
from tests.workflows.conftest import edge, graph, model_call, trigger


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
