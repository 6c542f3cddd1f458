"""Report rendering: real PDFs from the renderer child, read back with pypdf."""

from __future__ import annotations

import copy
import io
import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from orchestrator.accounts.models import Department
from orchestrator.cases.tiles import load_tile_png
from orchestrator.designs.models import TemplateVersion
from orchestrator.reports.rendering import ATTACHMENT_NAME, Figure
from orchestrator.reports.services import (
    ReportHeader,
    Revision,
    Signature,
    build_report_context,
    render_report_pdf,
)
from tests.orchestrator.reports.conftest import (
    DATASET,
    MODEL_SOURCE,
    SAMPLE,
    read_pdf,
    text_of,
)
from workflows.datasets import parse_dataset

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
PROVENANCE = {"ki67_index": MODEL_SOURCE}


def render(
    language: str,
    *,
    layout: str = "",
    header: ReportHeader = HEADER,
    values: dict[str, Any] | None = None,
    **options: Any,
) -> PdfReader:
    version = TemplateVersion(dataset=DATASET, layout_html=layout, number=3)
    values = SAMPLE if values is None else values
    pdf = render_report_pdf(
        version, parse_dataset(DATASET), header, values, PROVENANCE, language, **options
    )
    return read_pdf(pdf.content)


def tile_png(size: int = 512) -> bytes:
    """A real stained tissue tile (scikit-image's IHC sample), cropped to ``size``²."""
    with Image.open(io.BytesIO(load_tile_png({"uri": "sample:immunohistochemistry"}))) as sample:
        image = sample.crop((0, 0, size, size))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_breast_template_prints_every_filled_value_in_both_languages(language: str) -> None:
    reader = render(language)
    text = text_of(reader)
    flat = "".join(text.split())  # long labels wrap in their table cell

    for section in DATASET["sections"]:
        for element in section["elements"]:
            if element["id"] in SAMPLE:
                assert "".join(element["label"][language].split()) in flat, element["id"]
    for value in ("28.5%", "30%", "18 mm"):
        assert value in text
    assert "S26-04242" in text
    pages = len(reader.pages)
    marker = f"第 1 页 / 共 {pages} 页" if language == "zh" else f"Page 1 of {pages}"
    assert marker in text
    assert ("未签发" if language == "zh" else "Not signed") in text
    assert "ihc-dab" in text  # the provenance table names the model endpoint


def test_unfilled_applicable_elements_show_a_dash_and_inapplicable_ones_are_left_out() -> None:
    text = text_of(render("en", values={"neoadjuvant_therapy": False}))
    assert "Neoadjuvant therapy given before surgery" in text
    assert "Histological type" in text  # required, not filled yet: shown for the reviewer
    assert "neoadjuvant therapy" not in text.replace("Neoadjuvant therapy", "")  # response row


def test_an_unsigned_report_is_watermarked_preliminary_and_a_signed_one_names_its_signer() -> None:
    unsigned = text_of(render("en"))
    assert "PRELIMINARY" in unsigned
    assert "Not signed" in unsigned

    signed = text_of(
        render(
            "en",
            status="final",
            signature=Signature(signed_by="Dr Li Wei", signed_at="2026-11-27 09:30"),
        )
    )
    assert "Signed by: Dr Li Wei" in signed
    assert "Signed at: 2026-11-27 09:30" in signed
    assert "PRELIMINARY" not in signed
    assert "Not signed" not in signed


@pytest.mark.parametrize(
    ("language", "kind", "label"),
    [("en", "amended", "AMENDED REPORT"), ("zh", "corrected", "更正报告")],
)
def test_an_amended_or_corrected_report_carries_a_banner_with_its_reason(
    language: str, kind: str, label: str
) -> None:
    text = text_of(
        render(
            language,
            status=kind,
            signature=Signature("Dr Li Wei", "2026-11-28 10:00"),
            revision=Revision(kind, "Ki-67 recounted on block A2"),
        )
    )
    assert label in text
    assert "Ki-67 recounted on block A2" in text


def test_a_case_with_many_specimens_fills_many_pages_with_the_specimen_table() -> None:
    specimens = [
        {
            "label": f"A{i}",
            "site": f"Left breast, level {i}",
            "procedure": "Excision",
            "blocks": str(i % 7 + 1),
            "description": "Firm grey-white tissue with a stellate cut surface",
        }
        for i in range(1, 401)
    ]
    reader = render("en", header=ReportHeader(**{**HEADER.__dict__, "specimens": specimens}))
    text = text_of(reader)

    pages = len(reader.pages)
    assert pages >= 10
    assert f"Page 1 of {pages}" in text
    assert f"Page {pages} of {pages}" in text
    for label in ("A1", "A200", "A400"):
        assert f"{label} Left breast, level {label[1:]}" in text
    assert "Blocks" in reader.pages[3].extract_text()  # the header row repeats on each page


def test_a_tile_figure_is_embedded_downscaled_for_print_with_its_caption() -> None:
    tile = tile_png()
    reader = render("en", figures=[Figure(tile, "Ki-67, block A2, ×40", width_mm=60)])
    text = text_of(reader)

    assert "Ki-67, block A2, ×40" in text
    # WeasyPrint lists every image in each page's resources: count distinct ones.
    images = list({image.name: image for page in reader.pages for image in page.images}.values())
    assert len(images) == 1
    assert images[0].image is not None
    width = images[0].image.width
    assert 400 <= width <= 480  # 60 mm at 200 dpi, not the 512 px source
    assert len(images[0].data) < len(tile) / 3  # compressed well below the PNG tile


