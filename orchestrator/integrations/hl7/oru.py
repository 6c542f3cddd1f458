"""ORU^R01 (HL7 v2.5.1) for one report version: discrete synoptic values plus the PDF.

    MSH  sending app/facility (PATHFLOW / department code), MSH-7 build time, MSH-10 the
         delivery's control id (stable on every attempt), MSH-12 2.5.1, MSH-18 UNICODE UTF-8
    PID  PID-3 MRN (assigning authority: department code, type MR), PID-5 name, -7 birth, -8 sex
    PV1  PV1-2 "U" (the laboratory does not know the encounter)
    ORC  ORC-1 RE, ORC-3 accession (filler order number), ORC-5 CM/IP, ORC-12 orderer
    OBR  OBR-3 accession, OBR-4 template (slug^title^99PATHFLOW), OBR-7 report time,
         OBR-22 status change (signed) time, OBR-25 result status, OBR-32 signing pathologist
    OBX  one per answered element of the template version, in dataset order: CWE (code^label^
         coding system; a multi-select repeats), NM (+ OBX-6 UCUM unit), ST/TX (escaped),
         DT, CWE Y/N (HL70136) for booleans; OBX-11 from the report status
    NTE  after an OBX filled by a model: the model, version, endpoint and run (AI provenance)
    OBX  last: ED ``^application^pdf^Base64^<the stored PDF, base64>``

Status mapping (OBR-25 / OBX-11) lives in ``orchestrator/integrations/coding.py``.
"""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from orchestrator.integrations.coding import (
    REPORT_STATUS_CODES,
    hl7_coding_system,
    provenance_notes,
    ucum,
)
from orchestrator.reports.models import Report
from workflows.datasets import Element, assess, parse_dataset

VERSION = "2.5.1"
ENCODING = "UNICODE UTF-8"
LOCAL_SYSTEM = "99PATHFLOW"
# ST holds at most 199 characters in v2.5.1; longer or multi-line text goes as TX.
ST_MAX = 199
_ESCAPES = (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\"))


def escape(text: str) -> str:
    """Text as an HL7 v2 value: delimiters as escape sequences, line breaks as hex escapes."""
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)
    return text.replace("\r", "\\X0D\\").replace("\n", "\\X0A\\")


def _components(*parts: str) -> str:
    return "^".join(escape(p) for p in parts).rstrip("^")


def _segment(name: str, fields: dict[int, str]) -> str:
    """A segment from {field number: already-encoded value}."""
    last = max(fields) if fields else 0
    return "|".join([name, *(fields.get(i, "") for i in range(1, last + 1))])


