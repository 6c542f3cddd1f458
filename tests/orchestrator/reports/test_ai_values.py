"""The signed report prints model-sourced values only in their labelled block, read back from
the PDF with pypdf: never among the pathologist's rows, with the model and version, and an
accepted value marked with who verified it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from orchestrator.designs.models import TemplateVersion
from orchestrator.reports.services import ReportHeader, Signature, render_report_pdf
from tests.orchestrator.reports.conftest import read_pdf, text_of
from tests.workflows.datasets.support_rules import MODEL, ai_document, ruled_sample
from workflows.datasets import AI_TITLE, parse_dataset

HEADER = ReportHeader(
    hospital_name="Test Hospital",
    department_name="Pathology",
    accession="S26-00042",
    patient_name="Wang Wu 王五",
    patient_mrn="MRN-42",
    patient_sex="F",
    patient_birth_date="1968-03-01",
    ordering_physician="Dr Zhao",
    clinical_info="",
    specimens=[{"label": "A", "site": "Left breast", "procedure": "Lumpectomy"}],
)
PERSON = {"kind": "person", "user": 7, "name": "Dr Li", "at": "2026-12-01T08:00:00+00:00"}
VALUES = {**ruled_sample(), "ki67_ai": 28.5, "her2_ai": "ihc_2plus"}


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def render(language: str, provenance: dict[str, Any], **options: Any) -> str:
    document = ai_document()
    version = TemplateVersion(dataset=document, number=1)
    pdf = render_report_pdf(
        version, parse_dataset(document), HEADER, VALUES, provenance, language, **options
    )
    return flat(text_of(read_pdf(pdf.content)))


@pytest.mark.parametrize(
    ("language", "ki67", "her2", "unverified"),
    [
        ("en", "Ki-67index(AI)28.5%", "HER2score(AI)2+", "AI,notyetverified"),
        ("zh", "Ki-67指数（AI）28.5%", "HER2评分（AI）2+", "AI，尚未复核"),
    ],
)
def test_ai_values_print_after_the_pathologists_rows_in_their_labelled_block(
    language: str, ki67: str, her2: str, unverified: str
) -> None:
    text = render(language, {"ki67_ai": [MODEL], "her2_ai": [MODEL]})

    title = flat(AI_TITLE[language])
    assert text.count(title) == 1
    before, block = text.split(title)
    assert "Ki-67" not in before
    assert "HER2" not in before
    assert ki67 in block
    assert her2 in block
    assert unverified in block
    assert "ihc-dab3.1" in block  # the model and version, from the provenance


def test_an_accepted_ai_value_prints_verified_by_the_pathologist() -> None:
    signature = Signature(signed_by="Dr Li", signed_at="2026-12-01 09:00")

    text = render("en", {"ki67_ai": [MODEL], "her2_ai": [PERSON]}, signature=signature)

    block = text.split(flat(AI_TITLE["en"]))[1]
    assert "HER2score(AI)2+AI,verifiedbyDrLi" in block
    assert "notyetverified" not in block
