"""Creating cases from order documents (JSON now; HL7 orders arrive in the integrations app)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import transaction

from orchestrator.accounts.models import Department
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.cases.document_schema import (
    CASE_DOCUMENT,
    DATE,
    PATIENT,
    SLUG,
    SPECIMEN,
    TILE,
    unknown_keys,
)
from orchestrator.cases.models import Case, Priority, Sex, Specimen
from orchestrator.cases.slides import slide_reference_problems


class CaseDocumentInvalid(ValueError):
    """A case document is malformed; ``problems`` names every field that is wrong."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def _text(
    doc: dict[str, Any],
    key: str,
    problems: list[str],
    schema: dict[str, Any],
    *,
    required: bool = True,
    prefix: str = "",
) -> str:
    value = doc.get(key, "")
    limit = schema["properties"][key].get("maxLength")
    if not isinstance(value, str) or (required and not value.strip()):
        problems.append(f"{prefix}{key}: {'required text' if required else 'must be text'}")
        return ""
    if "\x00" in value:
        problems.append(f"{prefix}{key}: must not contain a NUL character")
        return ""
    if limit is not None and len(value) > limit:
        problems.append(f"{prefix}{key}: at most {limit} characters")
        return ""
    return value.strip()


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _tile_problems(tile: Any, where: str) -> list[str]:
    """What is wrong with one tile reference (document_schema.TILE), each problem prefixed
    with ``where`` the tile is; nothing when it is fine."""
    if not isinstance(tile, dict):
        return [f'{where}: must be a {{"uri": ...}} reference']
    problems = unknown_keys(tile, TILE, f"{where}.")
    uri = tile.get("uri")
    if not isinstance(uri, str) or not uri or "\x00" in uri:
        problems.append(f"{where}.uri: required text")
    stain = tile.get("stain", "")
    if not isinstance(stain, str) or "\x00" in stain:
        problems.append(f"{where}.stain: must be text")
    region = tile.get("region")
    if "region" in tile and not (
        isinstance(region, list) and len(region) == 4 and all(_whole(v) for v in region)
    ):
        problems.append(f"{where}.region: must be [x, y, width, height] in whole level-0 pixels")
    if "level" in tile and not _whole(tile["level"]):
        problems.append(f"{where}.level: must be a whole number from 0")
    if not problems:
        problems.extend(f"{where}: {problem}" for problem in slide_reference_problems(tile))
    return problems


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
        inner: list[str] = unknown_keys(item, SPECIMEN)
        spec = {
            "label": _text(item, "label", inner, SPECIMEN),
            "site": _text(item, "site", inner, SPECIMEN),
            "procedure": _text(item, "procedure", inner, SPECIMEN, required=False),
            "data": item.get("data", {}),
            "tiles": item.get("tiles", []),
        }
        if not isinstance(spec["data"], dict):
            inner.append("data: must be an object of measurements")
        if not isinstance(spec["tiles"], list):
            inner.append('tiles: must be a list of {"uri": ...} references')
        else:
            for n, tile in enumerate(spec["tiles"]):
                inner.extend(_tile_problems(tile, f"tiles[{n}]"))
        problems.extend(f"{where}.{p}" for p in inner)
        specimens.append(spec)
    labels = [s["label"] for s in specimens]
    if len(set(labels)) != len(labels):
        problems.append("specimens: labels must be unique")
    return specimens


def _birth_date(patient: dict[str, Any], problems: list[str]) -> dt.date | None:
    birth = patient.get("birth_date")
    if birth is None:
        return None
    try:
        if not isinstance(birth, str) or not re.fullmatch(DATE, birth):
            raise ValueError(birth)
        return dt.date.fromisoformat(birth)
    except ValueError:
        problems.append("patient.birth_date: must be a date YYYY-MM-DD (or null)")
        return None


def parse_case_document(doc: Any) -> dict[str, Any]:
    """Check a case document (document_schema.CASE_DOCUMENT) and return its normalised
    fields; lists every problem, unknown fields included."""
    if not isinstance(doc, dict):
        raise CaseDocumentInvalid(["the case document must be a JSON object"])
    problems = unknown_keys(doc, CASE_DOCUMENT)
    patient = doc.get("patient") if isinstance(doc.get("patient"), dict) else None
    if patient is None:
        problems.append("patient: required object with name and mrn")
        patient = {}
    problems += unknown_keys(patient, PATIENT, "patient.")
    fields: dict[str, Any] = {
        "accession": _text(doc, "accession", problems, CASE_DOCUMENT),
        "case_type": _text(doc, "case_type", problems, CASE_DOCUMENT),
        "patient_name": _text(patient, "name", problems, PATIENT, prefix="patient."),
        "patient_mrn": _text(patient, "mrn", problems, PATIENT, prefix="patient."),
        "clinical_info": _text(doc, "clinical_info", problems, CASE_DOCUMENT, required=False),
        "ordering_physician": _text(
            doc, "ordering_physician", problems, CASE_DOCUMENT, required=False
        ),
        "findings": doc.get("findings", {}),
    }
    # As JSON Schema's pattern reads in Python (``$`` also before a final newline).
    raw_type = str(doc.get("case_type", ""))
    if fields["case_type"] and not re.search(SLUG, raw_type):
        problems.append("case_type: must be a slug (letters, digits, '-' and '_')")
    fields["priority"] = doc.get("priority", Priority.ROUTINE)
    if fields["priority"] not in Priority.values:
        problems.append(f"priority: must be one of {', '.join(Priority.values)}")
    fields["patient_sex"] = patient.get("sex", Sex.UNKNOWN)
    if fields["patient_sex"] not in Sex.values:
        problems.append(f"patient.sex: must be one of {', '.join(Sex.values)}")
    fields["patient_birth_date"] = _birth_date(patient, problems)
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
