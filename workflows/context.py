"""What the engine needs from its host, as protocols: Django implements them, tests may too."""

from __future__ import annotations

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


@dataclass(frozen=True)
class RenderedReport:
    report_id: int
    sha256: str
    pages: int


class Services(Protocol):
    """Host services a run may use. Each raises a NodeError subclass with a clear message."""

    def resolve_endpoint(self, slug: str) -> Endpoint: ...

    async def load_tile(self, reference: dict[str, Any]) -> bytes:
        """PNG bytes of a slide tile the case references."""
        ...

    async def render_report(
        self, findings: dict[str, Any], provenance: dict[str, Any], language: str
    ) -> RenderedReport: ...


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

    def variables(self) -> dict[str, Any]:
        return {"case": self.case, "nodes": self.node_outputs}
