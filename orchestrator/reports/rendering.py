"""Report rendering, Django side: hand a report's context to the sandboxed renderer child.

The whole render — sandboxed Jinja2 layout → HTML → WeasyPrint → PDF/A-3b — runs in a
long-lived subprocess with a time limit (``REPORT_RENDER_TIMEOUT_S``) and a memory limit
(``REPORT_RENDER_MAX_MEMORY_MB``); see ``orchestrator.reports.renderer``. This module only builds
requests: the context (plain JSON), the custom layout and CSS, figures and the department logo
as image bytes (downscaled in the child), and the report's structured data, which the child
embeds as the PDF's one attachment (``report-data.json``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from orchestrator.reports.renderer.client import RendererProcess, RenderError, shared_renderer

BASE_LAYOUT_DIR = Path(settings.REPORT_LIBRARY_DIR) / "_base"
ATTACHMENT_NAME = "report-data.json"
LOGO_WIDTH_MM = 28.0

__all__ = [
    "ATTACHMENT_NAME",
    "Figure",
    "RenderError",
    "RenderedPdf",
    "render_report_document",
    "render_report_html",
    "renderer",
]


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    sha256: str
    pages: int


@dataclass(frozen=True)
class Figure:
    """An image printed in the report (e.g. a stained tile), with its caption."""

    image: bytes
    caption: str = ""
    width_mm: float = 60.0


def renderer() -> RendererProcess:
    """This process's renderer child (started on first use) with the configured limits."""
    return shared_renderer(
        BASE_LAYOUT_DIR,
        timeout_s=settings.REPORT_RENDER_TIMEOUT_S,
        memory_mb=settings.REPORT_RENDER_MAX_MEMORY_MB,
    )


def _request(
    context: dict[str, Any],
    *,
    output: str,
    layout_html: str,
    layout_css: str,
    asset_dir: Path | None,
    figures: Sequence[Figure],
    logo: bytes | None,
    data: dict[str, Any] | None,
) -> tuple[dict[str, Any], list[bytes]]:
    blobs = [figure.image for figure in figures]
    request: dict[str, Any] = {
        "format": output,
        "context": context,
        "layout_html": layout_html,
        "layout_css": layout_css,
        "asset_dir": str(asset_dir.resolve()) if asset_dir else None,
        "figures": [
            {"blob": i, "caption": f.caption, "width_mm": f.width_mm} for i, f in enumerate(figures)
        ],
    }
    if logo:
        request["logo"] = {"blob": len(blobs), "width_mm": LOGO_WIDTH_MM}
        blobs.append(logo)
    if data is not None:
        request["attachment"] = {
            "name": ATTACHMENT_NAME,
            "description": "Structured report data (JSON): values by element id, template, "
            "language, status and provenance",
            "content": json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1, default=str),
        }
    return request, blobs


def render_report_html(
    context: dict[str, Any],
    *,
    layout_html: str = "",
    figures: Sequence[Figure] = (),
    logo: bytes | None = None,
    process: RendererProcess | None = None,
) -> str:
    """The report as HTML (the designer's live preview), from the same sandboxed child."""
    request, blobs = _request(
        context,
        output="html",
        layout_html=layout_html,
        layout_css="",
        asset_dir=None,
        figures=figures,
        logo=logo,
        data=None,
    )
    _, content = (process or renderer()).request(request, blobs)
    return content.decode()


def render_report_document(
    context: dict[str, Any],
    *,
    layout_html: str = "",
    layout_css: str = "",
    asset_dir: Path | None = None,
    figures: Sequence[Figure] = (),
    logo: bytes | None = None,
    data: dict[str, Any] | None = None,
    process: RendererProcess | None = None,
) -> RenderedPdf:
    """The report as a PDF/A-3b, with ``data`` embedded as its JSON attachment.

    Raises ``RenderError`` with a message a template designer can act on: a layout mistake,
    the time or memory limit, or a crash of the renderer (the next render starts a new one).
    """
    request, blobs = _request(
        context,
        output="pdf",
        layout_html=layout_html,
        layout_css=layout_css,
        asset_dir=asset_dir,
        figures=figures,
        logo=logo,
        data=data,
    )
    reply, content = (process or renderer()).request(request, blobs)
    return RenderedPdf(content, hashlib.sha256(content).hexdigest(), int(reply["pages"]))
