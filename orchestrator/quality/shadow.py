"""Executing a workflow version over past cases in *shadow mode*: the real engine, the real model
endpoints and catalog, but nothing a clinician or the department's queues could see.

- ``render_report`` checks the findings against the template exactly as a draft would be checked
  (inapplicable model values dropped, invalid values failing the node) and keeps the values for
  the comparison; no PDF is rendered and no ``Report`` row is created.
- ``deliver`` nodes check their destination and record ``not sent``; no outbox row is written.
- ``review`` nodes do not park the run: they pass on what was proposed to them, as if approved
  unchanged (the shadow answer is the workflow's own, which the signed values are judged against).
- No ``Run`` or ``NodeRun`` rows: a shadow execution is not a run of the case. Its only record is
  the ``ShadowCase`` row the comparison fills.

A batch of cases runs concurrently in the worker's one event loop (``ENGINE_LOOP``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from django.conf import settings

from orchestrator.catalog.models import ModelEndpoint
from orchestrator.designs.models import WorkflowVersion
from orchestrator.runs.bridge import DjangoServices, case_payload
from orchestrator.runs.models import Run
from orchestrator.runs.services import ENGINE_LOOP
from workflows.context import DeliveryRequest, RenderedReport, ReportFigure, RunContext
from workflows.datasets import Dataset, drop_inapplicable_model_values, findings_problems
from workflows.errors import NodeError
from workflows.executor import NodeResult, RunControl, execute_graph
from workflows.nodes.review import DEFAULT_DECISIONS, Review, decision_outputs
from workflows.registry import REGISTRY, NodeRegistry, NodeType
from workflows.spec import GraphSpec

NOT_DELIVERED = "a shadow run is never delivered"
SHADOW_REVIEWER = {"id": None, "username": "shadow", "name": "shadow run"}


class ShadowReview(Review):
    """A review node that approves what it was proposed, without a person (never registered)."""

    async def run(
        self, context: RunContext, inputs: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        decisions = list(config.get("decisions") or DEFAULT_DECISIONS)
        choice = "approve" if "approve" in decisions else decisions[0]
        proposed = review_proposal(config, inputs)
        return decision_outputs(
            {"decision": choice, "values": proposed}, SHADOW_REVIEWER, datetime.now(UTC).isoformat()
        )


def review_proposal(config: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    from workflows.nodes.review import review_request

    proposed: dict[str, Any] = review_request(config, inputs)["proposed"]
    return proposed


class ShadowRegistry(NodeRegistry):
    """The node registry with review nodes that do not wait for a person."""

    def get(self, name: str, version: int) -> NodeType | None:
        if name == Review.name and version == Review.version:
            return ShadowReview()
        return REGISTRY.get(name, version)


SHADOW_REGISTRY = ShadowRegistry()


class NoCheckpoints:
    """A shadow execution is not resumed: its node results are not stored."""

    async def node_started(
        self, node_id: str, node_type: str, attempt: int, inputs: dict[str, Any]
    ) -> None:
        return None

    async def node_finished(self, result: NodeResult) -> None:
        return None


class ShadowServices(DjangoServices):
    """The run's host services in shadow mode (see the module docstring)."""

    def __init__(self, run: Run, endpoints: dict[str, ModelEndpoint], dataset: Dataset) -> None:
        # The catalog is loaded once per batch, not once per case.
        self.run = run
        self.endpoints = endpoints
        self.pending_deliveries = {}
        self.dataset = dataset
        self.values: dict[str, Any] | None = None

    async def render_report(
        self,
        findings: dict[str, Any],
        provenance: dict[str, Any],
        language: str,
        figures: Sequence[ReportFigure] = (),
    ) -> RenderedReport:
        values, _, dropped = drop_inapplicable_model_values(self.dataset, findings, provenance)
        problems = findings_problems(self.dataset, values, complete=False)
        if problems:
            raise NodeError(
                "the findings do not fit the template: " + "; ".join(map(str, problems)),
                permanent=True,
            )
        # Several render nodes (e.g. one per language) render the same values.
        self.values = {**(self.values or {}), **values}
        return RenderedReport(
            report_id=0, sha256="", pages=0, dropped=tuple(d.as_dict() for d in dropped)
        )

    async def queue_delivery(self, request: DeliveryRequest) -> dict[str, Any]:
        return {"status": "not sent", "reason": NOT_DELIVERED}

    def delivery_withheld(self) -> str | None:
        return NOT_DELIVERED


@dataclass(frozen=True)
class ShadowInput:
    """One case to execute: a key for the caller, the case (with its specimens loaded)."""

    key: int
    run: Run


@dataclass(frozen=True)
class ShadowAnswer:
    key: int
    values: dict[str, Any] | None
    error: str
    duration_ms: int


def shadow_run_for(case: Any, version: WorkflowVersion) -> Run:
    """The unsaved run the engine's services read the case, department and versions from."""
    return Run(
        case=case,
        workflow_version=version,
        template_version=version.template_version,
        is_test=True,
    )


def execute_shadow_batch(
    version: WorkflowVersion,
    spec: GraphSpec,
    dataset: Dataset,
    inputs: Sequence[ShadowInput],
) -> list[ShadowAnswer]:
    """Execute ``spec`` for every input concurrently and return what each would have reported
    (``values`` None when no render node ran, with the reason in ``error``)."""
    department = version.workflow.department_id
    endpoints = {e.slug: e for e in ModelEndpoint.objects.filter(department=department)}
    payloads = [(item, case_payload(item.run)) for item in inputs]

    async def all_cases(http: httpx.AsyncClient) -> list[ShadowAnswer]:
        return list(
            await asyncio.gather(
                *(
                    _one(
                        version,
                        spec,
                        item,
                        payload,
                        ShadowServices(item.run, endpoints, dataset),
                        http,
                    )
                    for item, payload in payloads
                )
            )
        )

    return ENGINE_LOOP.run(all_cases)


async def _one(
    version: WorkflowVersion,
    spec: GraphSpec,
    item: ShadowInput,
    payload: dict[str, Any],
    services: ShadowServices,
    http: httpx.AsyncClient,
) -> ShadowAnswer:
    started = time.monotonic()
    context = RunContext(
        run_id=f"shadow-{item.key}",
        case=payload,
        services=services,
        http=http,
        workflow_path=(version.workflow.slug,),
    )
    control = RunControl(max_steps=settings.RUN_MAX_STEPS, max_seconds=settings.RUN_MAX_SECONDS)
    try:
        outcome = await execute_graph(
            spec,
            context,
            NoCheckpoints(),
            registry=SHADOW_REGISTRY,
            concurrency=settings.RUN_CONCURRENCY,
            control=control,
        )
        error = "" if outcome.status == "succeeded" else outcome.error or outcome.status
    except Exception as exc:  # one case's internal error must not lose the batch's answers
        error = f"internal error: {type(exc).__name__}: {exc}"
    if not error and services.values is None:
        error = "no render node ran for this case, so it has no report values"
    elapsed = int((time.monotonic() - started) * 1000)
    return ShadowAnswer(item.key, None if error else services.values, error, elapsed)
