"""ORU^R01 v2.5.1 for signed report versions: strictly valid (hl7apy), every status mapped,
every element type encoded as the receiver expects, the PDF embedded byte for byte."""

from __future__ import annotations

import hashlib

import hl7
import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.accounts.models import User
from orchestrator.demo_data import DemoData
from orchestrator.integrations.hl7.oru import build_oru, escape
from orchestrator.reports.models import ReportStatus

from .conftest import ed_payload, new_case, segments, signed_report, strictly_valid

MODEL_SOURCE = {
    "kind": "model",
    "endpoint": "ihc-dab",
    "model_name": "ihc-dab",
    "model_version": "1",
    "run": "42",
    "node": "ki67",
}


def oru(report, control_id: str = "PF00000000000000001") -> str:  # type: ignore[no-untyped-def]
    pdf = report.pdf.open("rb").read()
    return build_oru(
        report, pdf, control_id=control_id, at=timezone.now(), sending_application="PATHFLOW"
    )


def test_a_final_report_is_a_strictly_valid_oru_with_the_pdf_byte_for_byte(
    outbox_demo: DemoData, signer: User
) -> None:
    case = new_case(outbox_demo.department)
    data = {**case.findings, "ki67_index": 32.5}
    report = signed_report(case, signer, data=data, provenance={"ki67_index": [MODEL_SOURCE]})

    message = oru(report)

    parsed = strictly_valid(message)
    assert parsed.msh.msh_9.to_er7() == "ORU^R01^ORU_R01"
    assert parsed.msh.msh_10.to_er7() == "PF00000000000000001"
    assert parsed.msh.msh_12.to_er7() == "2.5.1"
    assert parsed.msh.msh_18.to_er7() == "UNICODE UTF-8"
    [pid] = segments(message, "PID")
    assert pid[3] == "MRN-00987654^^^pathology^MR"
    assert pid[5] == "张三"
    assert (pid[7], pid[8]) == ("19710602", "F")
    [obr] = segments(message, "OBR")
    assert obr[3] == "S26-00001^PATHFLOW"
    assert obr[25] == "F"
    assert obr[32].split("&")[0] == str(signer.pk)
    assert segments(message, "ORC")[0][1] == "RE"
    received = ed_payload(message)
    assert received == report.pdf.open("rb").read()
    assert hashlib.sha256(received).hexdigest() == report.pdf_sha256
    assert received.startswith(b"%PDF-")
    obx = segments(message, "OBX")
    assert {o[11] for o in obx} == {"F"}
    assert [o[1] for o in obx] == [str(n) for n in range(1, len(obx) + 1)]


def test_each_element_type_is_encoded_with_its_hl7_type(
    outbox_demo: DemoData, signer: User
) -> None:
    case = new_case(outbox_demo.department)
    data = {**case.findings, "ki67_index": 32.5}
    report = signed_report(case, signer, data=data, provenance={"ki67_index": [MODEL_SOURCE]})

    message = oru(report)

    by_element = {o[3].split("^")[0]: o for o in segments(message, "OBX")}
    # A single select: CWE code^label^coding system.
    assert by_element["histologic_type"][2] == "CWE"
    code, label, system = by_element["histologic_type"][5].split("^")
    assert code == "invasive_nst"
    assert system == "99PATHFLOW"
    assert label
    # A multi select: one repeat per answer.
    assert by_element["tumour_site"][5].count("~") == len(case.findings["tumour_site"]) - 1
    # A number: NM with its UCUM unit.
    assert by_element["tumour_size_mm"][2:7] == [
        "NM",
        by_element["tumour_size_mm"][3],
        "",
        "18",
        "mm^mm^UCUM",
    ]
    assert by_element["ki67_index"][5] == "32.5"
    assert by_element["ki67_index"][6] == "%^%^UCUM"
    # A date: DT; a boolean: CWE Y/N of HL7 table 0136.
    assert by_element["procedure_date"][2:6:3] == ["DT", "20250318"]
    assert by_element["dcis_present"][5] == "Y^Yes^HL70136"
    # The AI value's provenance follows its OBX as an NTE.
    lines = message.split("\r")
    ki67 = next(i for i, s in enumerate(lines) if s.startswith("OBX|") and "|ki67_index^" in s)
    assert lines[ki67 + 1].startswith("NTE|1|O|AI: model ihc-dab version 1 via endpoint ihc-dab")
    # The PDF comes last, as ED.
    assert segments(message, "OBX")[-1][2] == "ED"


