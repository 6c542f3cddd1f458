"""Creating report versions: fill the template version, render, store PDF and its hash."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from orchestrator.audit.services import record_event
from orchestrator.cases.models import Case
from orchestrator.designs.models import TemplateVersion
from orchestrator.reports.models import Report, ReportStatus
from orchestrator.reports.rendering import RenderedPdf, render_html, render_pdf
from orchestrator.reports.strings import REPORT_STRINGS
from orchestrator.runs.models import Run
from workflows.datasets import Dataset, findings_problems, parse_dataset, synoptic_sections


class FindingsRejected(ValueError):
    """Filled data does not fit the template version; ``problems`` lists every one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class ReportHeader:
    """Who and what a report is about, as printed in the letterhead and patient block."""

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

    @classmethod
    def from_case(cls, case: Case) -> ReportHeader:
        return cls(
            hospital_name=case.department.hospital_name,
            department_name=case.department.name,
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
                {"label": s.label, "site": s.site, "procedure": s.procedure}
                for s in case.specimens.all()
            ],
        )

    def case_block(self, language: str) -> dict[str, Any]:
        return {
            **asdict(self),
            "sex_label": REPORT_STRINGS[language]["sex_labels"].get(self.patient_sex, ""),
        }


def _ai_sources(provenance: dict[str, Any]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Number each distinct model source and mark the elements it filled."""
    marks: dict[str, str] = {}
    sources: list[dict[str, Any]] = []
    keys: dict[tuple[str, str, str, str], str] = {}
    for element_id, element_sources in provenance.items():
        for source in element_sources:
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
) -> dict[str, Any]:
    marks, sources = _ai_sources(provenance)
    return {
        "language": language,
        "t": REPORT_STRINGS[language],
        "department": {"name": header.department_name, "hospital_name": header.hospital_name},
        "case": header.case_block(language),
        "report": {
            "title": dataset.title[language],
            "status": status,
            "signed": False,
            "banner": "",
            "generated_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        },
        "sections": synoptic_sections(dataset, values, language),
        "ai_marks": marks,
        "ai_sources": sources,
    }


def render_report_pdf(
    template_version: TemplateVersion,
    dataset: Dataset,
    header: ReportHeader,
    values: dict[str, Any],
    provenance: dict[str, Any],
    language: str,
    status: str = ReportStatus.DRAFT,
) -> RenderedPdf:
    context = build_report_context(dataset, header, values, provenance, language, status)
    html = render_html(context, custom_layout=template_version.layout_html)
    return render_pdf(html, extra_css=template_version.layout_css)


def create_draft_report(
    run: Run, values: dict[str, Any], provenance: dict[str, Any], language: str
) -> tuple[Report, RenderedPdf]:
    """Validate ``values`` against the run's template version (a draft may be incomplete),
    render it and store a new draft report version for the case."""
    template_version = run.template_version
    dataset = parse_dataset(template_version.dataset)
    problems = findings_problems(dataset, values, complete=False)
    if problems:
        raise FindingsRejected([str(p) for p in problems])
    header = ReportHeader.from_case(run.case)
    rendered = render_report_pdf(template_version, dataset, header, values, provenance, language)
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
            "report.drafted",
            report,
            actor_label="worker",
            department=case.department,
            run=run.pk,
            sha256=rendered.sha256,
        )
    return report, rendered
