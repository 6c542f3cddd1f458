"""Creating cases from order documents (JSON now; HL7 orders arrive in the integrations app)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from orchestrator.accounts.models import Department
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.cases.models import Case, Priority, Sex, Specimen
from orchestrator.cases.slides import slide_reference_problems


class CaseDocumentInvalid(ValueError):
    """A case document is malformed; ``problems`` names every field that is wrong."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def _text(
    doc: dict[str, Any], key: str, problems: list[str], *, required: bool = True, prefix: str = ""
) -> str:
    value = doc.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        problems.append(f"{prefix}{key}: {'required text' if required else 'must be text'}")
        return ""
    return value.strip()


def _specimens(doc: dict[str, Any], problems: list[str]) -> list[dict[str, Any]]:
    raw = doc.get("specimens")
    if not isinstance(raw, list) or not raw:
        problems.append("specimens: needs at least one specimen")
        return []
    specimens = []
    for index, item in enumerate(raw):
        where = f"specimens[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be an object")
            continue
        inner: list[str] = []
        spec = {
            "label": _text(item, "label", inner),
            "site": _text(item, "site", inner),
            "procedure": _text(item, "procedure", inner, required=False),
            "data": item.get("data", {}),
            "tiles": item.get("tiles", []),
        }
        if not isinstance(spec["data"], dict):
            inner.append("data: must be an object of measurements")
        if not isinstance(spec["tiles"], list) or any(
            not isinstance(t, dict) or not isinstance(t.get("uri"), str) for t in spec["tiles"]
        ):
            inner.append('tiles: must be a list of {"uri": ...} references')
        else:
            inner.extend(
                f"tiles[{n}]: {problem}"
                for n, tile in enumerate(spec["tiles"])
                for problem in slide_reference_problems(tile)
            )
        problems.extend(f"{where}.{p}" for p in inner)
        specimens.append(spec)
    labels = [s["label"] for s in specimens]
    if len(set(labels)) != len(labels):
        problems.append("specimens: labels must be unique")
    return specimens


def parse_case_document(doc: Any) -> dict[str, Any]:
    """Check a case document and return its normalised fields; lists every problem."""
    if not isinstance(doc, dict):
        raise CaseDocumentInvalid(["the case document must be a JSON object"])
    problems: list[str] = []
    patient = doc.get("patient") if isinstance(doc.get("patient"), dict) else None
    if patient is None:
        problems.append("patient: required object with name and mrn")
        patient = {}
    fields: dict[str, Any] = {
        "accession": _text(doc, "accession", problems),
        "case_type": _text(doc, "case_type", problems),
        "patient_name": _text(patient, "name", problems, prefix="patient."),
        "patient_mrn": _text(patient, "mrn", problems, prefix="patient."),
        "clinical_info": _text(doc, "clinical_info", problems, required=False),
        "ordering_physician": _text(doc, "ordering_physician", problems, required=False),
        "findings": doc.get("findings", {}),
    }
    fields["priority"] = doc.get("priority", Priority.ROUTINE)
    if fields["priority"] not in Priority.values:
        problems.append(f"priority: must be one of {', '.join(Priority.values)}")
    fields["patient_sex"] = patient.get("sex", Sex.UNKNOWN)
    if fields["patient_sex"] not in Sex.values:
        problems.append(f"patient.sex: must be one of {', '.join(Sex.values)}")
    birth = patient.get("birth_date")
    try:
        fields["patient_birth_date"] = dt.date.fromisoformat(birth) if birth else None
    except (TypeError, ValueError):
        problems.append("patient.birth_date: must be a date YYYY-MM-DD")
    if not isinstance(fields["findings"], dict):
        problems.append("findings: must be an object keyed by template element ids")
    fields["specimens"] = _specimens(doc, problems)
    if problems:
        raise CaseDocumentInvalid(problems)
    return fields


def create_case(department: Department, doc: Any, *, source: str = "rest") -> Case:
    """Create a case and its specimens from a case document (see demo/cases/*.json)."""
    fields = parse_case_document(doc)
    specimens = fields.pop("specimens")
    if Case.objects.filter(department=department, accession=fields["accession"]).exists():
        raise CaseDocumentInvalid([f"accession: {fields['accession']} already exists"])
    with transaction.atomic():
        case = Case.objects.create(department=department, source=source, **fields)
        Specimen.objects.bulk_create(Specimen(case=case, **s) for s in specimens)
        record_event(AuditAction.CASE_CREATED, case, actor_label=source, department=department)
    return case
