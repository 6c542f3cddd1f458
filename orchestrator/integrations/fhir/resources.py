"""FHIR R4 resources for one report version, validated with fhir.resources plus our own
value-set checks before anything leaves.

- DiagnosticReport ``pf-<report id>``: identifiers (accession in the department's system, the
  report version), status (``coding.REPORT_STATUS_CODES``), category SP (surgical pathology),
  code LOINC 60568-3 "Pathology Synoptic report", the patient by MRN identifier, effective and
  issued times, the signing pathologist as ``resultsInterpreter``, the Observations as
  ``result`` and the PDF as ``presentedForm`` (base64, SHA-1 hash, as FHIR defines it).
- Observation ``pf-<report id>-<n>``, one per answered element in dataset order: coded answers
  as CodeableConcept (system/code/display; a multi-select as one component per answer),
  numbers as Quantity with UCUM units, text as string, booleans, dates; AI provenance as a note.

fhir.resources 8 carries R5 at its top level; R4 resources are validated with its R4B models,
which are wire-compatible with R4 for DiagnosticReport, Observation and Bundle.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from decimal import Decimal
from typing import Any

from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.observation import Observation
from pydantic import ValidationError

from orchestrator.integrations.coding import (
    DIAGNOSTIC_REPORT_STATUSES,
    OBSERVATION_STATUSES,
    REPORT_STATUS_CODES,
    fhir_coding_system,
    observation_status,
    provenance_notes,
    ucum,
)
from orchestrator.reports.models import Report
from workflows.datasets import Element, assess, parse_dataset

UCUM_SYSTEM = "http://unitsofmeasure.org"
LOINC_SYNOPTIC = {
    "system": "http://loinc.org",
    "code": "60568-3",
    "display": "Pathology Synoptic report",
}
CATEGORY_SP = {
    "system": "http://terminology.hl7.org/CodeSystem/v2-0074",
    "code": "SP",
    "display": "Surgical Pathology",
}
MODELS: dict[str, Any] = {
    "DiagnosticReport": DiagnosticReport,
    "Observation": Observation,
    "Bundle": Bundle,
}


class FhirInvalid(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def report_id(report: Report) -> str:
    return f"pf-{report.pk}"


def accession_system(report: Report) -> str:
    return f"urn:pathflow:accession:{report.case.department.code}"


def mrn_system(department_code: str) -> str:
    return f"urn:pathflow:mrn:{department_code}"


def _instant(moment: Any) -> str:
    return str(timezone.localtime(moment).isoformat(timespec="seconds"))


def _subject(report: Report) -> dict[str, Any]:
    code = report.case.department.code
    return {"identifier": {"system": mrn_system(code), "value": report.case.patient_mrn}}


def _concept(element: Element, code: str, language: str) -> dict[str, Any]:
    answer = element.answer(code)
    coding = {"system": fhir_coding_system(answer.system if answer else "pathflow"), "code": code}
    if answer:
        coding["display"] = answer.label[language]
    return {"coding": [coding], "text": coding.get("display", code)}


def _value(element: Element, value: Any, language: str) -> dict[str, Any]:
    kind = element.type
    if kind == "single_select":
        return {"valueCodeableConcept": _concept(element, value, language)}
    if kind == "number":
        # Rounded as printed; JSON numbers (a precision of 0 stays an integer).
        rounded = Decimal(value).quantize(Decimal(1).scaleb(-element.precision))
        number = int(rounded) if element.precision == 0 else float(rounded)
        quantity: dict[str, Any] = {"value": number}
        if element.unit:
            quantity.update(unit=element.unit, system=UCUM_SYSTEM, code=ucum(element.unit))
        return {"valueQuantity": quantity}
    if kind == "boolean":
        return {"valueBoolean": bool(value)}
    if kind == "date":
        return {"valueDateTime": str(value)}
    return {"valueString": str(value)}


def observations(report: Report) -> list[dict[str, Any]]:
    dataset = parse_dataset(report.template_version.dataset)
    applies = assess(dataset, report.data).applies
    status = observation_status(report.status)
    slug = report.template_version.template.slug
    found: list[dict[str, Any]] = []
    for element in dataset.elements():
        if element.id not in report.data or applies.get(element.id) is not True:
            continue
        value = report.data[element.id]
        label = element.label[report.language]
        code = {
            "coding": [
                {"system": f"urn:pathflow:element:{slug}", "code": element.id, "display": label}
            ],
            "text": label,
        }
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "id": f"{report_id(report)}-{len(found) + 1}",
            "status": status,
            "code": code,
            "subject": _subject(report),
            "effectiveDateTime": _instant(report.created_at),
        }
        if element.type == "multi_select":
            resource["component"] = [
                {"code": code, "valueCodeableConcept": _concept(element, c, report.language)}
                for c in value
            ]
        else:
            resource.update(_value(element, value, report.language))
        notes = provenance_notes(report.provenance.get(element.id, []))
        if notes:
            resource["note"] = [{"text": note} for note in notes]
        found.append(resource)
    return found


def diagnostic_report(
    report: Report, pdf: bytes, results: list[dict[str, Any]], *, contained: bool = False
) -> dict[str, Any]:
    """The DiagnosticReport; ``contained`` puts the Observations inside it (the read API),
    otherwise it references them by id (the bundle the channel pushes)."""
    dataset = report.template_version.dataset
    title = dataset.get("title", {}).get(report.language) or report.template_version.template.name
    resource: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": report_id(report),
        "identifier": [
            {"use": "usual", "system": accession_system(report), "value": report.case.accession},
            {"system": "urn:pathflow:report-version", "value": str(report.pk)},
        ],
        "status": REPORT_STATUS_CODES[report.status].fhir,
        "category": [{"coding": [CATEGORY_SP]}],
        "code": {"coding": [LOINC_SYNOPTIC], "text": title},
        "subject": _subject(report),
        "effectiveDateTime": _instant(report.created_at),
        "issued": _instant(report.signed_at or report.created_at),
        "presentedForm": [
            {
                "contentType": "application/pdf",
                "language": "zh-CN" if report.language == "zh" else "en",
                "data": base64.b64encode(pdf).decode("ascii"),
                "hash": base64.b64encode(hashlib.sha1(pdf).digest()).decode("ascii"),  # noqa: S324 — FHIR defines Attachment.hash as SHA-1
                "title": f"{report.case.accession} v{report.version_no}",
                "creation": _instant(report.created_at),
            }
        ],
    }
    if report.signed_by is not None:
        signer = report.signed_by
        resource["resultsInterpreter"] = [
            {"display": signer.display_name or signer.get_full_name() or signer.get_username()}
        ]
    if contained:
        resource["contained"] = results
        resource["result"] = [{"reference": f"#{r['id']}"} for r in results]
    else:
        resource["result"] = [{"reference": f"Observation/{r['id']}"} for r in results]
    return resource


def transaction_bundle(report: Report, pdf: bytes, key: str) -> dict[str, Any]:
    """What the fhir_rest channel POSTs: PUTs of the Observations and the DiagnosticReport to
    their ids, so that sending it again updates them instead of creating copies."""
    results = observations(report)
    resources = [*results, diagnostic_report(report, pdf, results)]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "identifier": {"system": "urn:pathflow:delivery", "value": key},
        "entry": [
            {
                # Absolute, as FHIR asks, and the same on every send of this report version.
                "fullUrl": "urn:uuid:"
                + str(uuid.uuid5(uuid.NAMESPACE_URL, f"pathflow:{r['resourceType']}/{r['id']}")),
                "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
            }
            for r in resources
        ],
    }


def problems_of(resource: dict[str, Any]) -> list[str]:
    """Every problem fhir.resources finds in ``resource`` plus our value-set checks."""
    kind = resource.get("resourceType", "")
    model = MODELS.get(kind)
    if model is None:
        return [f"resourceType {kind!r} is not one we send"]
    problems: list[str] = []
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        problems.extend(
            f"{kind}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
    if kind == "DiagnosticReport" and resource.get("status") not in DIAGNOSTIC_REPORT_STATUSES:
        problems.append(f"DiagnosticReport.status {resource.get('status')!r} not in value set")
    if kind == "Observation" and resource.get("status") not in OBSERVATION_STATUSES:
        problems.append(f"Observation.status {resource.get('status')!r} not in value set")
    for nested in resource.get("contained", []):
        problems.extend(problems_of(nested))
    for entry in resource.get("entry", []):
        problems.extend(problems_of(entry.get("resource", {})))
    return problems


def checked(resource: dict[str, Any]) -> dict[str, Any]:
    problems = problems_of(resource)
    if problems:
        raise FhirInvalid(problems)
    return resource
