"""The report template library: every folder in templates/ with a dataset.json is checked.

For each template: the dataset parses, the sample case validates completely, every cross-field
rule holds for the sample and a mutation of the sample that breaks it is refused with the
rule's message (one test per rule), the shipped expected text is what the synoptic pipeline
says, and the real report pipeline prints every applicable label followed by its answer, the
page marker and the signature block in zh and en. PDF text is compared with all whitespace
removed, since long labels and answers wrap. New folders are picked up without editing this file.
"""

from __future__ import annotations

import io
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from pypdf import PdfReader

from orchestrator.designs.models import TemplateVersion
from orchestrator.reports.rendering import ATTACHMENT_NAME
from orchestrator.reports.services import ReportHeader, render_report_pdf
from orchestrator.reports.strings import REPORT_STRINGS
from tests.templates.rule_mutations import rule_problems, violating_mutation
from tests.workflows.datasets.support_rules import ruled_document, ruled_sample
from workflows.datasets import (
    AI_TITLE,
    LANGUAGES,
    MODEL_SOURCES,
    Dataset,
    DatasetInvalid,
    display_value,
    findings_problems,
    parse_dataset,
    synoptic_text,
    visibility,
)
from workflows.expressions import referenced_variables

LIBRARY = Path(settings.REPORT_LIBRARY_DIR)
SLUGS = sorted(
    p.parent.name for p in LIBRARY.glob("*/dataset.json") if not p.parent.name.startswith("_")
)
FOLDER_FILES = {"dataset.json", "sample_findings.json", "expected_zh.txt", "expected_en.txt"}
MIN_ELEMENTS = 25
AI_SECTION = "ai_analysis"
HEADER = ReportHeader(
    hospital_name="Pathflow 示范医院 Demo Hospital",
    department_name="病理科 Pathology",
    accession="S26-01919",
    patient_name="李四 Li Si",
    patient_mrn="MRN-1919",
    patient_sex="U",
    patient_birth_date="1962-05-01",
    ordering_physician="王医生 Dr Wang",
    clinical_info="术后标本 Resection specimen",
    specimens=[{"label": "A", "site": "原发灶 Primary site", "procedure": "切除 Resection"}],
)
MODEL_SOURCE = {
    "kind": "model",
    "endpoint": "library-test-model",
    "model_name": "library-test-model",
    "model_version": "1",
    "run": "1919",
}
_WHITESPACE = re.compile(r"\s+")


def squeeze(text: str) -> str:
    """Text without any whitespace: long labels and values wrap at different places per page."""
    return _WHITESPACE.sub("", text)


