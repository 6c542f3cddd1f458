"""The MLLP listener over real sockets: python-hl7's own client sends orders to a real
``manage.py mllp_listener`` process and reads its ACKs."""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.cases.models import Case
from orchestrator.demo_data import DemoData
from orchestrator.integrations.models import InboundMessage
from orchestrator.runs.models import Run
from tests.orchestrator.integrations.conftest import (
    Running,
    ack_fields,
    exchange,
    order,
    wait_processed,
)

SPM = "SPM|1|SP1^LIS||TISS^Tissue^HL70487|||EXC^Excision^HL70488|LB^Left breast^HL70070"


def test_it_acknowledges_orders_of_every_version_and_keeps_their_bytes(
    listener: Running,
) -> None:
    frames = [
        order(f"V{i}", version=version, kind=kind, specimens=(SPM,) if spm else ())
        for i, (version, kind, spm) in enumerate(
            [
                ("2.3", "ORM^O01", False),
                ("2.3.1", "ORM^O01", False),
                ("2.4", "ORM^O01^ORM_O01", False),
                ("2.4", "OML^O21", False),
                ("2.5", "ORM^O01", False),
                ("2.5", "OML^O21^OML_O21", True),
                ("2.5.1", "ORM^O01^ORM_O01", False),
                ("2.5.1", "OML^O21^OML_O21", True),
            ]
        )
    ]
    acks = exchange(listener.port, *frames)

    for index, ack in enumerate(acks):
        fields = ack_fields(ack)
        assert fields["MSA"][1:3] == ["AA", f"V{index}"]
        assert fields["MSH"][9] == "ACK^" + ("O21" if b"OML" in frames[index] else "O01") + "^ACK"
        assert "ERR" not in fields
    stored = {m.control_id: m for m in InboundMessage.objects.all()}
    assert {cid: bytes(m.raw) for cid, m in stored.items()} == {
        f"V{i}": frame for i, frame in enumerate(frames)
    }
    wait_processed(len(frames))
    case = Case.objects.get(accession="S-V7")
    assert case.patient_name == "张三"
    assert case.source == "hl7"
    specimen = case.specimens.get()
    assert specimen.site == "Left breast"
    assert specimen.procedure == "Excision"
    assert len(specimen.data["fna_features"]) == 30
    assert specimen.tiles == [{"uri": "sample:immunohistochemistry", "stain": "Ki-67 (DAB)"}]
    assert Run.objects.filter(case__accession__startswith="S-V").count() == len(frames)


def test_it_reads_gb18030_and_utf8_names_escapes_repeats_z_segments_and_crlf(
    listener: Running,
) -> None:
    escaped = "边缘\\F\\切缘\\S\\上\\T\\下\\R\\重复\\E\\反斜杠"
    gb = order(
        "GB1",
        charset="GB 18030",
        codec="gb18030",
        family="欧阳",
        given="娜娜",
        clinical=escaped,
        extra=("ZPF|1|病理科自定义段|A~B",),
    )
    utf = order(
        "U1",
        family="李",
        given="雷",
        mrn="X-9^^^OTHER^PI~MRN-77",
        separator="\r\n",
        extra=("ZXX|whatever",),
    )
    plain = order("D1", charset="", family="Smith", given="Anna", mrn="MRN-5")
    default_cjk = order("D2", charset="", family="王", given="五", mrn="MRN-6")

    acks = exchange(listener.port, gb, utf, plain, default_cjk)

    assert [ack_fields(a, "gb18030")["MSA"][1:3] for a in acks] == [
        ["AA", "GB1"],
        ["AA", "U1"],
        ["AA", "D1"],
        ["AA", "D2"],
    ]
    assert ack_fields(acks[0], "gb18030")["MSH"][18] == "GB 18030"
    wait_processed(4)
    gb_case = Case.objects.get(accession="S-GB1")
    assert gb_case.patient_name == "欧阳娜娜"
    assert gb_case.clinical_info == "边缘|切缘^上&下~重复\\反斜杠"
    assert bytes(InboundMessage.objects.get(control_id="GB1").raw) == gb
    utf_case = Case.objects.get(accession="S-U1")
    assert (utf_case.patient_name, utf_case.patient_mrn) == ("李雷", "MRN-77")
    assert Case.objects.get(accession="S-D1").patient_name == "Anna Smith"
    assert Case.objects.get(accession="S-D2").patient_name == "王五"  # UTF-8 by default


def test_a_resent_message_is_answered_again_and_creates_nothing_new(listener: Running) -> None:
    frame = order("R1")
    first = exchange(listener.port, frame)[0]
    wait_processed(1)

    again = exchange(listener.port, frame, frame)

    assert again == [first, first]
    message = InboundMessage.objects.get()
    assert message.duplicates == 2
    assert Case.objects.count() == 1
    assert Run.objects.count() == 1


