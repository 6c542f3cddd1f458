"""Report rendering: real PDFs read back with pypdf; templates reach nothing outside themselves."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from pypdf import PdfReader

from orchestrator.designs.models import TemplateVersion
from orchestrator.reports.rendering import RenderError
from orchestrator.reports.services import ReportHeader, render_report_pdf
from workflows.datasets import parse_dataset

LIBRARY = Path(settings.REPORT_LIBRARY_DIR) / "breast-carcinoma"
DATASET = json.loads((LIBRARY / "dataset.json").read_text())
SAMPLE = json.loads((LIBRARY / "sample_findings.json").read_text())
MODEL = [
    {
        "kind": "model",
        "endpoint": "ihc-dab",
        "model_name": "ihc-dab",
        "model_version": "1",
        "run": "42",
    }
]
HEADER = ReportHeader(
    hospital_name="Test Hospital",
    department_name="Pathology",
    accession="S26-04242",
    patient_name="Zhang San 张三",
    patient_mrn="MRN-1",
    patient_sex="F",
    patient_birth_date="1970-01-01",
    ordering_physician="Dr Wang",
    clinical_info="Lump",
    specimens=[{"label": "A", "site": "Left breast", "procedure": "Excision"}],
)


def render(
    language: str,
    *,
    layout: str = "",
    css: str = "",
    header: ReportHeader = HEADER,
    values: dict[str, Any] | None = None,
) -> PdfReader:
    version = TemplateVersion(dataset=DATASET, layout_html=layout, layout_css=css)
    values = SAMPLE if values is None else values
    dataset = parse_dataset(DATASET)
    pdf = render_report_pdf(version, dataset, header, values, {"ki67_index": MODEL}, language)
    return PdfReader(io.BytesIO(pdf.content))


def text_of(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() or "" for page in reader.pages)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_breast_template_prints_every_filled_value_in_both_languages(language: str) -> None:
    reader = render(language)
    text = text_of(reader)

    for section in DATASET["sections"]:
        for element in section["elements"]:
            if element["id"] in SAMPLE:
                assert element["label"][language] in text, element["id"]
    for value in ("28.5%", "93.4%", "18 mm"):
        assert value in text
    assert "S26-04242" in text
    pages = len(reader.pages)
    marker = f"第 1 页 / 共 {pages} 页" if language == "zh" else f"Page 1 of {pages}"
    assert marker in text
    assert ("未签发" if language == "zh" else "Not signed") in text
    assert "ihc-dab" in text  # the provenance table names the model endpoint


def test_unfilled_applicable_elements_show_a_dash_and_inapplicable_ones_are_left_out() -> None:
    text = text_of(render("en", values={"fna_malignancy_probability": 12.0}))
    assert "FNA cytology AI malignancy probability" in text
    assert "Histological type" in text  # required, not filled yet: shown for the reviewer
    assert "Ki-67" not in text  # visible only when malignant probability ≥ 50


def test_a_layout_cannot_escape_the_sandbox(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    payloads = [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ report.title.format_map }}{{ '{0.__class__}'.format(report) }}",
        "{{ (report|attr('__class__')) }}",
        f"{{{{ cycler.__init__.__globals__.os.system('touch {canary}') }}}}",
    ]
    for payload in payloads:
        with pytest.raises(RenderError):
            render("en", layout=f"<html><body>{payload}</body></html>")
    assert not canary.exists()


class _Canary(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        _Canary.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def canary_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canary)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Canary.hits.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_layout_reaches_no_network_and_no_local_file(canary_server: str) -> None:
    layout = f"""<html><head>
      <link rel="stylesheet" href="{canary_server}/link.css">
      <style>@import url("{canary_server}/import.css");
             @font-face {{ font-family: x; src: url("{canary_server}/font.woff"); }}</style>
      <link rel="attachment" href="file:///etc/passwd">
      <link rel="attachment" href="{canary_server}/attach.txt">
    </head><body><img src="file:///etc/hostname"><img src="{canary_server}/img.png">
    <p>body text</p></body></html>"""

    reader = render("en", layout=layout, css=f'body {{ background: url("{canary_server}/b") }}')

    assert _Canary.hits == []
    assert "body text" in text_of(reader)
    assert reader.attachments == {}
    assert sum(len(page.images) for page in reader.pages) == 0  # neither image was embedded


def test_letterhead_values_cannot_break_out_of_css_strings() -> None:
    header = ReportHeader(
        **{**HEADER.__dict__, "patient_name": '"; } body { display: none } x { content: "</style>'}
    )
    text = text_of(render("en", header=header))
    assert "Invasive carcinoma of no special type" in text  # the body is still laid out


def test_a_layout_may_embed_a_data_url_image() -> None:
    png = (
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9a"
        "wAAAABJRU5ErkJggg=="
    )
    reader = render(
        "en", layout=f'<html><body><img src="data:image/png;base64,{png}"></body></html>'
    )
    assert sum(len(page.images) for page in reader.pages) == 1