def test_the_department_logo_is_printed_in_the_letterhead() -> None:
    logo = io.BytesIO()
    Image.new("RGB", (600, 300), "#1a3d6d").save(logo, format="PNG")
    reader = render("en", header=ReportHeader(**{**HEADER.__dict__, "logo": logo.getvalue()}))

    images = reader.pages[0].images
    assert len(images) == 1
    assert images[0].image is not None
    assert images[0].image.width <= 240  # 28 mm at 200 dpi


@pytest.mark.django_db
def test_a_header_from_a_case_carries_the_department_logo_and_specimen_blocks(
    department: Department,
) -> None:
    from django.core.files.base import ContentFile

    from orchestrator.cases.models import Case, Specimen

    logo = io.BytesIO()
    Image.new("RGB", (64, 32), "red").save(logo, format="PNG")
    department.logo.save("logo.png", ContentFile(logo.getvalue()))
    case = Case.objects.create(
        department=department, accession="S1", case_type="breast", patient_name="X"
    )
    Specimen.objects.create(case=case, label="A", site="Breast", data={"blocks": 4})

    header = ReportHeader.from_case(case)

    assert header.logo == logo.getvalue()
    assert header.specimens[0]["blocks"] == "4"


def _xmp(reader: PdfReader) -> ET.Element:
    root: Any = reader.trailer["/Root"]
    metadata = root["/Metadata"].get_object().get_data()
    return ET.fromstring(metadata)  # noqa: S314 (our own PDF, written by the renderer)


def test_the_pdf_is_pdf_a_3b_and_carries_exactly_the_report_data_as_json() -> None:
    # A link the layout declares as an attachment must not be embedded: ours is the only one.
    layout_attachment = (
        '<html><head><link rel="attachment" href="data:text/plain,layout-file"></head><body>'
        '<a rel="attachment" href="data:text/plain,linked-file">file</a>'
        "{% for s in sections %}{% for r in s.rows %}<p>{{ r.label }}: {{ r.response }}</p>"
        "{% endfor %}{% endfor %}</body></html>"
    )
    reader = render("zh", layout=layout_attachment)

    assert list(reader.attachments) == [ATTACHMENT_NAME]
    (content,) = reader.attachments[ATTACHMENT_NAME]
    assert json.loads(content) == {
        "template": {"slug": "breast-carcinoma", "version": 3},
        "language": "zh",
        "status": "draft",
        "values": SAMPLE,
        "provenance": PROVENANCE,
    }
    annotations = [a.get_object() for p in reader.pages for a in p.get("/Annots", [])]
    assert not [a for a in annotations if a.get("/Subtype") == "/FileAttachment"]

    pdfaid = "http://www.aiim.org/pdfa/ns/id/"
    xmp = _xmp(reader)
    found: dict[str, str] = {}
    for element in xmp.iter():
        for key, value in element.attrib.items():
            if key.startswith("{" + pdfaid):
                found[key.split("}")[1]] = value
        if element.tag.startswith("{" + pdfaid):
            found[element.tag.split("}")[1]] = element.text or ""
    assert found == {"part": "3", "conformance": "B"}


def test_chinese_fonts_are_embedded_as_small_subsets() -> None:
    reader = render("zh")
    fonts = {}
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for reference in resources["/Font"].values():
            font = reference.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            stream = descriptor.get_object()["/FontFile3"].get_object()
            fonts[font["/BaseFont"]] = len(stream.get_data())
    assert any("CJK" in name for name in fonts)
    # A retained-glyph-id subset of Noto Sans CJK was ~790 KB uncompressed per weight.
    assert all(size < 100_000 for size in fonts.values()), fonts
    assert "浸润性癌" in text_of(reader)  # and the text still reads back


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


def test_an_element_that_does_not_apply_prints_not_applicable_when_the_template_asks() -> None:
    dataset = copy.deepcopy(DATASET)
    for section in dataset["sections"]:
        for element in section["elements"]:
            if element["id"] == "treatment_effect":
                element["when_hidden"] = "not_applicable"
    version = TemplateVersion(dataset=dataset)
    values = {"neoadjuvant_therapy": False}  # the response applies only after therapy
    pdf = render_report_pdf(version, parse_dataset(dataset), HEADER, values, {}, "zh")
    text = text_of(read_pdf(pdf.content))
    assert "新辅助治疗后病理反应" in text
    assert "不适用" in text


def test_a_custom_layout_keeps_list_markers_and_footnotes_with_the_report_stylesheet() -> None:
    layout = (
        "<html><body><h1>Title</h1><ul><li>first finding</li><li>second finding</li></ul>"
        '<ol><li>step</li></ol><p>Margin clear<span class="footnote" style="float: footnote">'
        "Inked margins reviewed twice.</span></p></body></html>"
    )
    text = text_of(render("en", layout=layout))
    # pypdf reads markers after the text they belong to
    assert text.count("•") == 2
    assert "first finding" in text
    assert "step" in text
    assert "Margin clear1" in text  # the footnote call
    assert "1. Inked margins reviewed twice." in text  # and its marker


def test_model_sources_are_numbered_in_report_order_whatever_order_they_were_stored_in() -> None:
    # PostgreSQL's JSONB does not keep key order: the same report must number its sources alike.
    fna = {**MODEL_SOURCE[0], "endpoint": "breast-fna", "model_name": "breast-fna"}
    stored = {"ki67_index": MODEL_SOURCE, "er_percent": [fna]}
    dataset = parse_dataset(DATASET)

    contexts = [
        build_report_context(dataset, HEADER, SAMPLE, provenance, "en", "draft")
        for provenance in (stored, dict(reversed(stored.items())))
    ]

    assert contexts[0]["ai_marks"] == contexts[1]["ai_marks"]
    assert [s["endpoint"] for s in contexts[0]["ai_sources"]] == ["breast-fna", "ihc-dab"]
