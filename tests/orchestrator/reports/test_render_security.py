"""A report layout cannot attack the server: sandbox escapes execute nothing, runaway layouts
are stopped at the limits (and the next render works), and nothing outside the template's own
assets and ``data:`` URLs is fetched or embedded. Everything runs through the renderer child."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from jinja2.exceptions import SecurityError

from orchestrator.designs.models import TemplateVersion
from orchestrator.reports.renderer.client import RendererProcess
from orchestrator.reports.renderer.engine import Engine
from orchestrator.reports.rendering import (
    BASE_LAYOUT_DIR,
    RenderedPdf,
    RenderError,
    render_report_document,
    render_report_html,
)
from orchestrator.reports.services import ReportHeader, render_report_pdf
from tests.orchestrator.reports.conftest import DATASET, SAMPLE, Canary, read_pdf, text_of
from workflows.datasets import parse_dataset

HEADER = ReportHeader(
    "Test Hospital", "Pathology", "S26-1", "Patient", "MRN-1", "F", "", "", "", []
)
CONTEXT: dict[str, Any] = {"report": {"title": "Report"}, "sections": [], "case": {}}


def render_layout(
    process: RendererProcess, layout: str, css: str = "", asset_dir: Path | None = None
) -> RenderedPdf:
    return render_report_document(
        CONTEXT, layout_html=layout, layout_css=css, asset_dir=asset_dir, process=process
    )


def assert_renders_normally(process: RendererProcess) -> None:
    version = TemplateVersion(dataset=DATASET)
    pdf = render_report_pdf(
        version, parse_dataset(DATASET), HEADER, SAMPLE, {}, "en", process=process
    )
    assert "Invasive carcinoma of no special type" in text_of(read_pdf(pdf.content))


# --- Jinja2 sandbox ---------------------------------------------------------------------------


def escape_payloads(canary: Path) -> list[str]:
    command = f"touch {canary}"
    return [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ [].__class__.__base__.__subclasses__() }}",
        "{{ '{0.__class__.__init__.__globals__}'.format(report) }}",
        "{{ '{x.__class__}'.format_map({'x': report}) }}",
        "{{ ('{0.__init__.__globals__[os].system}' | attr('format'))(cycler) }}",
        "{{ (cycler | attr('__init__')) }}",
        f"{{{{ cycler.__init__.__globals__.os.system('{command}') }}}}",
        f"{{{{ joiner.__init__.__globals__.os.popen('{command}').read() }}}}",
        f"{{{{ lipsum.__globals__['os'].system('{command}') }}}}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ self._TemplateReference__context }}",
        "{{ self.__init__.__globals__ }}",
        "{{ report.__class__ }}",
        "{% set f = '{0.__init__.__globals__[os]}'.format %}{{ f(cycler) }}",
    ]


def test_sandbox_escape_payloads_are_refused_and_execute_nothing(
    limited_renderer: RendererProcess, tmp_path: Path
) -> None:
    canary = tmp_path / "canary"
    for payload in escape_payloads(canary):
        with pytest.raises(RenderError, match="not allowed"):
            render_report_html(CONTEXT, layout_html=payload, process=limited_renderer)
    assert not canary.exists()


def test_a_format_reference_handed_to_a_filter_prints_as_a_name_and_runs_nothing(
    limited_renderer: RendererProcess,
) -> None:
    html = render_report_html(
        CONTEXT,
        layout_html="{% set f = '{0.__init__.__globals__[os]}'.format %}{{ f | css_string }}"
        "|{{ report.title.format_map | css_string }}",
        process=limited_renderer,
    )
    assert "function str.format" in html
    assert "module" not in html


def test_a_custom_filter_that_calls_a_format_reference_still_formats_in_the_sandbox() -> None:
    # CVE-2024-56326: a filter calling str.format outside the sandbox. Checked on the engine's
    # environment directly, with a filter that calls whatever it is given.
    environment = Engine(BASE_LAYOUT_DIR).environment("")
    environment.filters["call"] = lambda function, *args: function(*args)
    template = environment.from_string("{{ '{0.__init__.__globals__}'.format | call(cycler) }}")
    with pytest.raises(SecurityError):
        template.render()


# --- runaway layouts --------------------------------------------------------------------------

RUNAWAY = [
    ("{{ range(10**9) | list }}", "Range too big"),
    ("{{ 'x' * 10**9 }}", "not allowed"),
    ("{{ '%999999999s' | format('x') }}", "longer than 3 s|ran out of memory|stopped"),
    ("{{ 'x'.center(10**9) }}", "longer than 3 s|ran out of memory|stopped"),
    (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "longer than 3 s",
    ),
    (
        "{% for i in range(10000) %}{% for j in range(10000) %}<p>{{ j }}</p>"
        "{% endfor %}{% endfor %}",
        "more than 8,000,000 characters|longer than 3 s",
    ),
    ("{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(1) }}", "calls itself"),
]


@pytest.mark.parametrize(("layout", "message"), RUNAWAY, ids=[m for m, _ in RUNAWAY])
def test_a_runaway_layout_is_stopped_within_5_s_and_the_next_render_works(
    limited_renderer: RendererProcess, layout: str, message: str
) -> None:
    assert_renders_normally(limited_renderer)  # the child is up before the clock starts

    start = time.monotonic()
    with pytest.raises(RenderError, match=message):
        render_layout(limited_renderer, layout)
    assert time.monotonic() - start < 5.0

    assert_renders_normally(limited_renderer)


def test_a_layout_that_hangs_weasyprint_is_killed_at_the_time_limit(
    limited_renderer: RendererProcess,
) -> None:
    assert_renders_normally(limited_renderer)
    child = limited_renderer.pid
    # 20,000 forced page breaks: a small document that takes WeasyPrint minutes to lay out.
    layout = "{% for i in range(20000) %}<div style='break-after: page'>x</div>{% endfor %}"

    start = time.monotonic()
    with pytest.raises(RenderError, match="took longer than 3 s to lay out and was stopped"):
        render_layout(limited_renderer, layout)
    assert time.monotonic() - start < 5.0

    assert_renders_normally(limited_renderer)
    assert limited_renderer.pid != child  # a fresh child took over


# --- nothing outside the template -------------------------------------------------------------


def test_a_layout_reaches_no_network_no_redirect_and_no_local_file(
    limited_renderer: RendererProcess, canary: Canary, redirector: Canary, tmp_path: Path
) -> None:
    assets = tmp_path / "assets"
    assets.mkdir()
    (tmp_path / "secret.png").write_bytes(b"not for templates")
    layout = f"""<html><head>
      <link rel="stylesheet" href="{canary.url}/link.css">
      <link rel="stylesheet" href="{redirector.url}/redirect.css">
      <style>@import url("{canary.url}/import.css");
             @import url("{redirector.url}/import.css");
             @font-face {{ font-family: x; src: url("{canary.url}/font.woff"); }}
             p {{ font-family: x; background: url("{canary.url}/inline-bg.png") }}</style>
      <link rel="attachment" href="file:///etc/passwd">
      <link rel="attachment" href="{canary.url}/attach.txt">
    </head><body>
    <img src="file:///etc/hostname"><img src="{canary.url}/img.png">
    <img src="{redirector.url}/img.png"><img src="../secret.png">
    <a rel="attachment" href="{canary.url}/linked.txt">file</a>
    <p>body text</p></body></html>"""
    css = (
        f'body {{ background: url("{canary.url}/b") }} '
        'h1 { background: url("file:///etc/hostname") }'
    )

    pdf = render_layout(limited_renderer, layout, css, asset_dir=assets)

    reader = read_pdf(pdf.content)
    assert canary.hits == []
    assert redirector.hits == []
    assert "body text" in text_of(reader)
    assert reader.attachments == {}  # no report data was passed, and nothing from the HTML
    assert sum(len(page.images) for page in reader.pages) == 0


def test_a_layout_may_use_its_own_assets(limited_renderer: RendererProcess, tmp_path: Path) -> None:
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
        b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\xdac\xfc\xcf\xc0P\x0f\x00\x04\x85\x01\x80"
        b"\x84\xa9\x8c!\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    (tmp_path / "mark.png").write_bytes(png)
    pdf = render_layout(limited_renderer, '<img src="mark.png"><p>x</p>', asset_dir=tmp_path)
    assert sum(len(page.images) for page in read_pdf(pdf.content).pages) == 1


@pytest.mark.parametrize("slug", ["/etc", "../breast-carcinoma", "_base", "..", "no-such-folder"])
def test_a_template_asset_folder_is_only_ever_a_folder_of_the_library(slug: str) -> None:
    """A manifest slug "/etc" once made /etc the asset folder (and /etc/passwd fetchable)."""
    from orchestrator.designs.models import ReportTemplate
    from orchestrator.reports.services import template_asset_dir

    version = TemplateVersion(template=ReportTemplate(pk=1, slug=slug), dataset=DATASET)
    assert template_asset_dir(version) is None


def test_a_library_template_has_its_own_folder_as_assets() -> None:
    from django.conf import settings

    from orchestrator.designs.models import ReportTemplate
    from orchestrator.reports.services import template_asset_dir

    version = TemplateVersion(
        template=ReportTemplate(pk=1, slug="breast-carcinoma"), dataset=DATASET
    )
    library = Path(settings.REPORT_LIBRARY_DIR).resolve()
    assert template_asset_dir(version) == library / "breast-carcinoma"
