"""Shared pieces of the rendering tests: the breast template, a header, canary servers and a
renderer child with short limits."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from pypdf import PdfReader

from orchestrator.reports.renderer.client import RendererProcess
from orchestrator.reports.rendering import BASE_LAYOUT_DIR
from tests.loopback import LoopbackServer, Request

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


@pytest.fixture
def canary() -> Iterator[Canary]:
    hits: list[str] = []

    def stylesheet(request: Request) -> None:
        hits.append(request.path)
        request.reply(200, b"body { color: red }", content_type="text/css")

    with LoopbackServer(get=stylesheet) as server:
        yield Canary(server.url, hits)


@pytest.fixture
def redirector(canary: Canary) -> Iterator[Canary]:
    """A server that redirects every request to the canary (and counts them too)."""
    hits: list[str] = []

    def redirect(request: Request) -> None:
        hits.append(request.path)
        location = f"{canary.url}/redirected{request.path}"
        request.reply(302, b"", ("Location", location), content_type=None)

    with LoopbackServer(get=redirect) as server:
        yield Canary(server.url, hits)


@pytest.fixture(scope="module")
def limited_renderer() -> Iterator[RendererProcess]:
    """A renderer child of its own with a 3 s time limit, started before the test's clock."""
    process = RendererProcess(BASE_LAYOUT_DIR, timeout_s=3.0, memory_mb=1200)
    try:
        yield process
    finally:
        process.close()
