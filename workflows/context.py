"""What the engine needs from its host, as protocols: Django implements them, tests may too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx


@dataclass(frozen=True)
class Endpoint:
    """A catalog entry resolved for one call. URLs come only from the admin-managed catalog."""

    slug: str
    protocol: str
    base_url: str
    model_name: str
    timeout_s: float
    headers: dict[str, str] = field(default_factory=dict)
    max_response_bytes: int = 16 * 1024 * 1024


# What the catalog says its model endpoints' outputs measure: endpoint slug → output name (as
# read by ``nodes.<id>.result.<name>``) → any of marker, stain, unit. Validation compares it with
# what the report element an output fills declares it measures.
EndpointOutputs = Mapping[str, Mapping[str, Mapping[str, str]]]


@dataclass(frozen=True)
class ReportFigure:
    """A slide tile the case references, printed in the report with its caption."""

    reference: dict[str, Any]
    caption: str = ""


@dataclass(frozen=True)
class RenderedReport:
    report_id: int
    sha256: str
    pages: int
    # Model values left out because their element does not apply: element_id, value, reason.
    dropped: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class DeliveryRequest:
    """What a deliver node asks the host to queue: ``report_id`` (a report this run rendered;
    the host delivers its latest version), the channel and catalog destination, and for a
    webhook the event name, extra ``data`` and whether to attach the PDF."""

    node_id: str
    channel: str
    destination: str
    report_id: int
    idempotency_key: str
    event: str
    include_pdf: bool = False
    data: dict[str, Any] = field(default_factory=dict)


class Services(Protocol):
    """Host services a run may use. Each raises a NodeError subclass with a clear message."""

    def resolve_endpoint(self, slug: str) -> Endpoint: ...

    async def load_tile(self, reference: dict[str, Any]) -> bytes:
        """PNG bytes of a slide tile the case references."""
        ...

    async def render_report(
        self,
        findings: dict[str, Any],
        provenance: dict[str, Any],
        language: str,
        figures: Sequence[ReportFigure] = (),
    ) -> RenderedReport: ...

    async def load_workflow(self, slug: str, version: int | None) -> dict[str, Any]:
        """The graph spec of a published version of workflow ``slug`` (the latest when
        ``version`` is None) in the run's department, for a sub-workflow node."""
        ...

    def resolve_destination(self, slug: str) -> Endpoint:
        """A delivery destination from the catalog; its ``protocol`` is its channel's name
        (``webhook``, ``hl7_mllp``, ``fhir_rest``) and its headers carry no secret."""
        ...

    async def queue_delivery(self, request: DeliveryRequest) -> dict[str, Any]:
        """Queue a delivery in the host's outbox — written together with the node's
        checkpoint, sent later by the host's dispatcher — and return the receipt to record
        (``status``, the report version it carries). Raises NodeError naming what is wrong."""
        ...

    def delivery_withheld(self) -> str | None:
        """Why this run must not send anything out (e.g. a test run of a draft), or None when
        it may: a deliver node then checks everything but queues nothing."""
        ...


@dataclass(frozen=True)
class ChildOutcome:
    """How a child graph (a sub-workflow) ended: ``status`` is succeeded, failed, cancelled or
    waiting_review; ``outputs`` are the outputs of its finished nodes by (child) node id."""

    status: str
    error: str
    outputs: dict[str, dict[str, Any]]
    waiting: tuple[str, ...] = ()


class ChildGraphs(Protocol):
    """Runs a child graph inside the current run, sharing its limits, concurrency and
    checkpoints (child node ids are recorded as ``<parent node>/<child node>``)."""

    async def run_child(
        self, document: dict[str, Any], node_id: str, path: tuple[str, ...]
    ) -> ChildOutcome: ...


@dataclass
class RunContext:
    """Everything one run's nodes may see: the case, services, the shared HTTP client."""

    run_id: str
    case: dict[str, Any]
    services: Services
    http: httpx.AsyncClient
    # The node being run (set by the executor on a per-node copy).
    node_id: str = ""
    # Outputs of finished nodes, by node id; expressions read them as ``nodes.<id>.<port>``.
    node_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Slugs of the workflows being run, outermost first (sub-workflows detect recursion by it).
    workflow_path: tuple[str, ...] = ()
    # Set by the executor: how a sub-workflow node runs its child graph.
    children: ChildGraphs | None = None

    def variables(self) -> dict[str, Any]:
        return {"case": self.case, "nodes": self.node_outputs}