def hl7_time(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y%m%d%H%M%S%z")


def _pid(report: Report) -> str:
    case = report.case
    birth = case.patient_birth_date.strftime("%Y%m%d") if case.patient_birth_date else ""
    return _segment(
        "PID",
        {
            1: "1",
            3: _components(case.patient_mrn, "", "", case.department.code, "MR"),
            5: _components(case.patient_name),
            7: birth,
            8: case.patient_sex,
        },
    )


def _orc_obr(report: Report, sending_app: str) -> list[str]:
    case = report.case
    codes = REPORT_STATUS_CODES[report.status]
    filler = _components(case.accession, sending_app)
    dataset = report.template_version.dataset
    title = dataset.get("title", {}).get(report.language) or report.template_version.template.name
    orc = _segment(
        "ORC",
        {
            1: "RE",
            3: filler,
            5: "CM" if codes.obr_25 in ("F", "C") else "IP",
            12: _components("", case.ordering_physician) if case.ordering_physician else "",
        },
    )
    changed = report.signed_at or report.created_at
    obr = _segment(
        "OBR",
        {
            1: "1",
            3: filler,
            4: _components(report.template_version.template.slug, title, LOCAL_SYSTEM),
            7: hl7_time(report.created_at),
            22: hl7_time(changed),
            25: codes.obr_25,
            32: _interpreter(report),
        },
    )
    return [orc, obr]


def _interpreter(report: Report) -> str:
    """OBR-32 (NDL, whose first component is a CNN: id & family name & given name)."""
    user = report.signed_by
    if user is None:
        return ""
    family = user.last_name or user.display_name or user.get_username()
    return "&".join(escape(part) for part in (str(user.pk), family, user.first_name)).rstrip("&")


def _number(element: Element, value: Any) -> str:
    return f"{Decimal(value):.{element.precision}f}"


def _value(element: Element, value: Any, language: str) -> tuple[str, str, str]:
    """(OBX-2 value type, OBX-5 encoded, OBX-6 encoded) of one answer."""
    kind = element.type
    if kind in ("single_select", "multi_select"):
        codes = value if isinstance(value, list) else [value]
        repeats = []
        for code in codes:
            answer = element.answer(code)
            label = answer.label[language] if answer else str(code)
            system = hl7_coding_system(answer.system if answer else "pathflow")
            repeats.append(_components(str(code), label, system))
        return "CWE", "~".join(repeats), ""
    if kind == "number":
        unit = _components(ucum(element.unit), element.unit, "UCUM") if element.unit else ""
        return "NM", _number(element, value), unit
    if kind == "boolean":
        return "CWE", _components(*(("Y", "Yes") if value else ("N", "No")), "HL70136"), ""
    if kind == "date":
        return "DT", str(value).replace("-", ""), ""
    text = str(value)
    kind_text = "ST" if len(text) <= ST_MAX and "\n" not in text and "\r" not in text else "TX"
    return kind_text, escape(text), ""


def observation_segments(report: Report) -> list[str]:
    """One OBX per answered, applicable element (dataset order), each followed by its NTEs."""
    dataset = parse_dataset(report.template_version.dataset)
    applies = assess(dataset, report.data).applies
    status = REPORT_STATUS_CODES[report.status].obx_11
    segments: list[str] = []
    number = 0
    for element in dataset.elements():
        if element.id not in report.data or applies.get(element.id) is not True:
            continue
        number += 1
        value_type, value, units = _value(element, report.data[element.id], report.language)
        identifier = _components(element.id, element.label[report.language], LOCAL_SYSTEM)
        segments.append(
            _segment(
                "OBX",
                {1: str(number), 2: value_type, 3: identifier, 5: value, 6: units, 11: status},
            )
        )
        for index, note in enumerate(provenance_notes(report.provenance.get(element.id, []))):
            segments.append(
                _segment(
                    "NTE",
                    {1: str(index + 1), 2: "O", 3: escape(note), 4: "AI^AI provenance^99PATHFLOW"},
                )
            )
    return segments


def pdf_segment(number: int, pdf: bytes, status: str) -> str:
    payload = "^application^pdf^Base64^" + base64.b64encode(pdf).decode("ascii")
    identifier = _components("PDF", "Report PDF", LOCAL_SYSTEM)
    return _segment("OBX", {1: str(number), 2: "ED", 3: identifier, 5: payload, 11: status})


def build_oru(
    report: Report,
    pdf: bytes,
    *,
    control_id: str,
    at: dt.datetime,
    sending_application: str,
    receiving_application: str = "",
    receiving_facility: str = "",
) -> str:
    """The ORU^R01 message (segments joined by CR) for ``report`` with ``pdf`` embedded.
    ``report`` must come with its case, department, template version and signer loaded."""
    if report.status not in REPORT_STATUS_CODES:
        raise ValueError(f"report status {report.status!r} has no HL7 mapping")
    msh = "MSH|^~\\&|" + "|".join(
        [
            escape(sending_application),
            escape(report.case.department.code),
            escape(receiving_application),
            escape(receiving_facility),
            hl7_time(at),
            "",
            "ORU^R01^ORU_R01",
            control_id,
            "P",
            VERSION,
            "",
            "",
            "",
            "",
            "",
            ENCODING,
        ]
    )
    observations = observation_segments(report)
    obx_count = sum(1 for s in observations if s.startswith("OBX"))
    status = REPORT_STATUS_CODES[report.status].obx_11
    segments = [
        msh,
        _pid(report),
        _segment("PV1", {1: "1", 2: "U"}),
        *_orc_obr(report, sending_application),
        *observations,
        pdf_segment(obx_count + 1, pdf, status),
    ]
    return "\r".join(segments) + "\r"
