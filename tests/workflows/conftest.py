"""Fixtures for the engine tests: a real model server on 127.0.0.1, the host services the
engine asks for (a small fake of the ``Services`` boundary), and a checkpoint recorder.

None of these touch Django's database: the engine is pure Python.
"""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import threading
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.loopback import LoopbackServer, Request
from workflows.context import (
    DeliveryRequest,
    Endpoint,
    RenderedReport,
    ReportFigure,
    RunContext,
)
from workflows.errors import NodeError
from workflows.executor import NodeResult, RunOutcome, execute_graph
from workflows.http import new_client
from workflows.registry import REGISTRY, NodeType
from workflows.spec import GraphSpec
from workflows.validation import validate_graph

ROOT = Path(__file__).resolve().parents[2]
OIP = "open_inference_v2"
RUN_ID = "run-1"


# --- the model server ---------------------------------------------------------------------------


def oip_answer(outputs: dict[str, tuple[list[int], list[Any]]], **extra: Any) -> dict[str, Any]:
    """An Open Inference v2 response body: ``{name: (shape, data)}``."""
    return {
        "model_name": extra.pop("model_name", "model"),
        "model_version": extra.pop("model_version", "1"),
        "outputs": [
            {"name": name, "datatype": "FP64", "shape": shape, "data": data}
            for name, (shape, data) in outputs.items()
        ],
        **extra,
    }


DEFAULT_ANSWER = oip_answer({"p": ([1], [0.5])})


@dataclass(frozen=True)
class Reply:
    """One scripted answer. ``body`` may be a JSON-able value or raw bytes."""

    status: int = 200
    body: Any = field(default_factory=lambda: DEFAULT_ANSWER)
    delay_s: float = 0.0
    hang: bool = False
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Call:
    """One request as the server saw it; times are ``time.monotonic()`` in the server.
    ``finished`` is set when the answer is ready, before a byte of it is sent."""

    model: str
    headers: dict[str, str]
    body: Any
    started: float
    finished: float = 0.0


class ModelServer(LoopbackServer):
    """A real HTTP server playing Open Inference v2 model endpoints, one per model name, each
    answering from a script (the last reply repeats). It records every call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self._scripts: dict[str, deque[Reply]] = {}
        self._lock = threading.Lock()

    def script(self, model: str, *replies: Reply) -> None:
        with self._lock:
            self._scripts[model] = deque(replies)

    def calls_to(self, model: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.model == model]

    def _next_reply(self, model: str) -> Reply:
        with self._lock:
            script = self._scripts.get(model)
            if not script:
                return Reply()
            return script.popleft() if len(script) > 1 else script[0]

    def _record(self, call: Call) -> Call:
        with self._lock:
            self.calls.append(call)
        return call

    def post(self, request: Request) -> None:
        started = time.monotonic()
        raw = request.body()
        parts = request.path.strip("/").split("/")
        model = parts[2] if len(parts) == 4 and parts[:2] == ["v2", "models"] else ""
        call = self._record(Call(model, request.header_map(), json.loads(raw or b"null"), started))
        reply = self._next_reply(model)
        if reply.hang:
            request.hang(10)
        elif reply.delay_s:
            time.sleep(reply.delay_s)
        call.finished = time.monotonic()
        request.reply(reply.status, reply.body, *reply.headers)


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


@pytest.fixture
def refused_url() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- host services --------------------------------------------------------------------------


def tiny_png() -> bytes:
    """A real 1×1 PNG, the kind of bytes a tile loader returns."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x80\x40\x20")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


class FakeServices:
    """The host boundary: every slug resolves to the local model server (model name = slug)
    unless a test registers its own Endpoint; tiles and rendering are recorded."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.endpoints: dict[str, Endpoint] = {}
        self.tiles: list[dict[str, Any]] = []
        self.rendered: list[tuple[dict[str, Any], dict[str, Any], str]] = []
        self.figures: list[ReportFigure] = []
        # Deliveries deliver nodes queued (the host's outbox), and why a run may not send.
        self.queued: list[DeliveryRequest] = []
        self.withheld: str | None = None

    def add(self, slug: str, **changes: Any) -> Endpoint:
        values: dict[str, Any] = {
            "slug": slug,
            "protocol": OIP,
            "base_url": self.base_url,
            "model_name": slug,
            "timeout_s": 5.0,
            **changes,
        }
        endpoint = Endpoint(**values)
        self.endpoints[slug] = endpoint
        return endpoint

    def resolve_endpoint(self, slug: str) -> Endpoint:
        if slug.startswith("missing"):
            raise NodeError(f"endpoint '{slug}' is not in the catalog", permanent=True)
        return self.endpoints.get(slug) or self.add(slug)

    async def load_tile(self, reference: dict[str, Any]) -> bytes:
        self.tiles.append(reference)
        return tiny_png()

    async def render_report(
        self,
        findings: dict[str, Any],
        provenance: dict[str, Any],
        language: str,
        figures: Sequence[ReportFigure] = (),
    ) -> RenderedReport:
        self.rendered.append((findings, provenance, language))
        self.figures.extend(figures)
        digest = hashlib.sha256(json.dumps(findings, sort_keys=True).encode()).hexdigest()
        return RenderedReport(report_id=len(self.rendered), sha256=digest, pages=1)

    def resolve_destination(self, slug: str) -> Endpoint:
        if slug not in self.endpoints:
            raise NodeError(f"destination '{slug}' is not in the catalog", permanent=True)
        return self.endpoints[slug]

    async def queue_delivery(self, request: DeliveryRequest) -> dict[str, Any]:
        self.queued.append(request)
        return {"status": "queued", "report_id": request.report_id}

    async def load_workflow(self, slug: str, version: int | None) -> dict[str, Any]:
        # Tests of sub-workflows override this with the graphs they publish.
        raise NodeError(f"workflow '{slug}' is not published in this test", permanent=True)

    def delivery_withheld(self) -> str | None:
        return self.withheld


@pytest.fixture
def services(model_server: ModelServer) -> FakeServices:
    return FakeServices(model_server.url)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """The engine's own outbound client (no redirects, no proxies from the environment)."""
    async with new_client() as client:
        yield client


