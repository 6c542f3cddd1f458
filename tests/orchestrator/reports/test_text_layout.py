"""Kept text layouts (renderer/textlayout.py) draw the very same pages as WeasyPrint's own path,
which shapes every line a second time when drawing: every page's content stream is compared,
operator for operator, for every library template in both languages and for text that takes
WeasyPrint's path (justified, ::first-line, preformatted, ellipsis, right-to-left)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from orchestrator.designs.models import TemplateVersion
from orchestrator.reports.renderer import textlayout
from orchestrator.reports.renderer.engine import Engine
from orchestrator.reports.rendering import BASE_LAYOUT_DIR
from orchestrator.reports.services import render_report_pdf
from tests.templates.test_library import (
    HEADER,
    SLUGS,
    ai_provenance,
    dataset,
    document,
    sample,
)

ODD_TEXT = """<style>
p { width: 60mm; }
.j { text-align: justify; }
.f::first-line { font-weight: 700; letter-spacing: 0.5pt; }
.e { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.s { word-spacing: 3pt; text-decoration: underline; hyphens: auto; }
</style>
<p class="j">Justified text: firm grey-white nodule with a stellate cut surface, 4 mm from the
nearest inked margin, and a second sentence long enough to wrap over three lines.</p>
<p class="f">A first line in bold with letter spacing, then the rest of the paragraph in the
regular weight, wrapping over more than one line.</p>
<pre>preformatted
text	with a tab
and newlines</pre>
<p class="e">A line far too long for its box, cut with an ellipsis at the end of the box</p>
<p class="s" lang="en">Word spacing, underlined, hyphenated: incomprehensibilities
characteristically overrepresented.</p>
<p dir="rtl" lang="ar">نص عربي من اليمين إلى اليسار</p>
<p>浸润性导管癌，组织学分级 2 级 soft&shy;hyphen break&shy;able</p>
"""


class InProcess:
    """A renderer "process" that renders in this process with one engine."""

    def __init__(self) -> None:
        self.engine = Engine(Path(BASE_LAYOUT_DIR))

    def request(self, header: dict[str, Any], blobs: list[bytes]) -> tuple[dict[str, Any], bytes]:
        return self.engine.render(header, blobs)


@pytest.fixture(scope="module")
def process() -> InProcess:
    return InProcess()


@pytest.fixture
def weasyprints_own_path() -> Iterator[None]:
    textlayout.uninstall()
    try:
        yield
    finally:
        textlayout.install()


def pages(content: bytes) -> list[bytes]:
    streams = []
    for page in PdfReader(io.BytesIO(content)).pages:
        contents = page.get_contents()
        assert contents is not None
        streams.append(contents.get_data())
    return streams


def both_ways(render: Any) -> tuple[list[bytes], list[bytes]]:
    kept = pages(render())
    textlayout.uninstall()
    try:
        own = pages(render())
    finally:
        textlayout.install()
    return kept, own


def test_the_engine_keeps_text_layouts(process: InProcess) -> None:
    assert textlayout._original, "Engine() installs the patch"


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("slug", SLUGS)
def test_library_reports_are_drawn_the_same(
    process: InProcess, slug: str, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The report prints when it was generated (to the minute): the same minute both times.
    when = datetime(2026, 12, 7, 2, 30, tzinfo=UTC)
    monkeypatch.setattr("orchestrator.reports.services.timezone.localtime", lambda: when)
    values = sample(slug)
    version = TemplateVersion(dataset=document(slug))

    def render() -> bytes:
        pdf = render_report_pdf(
            version,
            dataset(slug),
            HEADER,
            values,
            ai_provenance(slug, values),
            language,
            process=process,  # type: ignore[arg-type]
        )
        return pdf.content

    kept, own = both_ways(render)
    assert len(kept) >= 1
    assert kept == own


def test_text_that_takes_weasyprints_path_is_drawn_the_same(process: InProcess) -> None:
    def render() -> bytes:
        content, _ = process.engine.render_pdf(
            ODD_TEXT, layout_css="", asset_dir=None, attachment=None
        )
        return content

    kept, own = both_ways(render)
    assert kept == own
    assert b" Tf" in kept[0]  # text was drawn


def test_uninstall_restores_weasyprint(weasyprints_own_path: None) -> None:
    from weasyprint.text.line_break import Layout

    assert Layout.reactivate is not textlayout._reactivate
