"""What a report's statuses, coding systems and units become in HL7 v2 and FHIR R4: one table
each, shared by the ORU^R01 builder and the FHIR builder and documented in
``docs/integration-outbox.md``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from orchestrator.reports.models import ReportStatus


@dataclass(frozen=True)
class StatusCodes:
    obr_25: str  # HL7 table 0123, result status of the order
    obx_11: str  # HL7 table 0085, observation result status
    fhir: str  # DiagnosticReport.status / Observation.status (value set below)


# draft: an AI draft nobody has verified — HL7 "R" (results stored, not yet verified);
# addendum: the signed report with added text, sent as a correction of what the receiver has.
REPORT_STATUS_CODES: dict[str, StatusCodes] = {
    ReportStatus.DRAFT: StatusCodes("R", "R", "preliminary"),
    ReportStatus.PRELIMINARY: StatusCodes("P", "P", "preliminary"),
    ReportStatus.FINAL: StatusCodes("F", "F", "final"),
    ReportStatus.CORRECTED: StatusCodes("C", "C", "corrected"),
    ReportStatus.AMENDED: StatusCodes("C", "C", "amended"),
    ReportStatus.ADDENDUM: StatusCodes("C", "C", "appended"),
}

# FHIR R4 value sets our resources must stay inside (checked beside fhir.resources' own rules).
DIAGNOSTIC_REPORT_STATUSES = frozenset(
    {
        "registered",
        "partial",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "appended",
        "cancelled",
        "entered-in-error",
        "unknown",
    }
)
OBSERVATION_STATUSES = frozenset(
    {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    }
)


def observation_status(report_status: str) -> str:
    """Observation.status has no ``appended``: an addendum's values are the amended ones."""
    status = REPORT_STATUS_CODES[report_status].fhir
    return "amended" if status == "appended" else status


# Coding systems of dataset answers (``system`` in dataset.json): well-known ones by their
# HL7 v2 (table 0396) and FHIR names; any other is a local system: "99<NAME>" in HL7,
# "urn:pathflow:codesystem:<name>" in FHIR.
_KNOWN_SYSTEMS = {
    "sct": ("SCT", "http://snomed.info/sct"),
    "snomed": ("SCT", "http://snomed.info/sct"),
    "snomed-ct": ("SCT", "http://snomed.info/sct"),
    "loinc": ("LN", "http://loinc.org"),
    "ucum": ("UCUM", "http://unitsofmeasure.org"),
}
LOCAL_SYSTEM_URI = "urn:pathflow:codesystem:"


def hl7_coding_system(system: str) -> str:
    known = _KNOWN_SYSTEMS.get(system.lower())
    if known:
        return known[0]
    return ("99" + re.sub(r"[^A-Z0-9]", "", system.upper()))[:20]


def fhir_coding_system(system: str) -> str:
    known = _KNOWN_SYSTEMS.get(system.lower())
    if known:
        return known[1]
    return LOCAL_SYSTEM_URI + re.sub(r"[^a-z0-9._-]", "-", system.lower())


# Dataset units as UCUM codes (the printed unit stays the display text).
_UCUM = {"µm": "um", "μm": "um", "%": "%", "mm": "mm", "cm": "cm", "g": "g", "mg": "mg"}


def ucum(unit: str) -> str:
    """The UCUM code of a dataset unit ("µm" → "um"); units UCUM writes the same pass as
    they are, and a unit it does not know is written in braces (an annotation, "{HPF}")."""
    if unit in _UCUM:
        return _UCUM[unit]
    if re.fullmatch(r"[A-Za-z0-9./]+", unit):
        return unit
    return "{" + re.sub(r"[{}]", "", unit) + "}"


def provenance_notes(sources: Iterable[dict[str, Any]]) -> list[str]:
    """One line per model source of an element: model, version, endpoint and run (no values)."""
    notes = []
    for source in sources:
        if source.get("kind") != "model":
            continue
        version = source.get("model_version") or "?"
        notes.append(
            f"AI: model {source.get('model_name', '?')} version {version} via endpoint "
            f"{source.get('endpoint', '?')}, run {source.get('run', '?')}"
        )
    return notes