@pytest.mark.parametrize(
    ("status", "obr_25", "obx_11"),
    [
        (ReportStatus.DRAFT, "R", "R"),
        (ReportStatus.PRELIMINARY, "P", "P"),
        (ReportStatus.FINAL, "F", "F"),
        (ReportStatus.CORRECTED, "C", "C"),
        (ReportStatus.AMENDED, "C", "C"),
        (ReportStatus.ADDENDUM, "C", "C"),
    ],
)
def test_every_report_status_maps_to_obr_25_and_obx_11(
    outbox_demo: DemoData, signer: User, status: str, obr_25: str, obx_11: str
) -> None:
    report = signed_report(new_case(outbox_demo.department), signer, status=status)

    message = oru(report)

    strictly_valid(message)
    assert segments(message, "OBR")[0][25] == obr_25
    assert {o[11] for o in segments(message, "OBX")} == {obx_11}
    # An unsigned version names no interpreter.
    signed = status not in (ReportStatus.DRAFT, ReportStatus.PRELIMINARY)
    assert bool(segments(message, "OBR")[0][32:33] and segments(message, "OBR")[0][32]) is signed


def test_free_text_is_escaped_and_long_text_goes_as_tx(outbox_demo: DemoData, signer: User) -> None:
    case = new_case(outbox_demo.department)
    text = "margin | clear ^ see & note ~ \\ end"
    assert escape(text) == "margin \\F\\ clear \\S\\ see \\T\\ note \\R\\ \\E\\ end"
    from orchestrator.integrations.hl7 import oru as module
    from workflows.datasets import Element

    element = Element(id="comment", type="text", label={"zh": "备注", "en": "Comment"})
    assert module._value(element, text, "en") == ("ST", escape(text), "")
    assert module._value(element, "line one\nline two", "en")[0:2] == (
        "TX",
        "line one\\X0A\\line two",
    )
    assert module._value(element, "x" * 200, "en")[0] == "TX"
    report = signed_report(case, signer)
    strictly_valid(oru(report))


def test_a_chinese_report_keeps_its_labels_intact_in_utf_8(
    outbox_demo: DemoData, signer: User
) -> None:
    report = signed_report(new_case(outbox_demo.department), signer, language="zh")

    message = oru(report)

    strictly_valid(message)
    by_element = {o[3].split("^")[0]: o for o in segments(message, "OBX")}
    assert by_element["histologic_type"][3].split("^")[1] == "组织学类型"
    assert by_element["dcis_present"][5] == "Y^Yes^HL70136"  # HL7's own table stays English


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n|^&~\\"),
        min_size=1,
    )
)
def test_any_text_survives_escaping_and_python_hl7_reads_it_back(text: str) -> None:
    from orchestrator.integrations.hl7 import oru as module
    from workflows.datasets import Element

    element = Element(id="comment", type="text", label={"zh": "备注", "en": "Comment"})
    value_type, value, _ = module._value(element, text, "en")
    message = (
        "MSH|^~\\&|PATHFLOW|pathology|||20260101000000+0000||ORU^R01^ORU_R01|PF1|P|2.5.1\r"
        f"OBX|1|{value_type}|comment^Comment^99PATHFLOW||{value}||||||F\r"
    )

    parsed = hl7.parse(message)
    obx = parsed.segment("OBX")
    assert len(obx) == 12  # no delimiter in the text split the segment
    assert parsed.unescape(str(obx[5])) == text
