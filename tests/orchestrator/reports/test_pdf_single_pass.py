"""The renderer's single-pass PDF write (renderer/pdfwrite.py) writes the very same bytes as
pydyf's own two-pass write, PDF/A identifier included."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pydyf  # type: ignore[import-untyped]
import pytest
import weasyprint

from orchestrator.reports.renderer import pdfwrite
from orchestrator.reports.renderer.engine import PDF_VARIANT, Engine
from orchestrator.reports.rendering import BASE_LAYOUT_DIR

WHEN = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)
ROWS = "".join(
    f"<tr><td>A{i}</td><td>Left breast, lymph node {i}</td><td>浸润性导管癌 {i}</td></tr>"
    for i in range(400)
)
HTML = f"<h1>病理报告 Pathology report</h1><table>{ROWS}</table>"


def write(document: weasyprint.Document) -> bytes:
    attachment = weasyprint.Attachment(
        string='{"a": 1}', name="report.json", relationship="Data", created=WHEN, modified=WHEN
    )
    content: bytes = document.write_pdf(pdf_variant=PDF_VARIANT, attachments=[attachment])
    return content


@pytest.fixture
def document() -> weasyprint.Document:
    engine = Engine(Path(BASE_LAYOUT_DIR))  # installs the patch
    return weasyprint.HTML(string=HTML).render(font_config=engine.font_config)


def test_the_single_pass_write_gives_the_same_bytes_as_pydyfs_own(
    document: weasyprint.Document, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert pydyf.PDF.write is pdfwrite._write
    single = write(document)
    monkeypatch.setattr(pydyf.Stream, "data", pdfwrite._stream_data)
    monkeypatch.setattr(pydyf.PDF, "write", pdfwrite._original_write)
    two_pass = write(document)

    assert len(document.pages) > 3
    assert b"/ID [" in single
    assert single == two_pass


def test_streams_are_remembered_only_during_a_write(document: weasyprint.Document) -> None:
    write(document)
    stream = pydyf.Stream([b"BT ET"])
    before = stream.data
    stream.stream.append(b"q Q")  # a stream still being filled is serialised anew
    assert stream.data != before