def test_a_changed_order_updates_its_case_without_a_second_run(listener: Running) -> None:
    exchange(listener.port, order("C1", accession="S-77"))
    wait_processed(1)
    change = order("C2", accession="S-77", given="四").replace(b"ORC|NW", b"ORC|XO")

    assert ack_fields(exchange(listener.port, change)[0])["MSA"][1] == "AA"

    wait_processed(2)
    case = Case.objects.get(accession="S-77")
    assert case.patient_name == "张四"
    assert case.runs.count() == 1


def test_it_answers_application_errors_with_err_naming_the_field(
    listener: Running, routed: DemoData
) -> None:
    unknown_code = order("E1", order_code="LIVER")
    no_mrn = order("E2", mrn="")
    other_patient_first = order("E3", accession="S-300", mrn="MRN-A")
    other_patient = order("E4", accession="S-300", mrn="MRN-B")
    unknown_facility = order("E5", facility="NOWHERE")

    acks = exchange(listener.port, unknown_code, no_mrn, other_patient_first, unknown_facility)
    wait_processed(1)
    acks += exchange(listener.port, other_patient)

    code = ack_fields(acks[0])
    assert code["MSA"][1:3] == ["AE", "E1"]
    assert code["ERR"][2] == "OBR^1^4^1^1"
    assert code["ERR"][3] == "103^Table value not found^HL70357"
    assert "LIVER" in code["ERR"][8]
    mrn = ack_fields(acks[1])
    assert (mrn["MSA"][1], mrn["ERR"][2], mrn["ERR"][3][:3]) == ("AE", "PID^1^3^1", "101")
    assert ack_fields(acks[2])["MSA"][1] == "AA"
    facility = ack_fields(acks[3])
    assert (facility["MSA"][1:3], facility["ERR"][2]) == (["AE", "E5"], "MSH^1^6^1")
    other = ack_fields(acks[4])
    assert (other["MSA"][1], other["ERR"][2], other["ERR"][3][:3]) == ("AE", "ORC^1^3^1", "205")
    errors = InboundMessage.objects.filter(status="error")
    assert sorted(errors.values_list("control_id", flat=True)) == ["E1", "E2", "E4", "E5"]
    assert Case.objects.count() == 1


def test_it_rejects_unsupported_types_versions_and_processing_ids(listener: Running) -> None:
    frames = [
        order("J1", kind="ADT^A01"),
        order("J2", kind="ORM^O02"),
        order("J3", version="2.6"),
        order("J4", processing="T"),
        order("J5", charset="UNICODE UTF-16"),
        order("J6", version="2.3"),
    ]
    frames[5] = frames[5].replace(b"|J6|P|2.3", b"|J6|T|2.9")

    acks = exchange(listener.port, *frames)

    expected = [
        ("J1", "MSH^1^9^1^1", "200"),
        ("J2", "MSH^1^9^1^2", "201"),
        ("J3", "MSH^1^12^1", "203"),
        ("J4", "MSH^1^11^1", "202"),
        ("J5", "MSH^1^18^1", "103"),
    ]
    for ack, (control_id, location, code) in zip(acks, expected, strict=False):
        fields = ack_fields(ack)
        assert fields["MSA"][1:3] == ["AR", control_id]
        assert (fields["ERR"][2], fields["ERR"][3][:3]) == (location, code)
    both = ack_fields(acks[5])
    assert both["MSA"][1] == "AR"
    assert sorted(both[key][3][:3] for key in both if key.startswith("ERR")) == ["202", "203"]
    assert InboundMessage.objects.filter(status="rejected").count() == 6
    assert not Case.objects.exists()


def test_old_versions_get_the_error_in_err_1_too(listener: Running) -> None:
    ack = ack_fields(exchange(listener.port, order("O1", version="2.3", order_code="X"))[0])

    assert ack["MSA"][1] == "AE"
    assert ack["ERR"][1] == "OBR^1^4^103&Table value not found&HL70357"


def test_at_the_connection_limit_the_quietest_connection_makes_room(
    routed: DemoData, listener_factory: Callable[..., Running]
) -> None:
    import socket

    running = listener_factory(max_connections="1")
    held = socket.create_connection(("127.0.0.1", running.port), timeout=5)
    try:
        # A connection left idle cannot lock the LIS out: the newcomer is answered, the
        # idle one closed.
        assert ack_fields(exchange(running.port, order("L1"))[0])["MSA"][1] == "AA"
        assert held.recv(10) == b""
    finally:
        held.close()
    assert ack_fields(exchange(running.port, order("L2"))[0])["MSA"][1] == "AA"
