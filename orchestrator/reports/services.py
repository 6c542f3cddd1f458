"""Creating report versions: fill the template version, render, store PDF and its hash."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from orchestrator.accounts.models import Department
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.cases.models import Case
from orchestrator.designs.models import TemplateVersion
from orchestrator.designs.templates import TemplateContent, TemplateInvalid, check_content
from orchestrator.integrations.outbox import queue_report_deliveries
from orchestrator.reports.layout_spec import effective_layout_html
from orchestrator.reports.models import Report, ReportStatus
from orchestrator.reports.renderer.client import RendererProcess
from orchestrator.reports.rendering import (
    Figure,
    RenderedPdf,
    RenderError,
    render_report_document,
    render_report_html,
)
from orchestrator.reports.strings import REPORT_STRINGS
from orchestrator.runs.models import Run
from workflows.datasets import (
    SLUG_PATTERN,
    Dataset,
    ai_section,
    drop_inapplicable_model_values,
    findings_problems,
    parse_dataset,
    synoptic_sections,
    with_derived,
)


class FindingsRejected(ValueError):
    """Filled data does not fit the template version; ``problems`` lists every one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


SPECIMEN_FIELDS = ("label", "site", "procedure", "blocks", "description")


@dataclass(frozen=True)
class ReportHeader:
    """Who and what a report is about, as printed in the letterhead and patient block.

    ``specimens`` rows carry ``label``, ``site``, ``procedure`` and optionally ``blocks`` and
    ``description``; ``logo`` is the department's logo image (optional)."""

    hospital_name: str
    department_name: str
    accession: str
    patient_name: str
    patient_mrn: str
    patient_sex: str
    patient_birth_date: str
    ordering_physician: str
    clinical_info: str
    specimens: list[dict[str, str]]
    logo: bytes = b""

    @classmethod
    def from_case(cls, case: Case) -> ReportHeader:
        department = case.department
        return cls(
            hospital_name=department.hospital_name,
            department_name=department.name,
            accession=case.accession,
            patient_name=case.patient_name,
            patient_mrn=case.patient_mrn,
            patient_sex=case.patient_sex,
            patient_birth_date=case.patient_birth_date.isoformat()
            if case.patient_birth_date
            else "",
            ordering_physician=case.ordering_physician,
            clinical_info=case.clinical_info,
            specimens=[
                {
                    "label": s.label,
                    "site": s.site,
                    "procedure": s.procedure,
                    "blocks": str(s.data.get("blocks", "")),
                    "description": str(s.data.get("description", "")),
                }
                for s in case.specimens.all()
            ],
            logo=department_logo(department),
        )

    def case_block(self, language: str) -> dict[str, Any]:
        block = {k: v for k, v in asdict(self).items() if k != "logo"}
        block["specimens"] = [{**dict.fromkeys(SPECIMEN_FIELDS, ""), **s} for s in self.specimens]
        block["sex_label"] = REPORT_STRINGS[language]["sex_labels"].get(self.patient_sex, "")
        return block


@dataclass(frozen=True)
class Signature:
    """Who signed a report version and when (printed in the signature block)."""

    signed_by: str
    signed_at: str


@dataclass(frozen=True)
class Revision:
    """Why this version replaces a signed one: ``kind`` is "amended" or "corrected"."""

    kind: str
    reason: str


def department_logo(department: Department) -> bytes:
    """The department's logo image, or b"" when it has none (or the file is gone)."""
    logo = department.logo
    if not logo:
        return b""
    try:
        with logo.open("rb") as handle:
            return bytes(handle.read())
    except OSError:
        return b""


