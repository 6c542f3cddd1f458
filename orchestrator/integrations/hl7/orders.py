"""What an ORM^O01 or OML^O21 order (HL7 2.3–2.5.1) says: the checks that decide an AR (message
type, event, version, processing id, control id) and the order itself — patient, accession,
specimens with their order code, specimen type, observations and tile references — as a case
document for ``orchestrator.cases.services.parse_case_document``.

Which field carries what is written in docs/hl7-conformance.md; keep the two in step.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from orchestrator.integrations.hl7.message import (
    DATA_TYPE_ERROR,
    REQUIRED_FIELD_MISSING,
    SEGMENT_SEQUENCE_ERROR,
    TABLE_VALUE_NOT_FOUND,
    UNSUPPORTED_EVENT_CODE,
    UNSUPPORTED_MESSAGE_TYPE,
    UNSUPPORTED_PROCESSING_ID,
    UNSUPPORTED_VERSION_ID,
    Header,
    Message,
    Problem,
    Segment,
)

VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1")
EVENTS = {"ORM": "O01", "OML": "O21"}
# ORC-1 order control codes read: a new order, or a change to one (empty reads as new).
ORDER_CONTROLS = {"", "NW", "XO"}
SEX_CODES = {"F": "F", "M": "M", "O": "O", "U": "U", "A": "O", "N": "U", "": "U"}
TILE_SCHEMES = ("sample:", "file:")


def header_problems(header: Header, processing_ids: list[str]) -> list[Problem]:
    """Every reason to reject (AR) a message whose bytes could be read: its type, event,
    version, processing id and control id."""
    problems: list[Problem] = []
    kind, event = header.get(9, 1).strip().upper(), header.get(9, 2).strip().upper()
    if kind not in EVENTS:
        problems.append(
            Problem(
                "MSH",
                1,
                9,
                UNSUPPORTED_MESSAGE_TYPE,
                f"message type {kind or '(empty)'} is not accepted; send ORM^O01 or OML^O21",
                component=1,
            )
        )
    elif event != EVENTS[kind]:
        problems.append(
            Problem(
                "MSH",
                1,
                9,
                UNSUPPORTED_EVENT_CODE,
                f"event {event or '(empty)'} is not accepted with {kind}; "
                f"send {kind}^{EVENTS[kind]}",
                component=2,
            )
        )
    if header.version not in VERSIONS:
        problems.append(
            Problem(
                "MSH",
                1,
                12,
                UNSUPPORTED_VERSION_ID,
                f"version {header.version or '(empty)'} is not accepted; send one of "
                + ", ".join(VERSIONS),
            )
        )
    processing = header.get(11).strip().upper()
    if processing not in processing_ids:
        problems.append(
            Problem(
                "MSH",
                1,
                11,
                UNSUPPORTED_PROCESSING_ID,
                f"processing id {processing or '(empty)'} is not accepted here; this listener "
                f"takes {'/'.join(processing_ids)}",
            )
        )
    if not header.control_id.strip():
        problems.append(
            Problem("MSH", 1, 10, REQUIRED_FIELD_MISSING, "MSH-10 message control id is empty")
        )
    return problems


@dataclass
class SpecimenOrder:
    """One specimen of the order: an SPM segment, or an OBR without one."""

    label: str
    order_code: str
    order_text: str
    specimen_type: str
    site: str
    procedure: str
    data: dict[str, Any] = field(default_factory=dict)
    tiles: list[dict[str, str]] = field(default_factory=list)
    # Where the site came from, for a problem about it.
    site_location: tuple[str, int, int] = ("OBR", 1, 15)


@dataclass
class Order:
    accession: str
    order_control: str
    patient: dict[str, Any]
    clinical_info: str
    ordering_physician: str
    specimens: list[SpecimenOrder]
    problems: list[Problem]

    def document(self, case_type: str) -> dict[str, Any]:
        """The order as a case document (see demo/cases/*.json)."""
        return {
            "accession": self.accession,
            "case_type": case_type,
            "patient": self.patient,
            "clinical_info": self.clinical_info,
            "ordering_physician": self.ordering_physician,
            "specimens": [
                {
                    "label": s.label,
                    "site": s.site,
                    "procedure": s.procedure,
                    "data": s.data,
                    "tiles": s.tiles,
                }
                for s in self.specimens
            ],
        }


def _is_cjk(text: str) -> bool:
    return any(unicodedata.east_asian_width(c) in ("W", "F") for c in text)


def person_name(family: str, given: str) -> str:
    """A name as people write it: 张三 for family 张 given 三, John Smith otherwise."""
    if _is_cjk(family + given):
        return f"{family}{given}"
    return " ".join(part for part in (given, family) if part)


def _label(index: int) -> str:
    label = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        label = chr(ord("A") + rest) + label
    return label


def _birth_date(text: str, problems: list[Problem]) -> str | None:
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})(?:\d{0,6}(?:\.\d+)?)?(?:[+-]\d{4})?", text)
    if match:
        try:
            return dt.date(*(int(g) for g in match.groups())).isoformat()
        except ValueError:
            pass
    problems.append(Problem("PID", 1, 7, DATA_TYPE_ERROR, "PID-7 is not a date YYYYMMDD"))
    return None


def _patient(msg: Message, pid: Segment, problems: list[Problem]) -> dict[str, Any]:
    mrn = ""
    for index, _rep in enumerate(msg.repetitions(pid, 3), start=1):
        value = msg.value(pid, 3, 1, repetition=index)
        kind = msg.value(pid, 3, 5, repetition=index).upper()
        if value and (not mrn or kind == "MR"):
            mrn = value
            if kind == "MR":
                break
    if not mrn:
        problems.append(Problem("PID", 1, 3, REQUIRED_FIELD_MISSING, "PID-3 patient id is empty"))
    name = person_name(msg.value(pid, 5, 1), msg.value(pid, 5, 2))
    if not name:
        problems.append(Problem("PID", 1, 5, REQUIRED_FIELD_MISSING, "PID-5 patient name is empty"))
    sex = msg.value(pid, 8).upper()
    if sex not in SEX_CODES:
        problems.append(
            Problem("PID", 1, 8, TABLE_VALUE_NOT_FOUND, f"PID-8 sex {sex!r} is not F, M, O or U")
        )
    return {
        "name": name,
        "mrn": mrn,
        "sex": SEX_CODES.get(sex, "U"),
        "birth_date": _birth_date(msg.value(pid, 7), problems),
    }


def _observation(
    msg: Message, obx: Segment, specimen: SpecimenOrder, problems: list[Problem]
) -> None:
    """OBX in an order: NM values (repeated: a list) and text into the specimen's data keyed by
    OBX-3's code, RP references into its tiles. Other value types are kept in the raw only."""
    kind = msg.value(obx, 2).upper()
    code = msg.value(obx, 3, 1)
    if not code:
        problems.append(
            Problem("OBX", obx.sequence, 3, REQUIRED_FIELD_MISSING, "OBX-3 code is empty")
        )
        return
    values = msg.values(obx, 5)
    if kind == "NM":
        try:
            numbers = [float(v) for v in values]
        except ValueError:
            problems.append(
                Problem("OBX", obx.sequence, 5, DATA_TYPE_ERROR, "OBX-5 is not a number (NM)")
            )
            return
        specimen.data[code] = numbers[0] if len(numbers) == 1 else numbers
    elif kind in ("ST", "TX", "FT", "CE", "CWE", "ID", "IS"):
        specimen.data[code] = values[0] if len(values) == 1 else values
    elif kind == "RP":
        for uri in values:
            if not uri.startswith(TILE_SCHEMES) or len(uri) <= len("file:"):
                problems.append(
                    Problem(
                        "OBX",
                        obx.sequence,
                        5,
                        DATA_TYPE_ERROR,
                        "OBX-5 tile reference must be sample:<name> or file:<path>",
                    )
                )
                return
            specimen.tiles.append({"uri": uri, "stain": msg.value(obx, 3, 2) or code})


def _from_obr(msg: Message, obr: Segment, index: int) -> SpecimenOrder:
    order_text = msg.value(obr, 4, 2)
    site = msg.value(obr, 15, 4, 2) or msg.value(obr, 15, 4, 1)
    site = site or msg.value(obr, 15, 1, 2) or msg.value(obr, 15, 1, 1) or order_text
    return SpecimenOrder(
        label=_label(index),
        order_code=msg.value(obr, 4, 1),
        order_text=order_text,
        specimen_type=msg.value(obr, 15, 1, 1),
        site=site,
        procedure=msg.value(obr, 15, 3) or order_text,
        site_location=("OBR", obr.sequence, 15),
    )


def _from_spm(msg: Message, spm: Segment, parent: SpecimenOrder, index: int) -> SpecimenOrder:
    site = msg.value(spm, 8, 2) or msg.value(spm, 8, 1)
    type_text = msg.value(spm, 4, 2)
    return SpecimenOrder(
        label=_label(index),
        order_code=parent.order_code,
        order_text=parent.order_text,
        specimen_type=msg.value(spm, 4, 1),
        site=site or type_text or parent.site,
        procedure=msg.value(spm, 7, 2) or msg.value(spm, 7, 1) or parent.procedure,
        site_location=("SPM", spm.sequence, 8),
    )


def read_order(msg: Message) -> Order:
    """The order in ``msg`` with every problem found (each an AE): missing segments, missing or
    malformed patient, accession and observation fields, unknown order control codes."""
    problems: list[Problem] = []
    pid, orc = msg.first("PID"), msg.first("ORC")
    for name, segment in (("PID", pid), ("ORC", orc), ("OBR", msg.first("OBR"))):
        if segment is None:
            problems.append(
                Problem(name, 1, 0, SEGMENT_SEQUENCE_ERROR, f"the order has no {name} segment")
            )
    patient = _patient(msg, pid, problems) if pid else {}
    obr = msg.first("OBR")
    accession = msg.value(orc, 3) or msg.value(obr, 3) or msg.value(orc, 2) or msg.value(obr, 2)
    if orc is not None and not accession:
        problems.append(
            Problem(
                "ORC",
                1,
                3,
                REQUIRED_FIELD_MISSING,
                "no accession: ORC-3/OBR-3 (filler order number) and ORC-2/OBR-2 are empty",
            )
        )
    control = msg.value(orc, 1).upper()
    if orc is not None and control not in ORDER_CONTROLS:
        problems.append(
            Problem(
                "ORC",
                1,
                1,
                TABLE_VALUE_NOT_FOUND,
                f"order control {control} is not accepted; send NW (new) or XO (change)",
            )
        )
    specimens, notes = _walk(msg, problems)
    clinical = [msg.value(s, 13) for s in msg.segments if s.name == "OBR"]
    physician = msg.value(orc, 12, 2) and person_name(msg.value(orc, 12, 2), msg.value(orc, 12, 3))
    if not physician:
        physician = person_name(msg.value(obr, 16, 2), msg.value(obr, 16, 3))
    return Order(
        accession=accession,
        order_control=control or "NW",
        patient=patient,
        clinical_info="\n".join(t for t in [*clinical, *notes] if t),
        ordering_physician=physician,
        specimens=specimens,
        problems=problems,
    )


def _walk(msg: Message, problems: list[Problem]) -> tuple[list[SpecimenOrder], list[str]]:
    """Specimens in message order (an OBR, or each SPM under it) with the OBX that follow them,
    and the NTE comments."""
    specimens: list[SpecimenOrder] = []
    notes: list[str] = []
    current: SpecimenOrder | None = None
    obr_specimen: SpecimenOrder | None = None
    obr_has_spm = False
    for segment in msg.segments:
        if segment.name == "OBR":
            obr_specimen = current = _from_obr(msg, segment, len(specimens))
            specimens.append(current)
            obr_has_spm = False
        elif segment.name == "SPM" and obr_specimen is not None:
            if not obr_has_spm:
                specimens.remove(obr_specimen)  # the OBR's specimens are its SPM segments
                obr_has_spm = True
            current = _from_spm(msg, segment, obr_specimen, len(specimens))
            specimens.append(current)
        elif segment.name == "OBX" and current is not None:
            _observation(msg, segment, current, problems)
        elif segment.name == "NTE":
            notes.append(msg.value(segment, 3))
    for specimen in specimens:
        if not specimen.site:
            where, sequence, number = specimen.site_location
            problems.append(
                Problem(
                    where,
                    sequence,
                    number,
                    REQUIRED_FIELD_MISSING,
                    f"specimen {specimen.label} has no site: give the specimen source site "
                    "(OBR-15 or SPM-8) or the order text (OBR-4.2)",
                )
            )
    return specimens, notes