def demo_case(name: str = "breast-malignant") -> dict[str, Any]:
    """A case for the engine's own tests: FNA features and a Ki-67 tile on one specimen, as the
    foundation graph (tests/data/breast-fna-ihc-foundation.json) reads them. The shipped demo
    keeps the FNA and the resection as separate cases (demo/cases/)."""
    case: dict[str, Any] = json.loads(
        (ROOT / "tests" / "data" / "engine-cases" / f"{name}.json").read_text()
    )
    return case


@pytest.fixture
def case() -> dict[str, Any]:
    return demo_case()


@pytest.fixture
def context(case: dict[str, Any], services: FakeServices, http: httpx.AsyncClient) -> RunContext:
    return RunContext(run_id=RUN_ID, case=case, services=services, http=http)


# --- checkpoints ------------------------------------------------------------------------------


class RecordingCheckpoints:
    """Keeps every checkpoint the executor writes, in order."""

    def __init__(self) -> None:
        self.started: list[tuple[str, int]] = []
        self.finished: list[NodeResult] = []

    async def node_started(
        self, node_id: str, node_type: str, attempt: int, inputs: dict[str, Any]
    ) -> None:
        self.started.append((node_id, attempt))

    async def node_finished(self, result: NodeResult) -> None:
        self.finished.append(result)

    def attempts(self, node_id: str) -> list[int]:
        return [attempt for node, attempt in self.started if node == node_id]

    def finished_for(self, node_id: str) -> list[NodeResult]:
        return [r for r in self.finished if r.node_id == node_id]


@pytest.fixture
def checkpoints() -> RecordingCheckpoints:
    return RecordingCheckpoints()


def node_type(name: str) -> NodeType:
    """A built-in node type, version 1."""
    found = REGISTRY.get(name, 1)
    assert found is not None
    return found


async def run(spec: GraphSpec, context: RunContext) -> RunOutcome:
    """The whole graph, checkpoints kept but not looked at."""
    return await execute_graph(spec, context, RecordingCheckpoints())


# --- graph documents --------------------------------------------------------------------------


def trigger(node_id: str = "case", **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "case_trigger", "config": {}, **extra}


def model_call(
    node_id: str, endpoint: str = "", value: str = "[1, 2]", **extra: Any
) -> dict[str, Any]:
    config = {
        "endpoint": endpoint or node_id,
        "protocol": OIP,
        "inputs": [{"name": "x", "datatype": "FP64", "value": value}],
    }
    return {"id": node_id, "type": "model_call", "config": config, **extra}


def condition(node_id: str, expression: str, **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "condition", "config": {"expression": expression}, **extra}


def transform(node_id: str, mapping: dict[str, str], **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "transform", "config": {"mapping": mapping, **config}}


def render(node_id: str = "report", language: str = "zh") -> dict[str, Any]:
    return {"id": node_id, "type": "render_report", "config": {"language": language}}


def edge(
    source: str, target: str, source_port: str = "result", target_port: str = "in"
) -> dict[str, Any]:
    return {
        "id": f"{source}.{source_port}->{target}.{target_port}",
        "source": source,
        "source_port": source_port,
        "target": target,
        "target_port": target_port,
    }


def graph(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schema_version": 1, "name": "test", "nodes": nodes, "edges": edges}


def valid_spec(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> GraphSpec:
    """The graph validated as the API would before running it."""
    return validate_graph(graph(nodes, edges))


def demo_graph() -> dict[str, Any]:
    """The foundation's demo graph (trigger → model call → condition → model call → transform
    → render): a compact graph of the basic node types that most engine tests start from. The
    shipped demo (demo/workflows/) re-expresses it with switch, map and join."""
    document: dict[str, Any] = json.loads(
        (ROOT / "tests" / "data" / "breast-fna-ihc-foundation.json").read_text()
    )
    return document


def shipped_demo_graph(slug: str = "breast-resection-ki67") -> dict[str, Any]:
    """The graph of a shipped demo workflow file (an export file: the graph is one part)."""
    document: dict[str, Any] = json.loads(
        (ROOT / "demo" / "workflows" / f"{slug}.json").read_text()
    )
    graph: dict[str, Any] = document["graph"]
    return graph