def _ai_sources(
    dataset: Dataset, provenance: dict[str, Any]
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Number each distinct model source and mark the elements it filled, in the order the
    elements appear in the report (not the order the provenance was stored in: PostgreSQL's
    JSONB does not keep key order, and the same report must number its sources the same)."""
    marks: dict[str, str] = {}
    sources: list[dict[str, Any]] = []
    keys: dict[tuple[str, str, str, str], str] = {}
    order = {element.id: index for index, element in enumerate(dataset.elements())}
    for element_id in sorted(provenance, key=lambda e: (order.get(e, len(order)), e)):
        for source in provenance[element_id]:
            if source.get("kind") != "model":
                continue
            key = (
                source["endpoint"],
                source["model_name"],
                source.get("model_version", ""),
                str(source.get("run", "")),
            )
            if key not in keys:
                keys[key] = str(len(keys) + 1)
                sources.append({"mark": keys[key], **source})
            marks[element_id] = ",".join(filter(None, [marks.get(element_id), keys[key]]))
    return marks, sources


def build_report_context(
    dataset: Dataset,
    header: ReportHeader,
    values: dict[str, Any],
    provenance: dict[str, Any],
    language: str,
    status: str,
    *,
    signature: Signature | None = None,
    revision: Revision | None = None,
) -> dict[str, Any]:
    """The layout's variables, as plain JSON (it crosses into the renderer child)."""
    if language not in REPORT_STRINGS:
        raise RenderError(f"reports are printed in zh or en, not {language!r}")
    strings = REPORT_STRINGS[language]
    marks, sources = _ai_sources(dataset, provenance)
    banner = None
    if revision is not None:
        banner = {
            "kind": revision.kind,
            "label": strings["revision"].get(revision.kind, revision.kind),
            "reason": revision.reason,
        }
    return {
        "language": language,
        "t": strings,
        "department": {
            "name": header.department_name,
            "hospital_name": header.hospital_name,
            "logo": "",  # a data: URI, filled in by the renderer child when there is one
        },
        "case": header.case_block(language),
        "report": {
            "title": dataset.title[language],
            "status": status,
            "status_label": strings["status"].get(status, status),
            "signed": signature is not None,
            "signed_by": signature.signed_by if signature else "",
            "signed_at": signature.signed_at if signature else "",
            "banner": banner,
            "generated_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        },
        "sections": [asdict(section) for section in synoptic_sections(dataset, values, language)],
        # Model-sourced values, printed apart from the pathologist's determinations.
        "ai_block": asdict(ai)
        if (ai := ai_section(dataset, values, language, provenance))
        else None,
        "ai_marks": marks,
        "ai_sources": sources,
    }


def report_data(
    template_version: TemplateVersion,
    dataset: Dataset,
    values: dict[str, Any],
    provenance: dict[str, Any],
    language: str,
    status: str,
) -> dict[str, Any]:
    """The structured data embedded in the PDF as ``report-data.json``: the values as printed,
    so a derived element left empty carries its computed value (provenance kind ``derived``)."""
    printed = with_derived(dataset, values)
    rules = {r.element: r for r in dataset.rules if r.kind == "derived"}
    derived = {
        key: [{"kind": "derived", "rule": rules[key].id, "from": list(rules[key].elements)}]
        for key in printed
        if key not in values and key in rules
    }
    return {
        "template": {"slug": dataset.slug, "version": template_version.number},
        "language": language,
        "status": str(status),
        "values": printed,
        "provenance": {**provenance, **derived} if derived else provenance,
    }


def template_asset_dir(template_version: TemplateVersion) -> Path | None:
    """The library folder of the version's template, whose files its layout may load."""
    if template_version.template_id is None:
        return None
    slug = template_version.template.slug
    if not SLUG_PATTERN.match(slug) or slug.startswith("_"):
        return None  # a slug is never a path (imports and creation check it too)
    library = Path(settings.REPORT_LIBRARY_DIR).resolve()
    folder = (library / slug).resolve()
    # Only a folder of the library itself (not one a symlink leads out of, nor _base).
    inside = folder.is_relative_to(library) and folder != library
    if not inside or folder.name.startswith("_") or not folder.is_dir():
        return None
    return folder


def render_report_pdf(
    template_version: TemplateVersion,
    dataset: Dataset,
    header: ReportHeader,
    values: dict[str, Any],
    provenance: dict[str, Any],
    language: str,
    status: str = ReportStatus.DRAFT,
    *,
    signature: Signature | None = None,
    revision: Revision | None = None,
    figures: Sequence[Figure] = (),
    process: RendererProcess | None = None,
) -> RenderedPdf:
    """Render one report version as PDF/A-3b in the sandboxed renderer child; its data is
    embedded as the ``report-data.json`` attachment. Raises ``RenderError``."""
    context = build_report_context(
        dataset,
        header,
        values,
        provenance,
        language,
        status,
        signature=signature,
        revision=revision,
    )
    return render_report_document(
        context,
        layout_html=effective_layout_html(
            template_version.layout_html, template_version.layout_spec
        ),
        layout_css=template_version.layout_css,
        asset_dir=template_asset_dir(template_version),
        figures=figures,
        logo=header.logo or None,
        data=report_data(template_version, dataset, values, provenance, language, status),
        process=process,
    )


class PreviewRejected(ValueError):
    """A preview cannot be rendered; ``problems`` lists every reason, each naming what to fix."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Preview:
    content: bytes
    content_type: str
    pages: int | None


PREVIEW_PATIENT = {"zh": "示例患者", "en": "Sample Patient"}


def preview_header(department: Department, language: str) -> ReportHeader:
    """A placeholder patient and case in the department's real letterhead."""
    return ReportHeader(
        hospital_name=department.hospital_name,
        department_name=department.name,
        accession="PREVIEW",
        patient_name=PREVIEW_PATIENT.get(language, PREVIEW_PATIENT["en"]),
        patient_mrn="—",
        patient_sex="U",
        patient_birth_date="",
        ordering_physician="",
        clinical_info="",
        specimens=[{"label": "A", "site": "—", "procedure": "—"}],
        logo=department_logo(department),
    )


def preview_report(
    department: Department,
    template_version: TemplateVersion,
    values: dict[str, Any],
    language: str,
    output: str,
) -> Preview:
    """Render a template version (saved, or unsaved and built by the caller) with sample values
    through the same sandboxed renderer as real reports. Raises ``PreviewRejected`` listing
    every problem of the dataset, layout, values, language or output format."""
    problems: list[str] = []
    if language not in REPORT_STRINGS:
        problems.append(f"language {language!r} is not one of zh, en")
    if output not in ("html", "pdf"):
        problems.append(f"format {output!r} is not html or pdf")
    try:
        dataset = check_content(TemplateContent.of(template_version))
    except TemplateInvalid as exc:
        raise PreviewRejected([*exc.problems, *problems]) from None
    problems.extend(
        f"values: {p.describe(language)}"
        for p in findings_problems(dataset, values, complete=False)
    )
    if problems:
        raise PreviewRejected(problems)
    header = preview_header(department, language)
    try:
        if output == "html":
            context = build_report_context(
                dataset, header, values, {}, language, ReportStatus.DRAFT
            )
            html = render_report_html(
                context,
                layout_html=effective_layout_html(
                    template_version.layout_html, template_version.layout_spec
                ),
                logo=header.logo or None,
            )
            return Preview(html.encode(), "text/html; charset=utf-8", None)
        pdf = render_report_pdf(template_version, dataset, header, values, {}, language)
    except RenderError as exc:
        raise PreviewRejected([f"layout: {exc}"]) from None
    return Preview(pdf.content, "application/pdf", pdf.pages)


def queue_deliveries(report: Report) -> int:
    """Hand a signed version to the outbox: the one place sign-out and amendments do so.

    Call inside the transaction that stores the version and, before this, its signature
    record: the outbox writes its deliveries in that transaction and holds each one until the
    signature's ``recall_until`` (a recalled sign-out's deliveries are withdrawn, never sent).
    Returns how many deliveries the version has."""
    return len(queue_report_deliveries(report))


def create_draft_report(
    run: Run,
    values: dict[str, Any],
    provenance: dict[str, Any],
    language: str,
    *,
    figures: Sequence[Figure] = (),
) -> tuple[Report, RenderedPdf]:
    """Validate ``values`` against the run's template version (a draft may be incomplete),
    render it (with optional ``figures``, e.g. tiles) and store a new draft report version.

    A model's value for an element that does not apply to the case is dropped, never printed,
    and kept with the reason in the report's provenance (``dropped_values`` reads it back)."""
    template_version = run.template_version
    dataset = parse_dataset(template_version.dataset)
    values, provenance, _ = drop_inapplicable_model_values(dataset, values, provenance)
    problems = findings_problems(dataset, values, complete=False)
    if problems:
        raise FindingsRejected([str(p) for p in problems])
    header = ReportHeader.from_case(run.case)
    rendered = render_report_pdf(
        template_version, dataset, header, values, provenance, language, figures=figures
    )
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=run.case_id)
        latest = case.reports.aggregate(n=Max("version_no"))["n"] or 0
        report = Report(
            case=case,
            run=run,
            template_version=template_version,
            version_no=latest + 1,
            status=ReportStatus.DRAFT,
            language=language,
            data=values,
            provenance=provenance,
            pdf_sha256=rendered.sha256,
        )
        report.pdf.save(
            f"{case.accession}-v{latest + 1}.pdf", ContentFile(rendered.content), save=False
        )
        report.save()
        record_event(
            AuditAction.REPORT_DRAFTED,
            report,
            actor_label="worker",
            department=case.department,
            run=run.pk,
            sha256=rendered.sha256,
        )
    return report, rendered
