"""Shared pieces of the rendering tests: the breast template, a header, canary servers and a
renderer child with short limits."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from pypdf import PdfReader

from orchestrator.devstack import free_port
from orchestrator.reports.renderer.client import RendererProcess
from orchestrator.reports.rendering import BASE_LAYOUT_DIR

LIBRARY = Path(settings.REPORT_LIBRARY_DIR) / "breast-carcinoma"
DATASET: dict[str, Any] = json.loads((LIBRARY / "dataset.json").read_text())
SAMPLE: dict[str, Any] = json.loads((LIBRARY / "sample_findings.json").read_text())
MODEL_SOURCE = [
    {
        "kind": "model",
        "endpoint": "ihc-dab",
        "model_name": "ihc-dab",
        "model_version": "1",
        "run": "42",
    }
]


def text_of(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def read_pdf(content: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(content))


@dataclass
class Canary:
    """A live HTTP server on 127.0.0.1 that counts every request it gets."""

    url: str
    hits: list[str] = field(default_factory=list)


def _start(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def canary() -> Iterator[Canary]:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = _start(Handler)
    try:
        yield Canary(f"http://127.0.0.1:{server.server_address[1]}", hits)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def redirector(canary: Canary) -> Iterator[Canary]:
    """A server that redirects every request to the canary (and counts them too)."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(302)
            self.send_header("Location", f"{canary.url}/redirected{self.path}")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = _start(Handler)
    try:
        yield Canary(f"http://127.0.0.1:{server.server_address[1]}", hits)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def limited_renderer() -> Iterator[RendererProcess]:
    """A renderer child of its own with a 3 s time limit, started before the test's clock."""
    process = RendererProcess(BASE_LAYOUT_DIR, timeout_s=3.0, memory_mb=1200)
    try:
        yield process
    finally:
        process.close()