@cache
def document(slug: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((LIBRARY / slug / "dataset.json").read_text("utf-8"))
    return loaded


@cache
def dataset(slug: str) -> Dataset:
    return parse_dataset(document(slug))


def sample(slug: str) -> dict[str, Any]:
    values: dict[str, Any] = json.loads(
        (LIBRARY / slug / "sample_findings.json").read_text("utf-8")
    )
    return values


def ai_provenance(slug: str, values: dict[str, Any]) -> dict[str, Any]:
    """The model-sourced answers (and those of an AI-analysis section) marked as model output,
    as a workflow run would record them."""
    ai_ids = {
        e["id"]
        for s in document(slug)["sections"]
        for e in s["elements"]
        if s.get("id") == AI_SECTION or e.get("source") in MODEL_SOURCES
    }
    return {k: [MODEL_SOURCE] for k in values if k in ai_ids}


@cache
def rendered(slug: str, language: str) -> tuple[str, int, Any]:
    """The report's PDF text, page count and attached report data, rendered once per template
    and language."""
    values = sample(slug)
    version = TemplateVersion(dataset=document(slug))
    pdf = render_report_pdf(
        version, dataset(slug), HEADER, values, ai_provenance(slug, values), language
    )
    reader = PdfReader(io.BytesIO(pdf.content))
    assert len(reader.pages) == pdf.pages
    assert list(reader.attachments) == [ATTACHMENT_NAME]
    (attached,) = reader.attachments[ATTACHMENT_NAME]
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return text, pdf.pages, json.loads(attached)


def test_the_library_is_found() -> None:
    assert "breast-carcinoma" in SLUGS


@pytest.mark.parametrize("slug", SLUGS)
def test_the_folder_holds_the_template_files_and_names_itself(slug: str) -> None:
    assert {p.name for p in (LIBRARY / slug).iterdir()} == FOLDER_FILES
    raw = document(slug)
    assert raw.get("schema_version") == 1
    assert raw.get("slug") == slug
    assert raw.get("organ"), f"{slug}: dataset.json needs an organ"


@pytest.mark.parametrize("slug", SLUGS)
def test_the_dataset_parses_with_bilingual_labels_and_enough_elements(slug: str) -> None:
    parsed = dataset(slug)  # parse_dataset already refuses a missing zh or en label
    elements = parsed.elements()
    assert len(elements) >= MIN_ELEMENTS, f"{slug} has only {len(elements)} elements"
    for element in elements:
        for language in LANGUAGES:
            assert element.label.get(language, "").strip(), f"{slug} {element.id} {language}"
            for answer in element.answers:
                assert answer.label.get(language, "").strip(), f"{element.id} {answer.code}"
            if element.help is not None:
                assert element.help.get(language, "").strip(), f"{element.id} help {language}"
    for section in parsed.sections:
        for language in LANGUAGES:
            assert section.title.get(language, "").strip(), f"{slug} {section.id}"


@pytest.mark.parametrize("slug", SLUGS)
def test_conditions_read_only_elements_answered_before_them(slug: str) -> None:
    """Visibility is decided in dataset order, so a condition on a later (or unknown)
    element would hide its element for good."""
    earlier: set[str] = set()
    for element in dataset(slug).elements():
        if element.visible_if:
            unknown = referenced_variables(element.visible_if) - earlier
            assert not unknown, f"{slug} {element.id}: visible_if reads {sorted(unknown)}"
        earlier.add(element.id)


@pytest.mark.parametrize("slug", SLUGS)
def test_the_sample_case_validates_completely(slug: str) -> None:
    problems = findings_problems(dataset(slug), sample(slug), complete=True)
    assert not problems, f"{slug}: " + "; ".join(map(str, problems))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("slug", SLUGS)
def test_the_expected_text_is_what_the_synoptic_pipeline_says(slug: str, language: str) -> None:
    expected = (LIBRARY / slug / f"expected_{language}.txt").read_text("utf-8")
    assert synoptic_text(dataset(slug), sample(slug), language) == expected, (
        f"regenerate with scripts/template_expected.py templates/{slug} and review the diff"
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("slug", SLUGS)
def test_the_report_prints_every_value_label_page_marker_and_signature_block(
    slug: str, language: str
) -> None:
    text, pages, _ = rendered(slug, language)
    flat = squeeze(text)
    parsed, values = dataset(slug), sample(slug)
    shown = visibility(parsed, values)

    # Each applicable element prints as a row: its label, then its answer (a dash while
    # unanswered). Checking the pair catches a value printed under the wrong label too. A
    # model output nobody produced is left out (it is optional by definition).
    rows = {
        e.id: e.label[language]
        + (display_value(e, values[e.id], language) if e.id in values else "—")
        for e in parsed.elements()
        if shown[e.id] and (e.id in values or e.source != "model")
    }
    missing = {k: row for k, row in rows.items() if squeeze(row) not in flat}
    assert not missing, f"{slug} {language}: rows not printed as label then answer: {missing}"
    assert squeeze(parsed.title[language]) in flat

    if language == "zh":
        assert "第 1 页" in text
        assert f"共 {pages} 页" in text
    else:
        assert f"Page 1 of {pages}" in text
    assert squeeze(REPORT_STRINGS[language]["not_signed"]) in flat
    if ai_provenance(slug, values):
        assert MODEL_SOURCE["endpoint"] in text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("slug", SLUGS)
def test_the_pdf_carries_the_report_data_as_its_json_attachment(slug: str, language: str) -> None:
    values = sample(slug)

    attached = rendered(slug, language)[2]

    assert attached == {
        "template": {"slug": slug, "version": None},
        "language": language,
        "status": "draft",
        "values": values,
        "provenance": ai_provenance(slug, values),
    }


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("slug", SLUGS)
def test_ai_sourced_values_print_only_in_their_labelled_block(slug: str, language: str) -> None:
    flat = squeeze(rendered(slug, language)[0])
    parsed, values = dataset(slug), sample(slug)
    title = squeeze(AI_TITLE[language])
    model_rows = [
        squeeze(e.label[language] + display_value(e, values[e.id], language))
        for e in parsed.elements()
        if e.model_sourced and e.id in values and visibility(parsed, values)[e.id]
    ]
    if not model_rows:
        assert title not in flat, f"{slug}: an AI block without model-sourced values"
        return
    assert flat.count(title) == 1, f"{slug} {language}: the AI block is printed once"
    before, block = flat.split(title)
    for row in model_rows:
        assert row in block, f"{slug} {language}: {row} not in the AI block"
        assert row not in before, f"{slug} {language}: {row} printed among the pathologist's rows"


# --- cross-field rules: one test per rule ------------------------------------------------------

# The engine's own example (one rule of each kind) runs through the same generated test, so the
# mutation generators are themselves checked and the list of cases is never empty.
ENGINE_EXAMPLE = "engine-example"


def rule_subject(source: str) -> tuple[Dataset, dict[str, Any]]:
    if source == ENGINE_EXAMPLE:
        return parse_dataset(ruled_document()), ruled_sample()
    return dataset(source), sample(source)


def rule_cases() -> list[Any]:
    cases = []
    for source in [ENGINE_EXAMPLE, *SLUGS]:
        try:
            parsed = rule_subject(source)[0]
        except (DatasetInvalid, OSError, ValueError):
            continue  # a template that does not parse fails its own test above
        cases += [pytest.param(source, r.id, id=f"{source}:{r.id}") for r in parsed.rules]
    return cases


@pytest.mark.parametrize(("source", "rule_id"), rule_cases())
def test_the_sample_keeps_the_rule_and_a_mutation_breaking_it_is_refused_with_its_message(
    source: str, rule_id: str
) -> None:
    parsed, values = rule_subject(source)
    rule = next(r for r in parsed.rules if r.id == rule_id)
    broken = rule_problems(parsed, values, rule)
    assert not broken, f"{source}: the sample case violates rule {rule_id!r}: {broken}"

    found = violating_mutation(parsed, rule, values)

    assert found is not None, (
        f"{source}: no small change to the sample violates rule {rule_id!r} ({rule.kind}); "
        "the rule can never fail, or the sample never reaches it (for a requires rule, does "
        "the sample meet its condition?)"
    )
    mutated, problem = found
    assert findings_problems(parsed, mutated, complete=True), "the mutated case is refused"
    for language in LANGUAGES:
        assert problem.text(language).startswith(rule.message[language])
        assert rule.message[language] in problem.describe(language)
    assert problem.elements
    assert set(problem.elements) <= set(rule.concerns())
