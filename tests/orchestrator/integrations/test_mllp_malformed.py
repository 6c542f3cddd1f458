"""Malformed input never takes the listener down: each is kept as an error message and gets an
AR when a reply can be addressed, or a clean close when not."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

from orchestrator.demo_data import DemoData
from orchestrator.integrations.models import InboundMessage
from tests.orchestrator.integrations.conftest import (
    Running,
    ack_fields,
    exchange,
    order,
    send_bytes,
)

VT, FS_CR = b"\x0b", b"\x1c\r"


def frame(data: bytes) -> bytes:
    return VT + data + FS_CR


def answer_of(received: bytes) -> dict[str, list[str]]:
    assert received.startswith(VT), received
    assert received.endswith(FS_CR), received
    return ack_fields(received[1:-2])


def test_unaddressable_frames_are_kept_and_the_connection_closed(listener: Running) -> None:
    garbage = os.urandom(512).replace(b"\x1c", b"\x00").replace(VT, b"\x00")
    no_header = b"PID|1||MRN-1^^^H^MR||Doe^Jane\r"

    assert send_bytes(listener.port, frame(garbage)) == b""
    assert send_bytes(listener.port, frame(no_header)) == b""
    assert send_bytes(listener.port, frame(b"")) == b""

    rows = list(InboundMessage.objects.order_by("pk"))
    assert [bytes(r.raw) for r in rows] == [garbage, no_header, b""]
    assert {(r.status, r.ack_code) for r in rows} == {("rejected", "")}
    assert all(r.error for r in rows)


def test_addressable_malformed_messages_get_an_ar_naming_the_fault(listener: Running) -> None:
    wrong_encoding = order("M1").replace(b"MSH|^~\\&|", b"MSH|^~|")
    bad_framing = b"junk" + frame(order("M2"))
    not_utf8 = order("M3", codec="gb18030")  # MSH-18 says UTF-8, the bytes are GB 18030

    answers = [
        answer_of(send_bytes(listener.port, frame(wrong_encoding))),
        answer_of(send_bytes(listener.port, bad_framing)),
        answer_of(send_bytes(listener.port, frame(not_utf8))),
    ]

    assert [a["MSA"][1:3] for a in answers] == [["AR", "M1"], ["AR", "M2"], ["AR", "M3"]]
    assert answers[0]["ERR"][2] == "MSH^1^2^1"
    assert "encoding characters" in answers[0]["ERR"][8]
    assert "framing" in answers[1]["ERR"][8]
    assert (answers[2]["ERR"][2], answers[2]["ERR"][3][:3]) == ("MSH^1^18^1", "102")
    kept = {m.control_id: bytes(m.raw) for m in InboundMessage.objects.all()}
    # A badly framed block is kept whole, up to its end block.
    assert kept == {"M1": wrong_encoding, "M2": bad_framing[:-2], "M3": not_utf8}
    assert set(InboundMessage.objects.values_list("status", flat=True)) == {"rejected"}


def test_truncated_and_oversized_frames_are_kept_and_the_listener_lives_on(
    routed: DemoData, listener_factory: Callable[..., Running]
) -> None:
    running = listener_factory(max_frame_bytes="4096", read_timeout_s="1")
    truncated = VT + order("T1")[:120]
    oversized = order("B1", extra=tuple(f"NTE|{i}||{'x' * 200}" for i in range(40)))

    assert send_bytes(running.port, truncated, close_after=True) == b""
    slow = socket.create_connection(("127.0.0.1", running.port))
    slow.sendall(VT + order("T2")[:80])
    slow.settimeout(10)
    started = time.monotonic()
    assert slow.recv(100) == b""  # closed by the read timeout
    assert time.monotonic() - started < 8
    slow.close()
    too_big = answer_of(send_bytes(running.port, frame(oversized)))

    assert too_big["MSA"][1:3] == ["AR", "B1"]
    assert "larger than 4096 bytes" in too_big["ERR"][8]
    rows = {m.control_id or bytes(m.raw)[:20]: m for m in InboundMessage.objects.all()}
    assert bytes(rows["T1"].raw) == truncated
    assert rows["T1"].status == "rejected"
    assert "closed before the end" in rows["T1"].error
    assert bytes(rows["T2"].raw) == VT + order("T2")[:80]
    assert "did not end within 1 s" in rows["T2"].error
    assert len(bytes(rows["B1"].raw)) == 4096
    assert rows["B1"].size > 4096
    # Still listening, still answering.
    assert ack_fields(exchange(running.port, order("OK1"))[0])["MSA"][1:3] == ["AA", "OK1"]
    # A frame begun late in an idle wait still has a whole read timeout from its first byte.
    late = socket.create_connection(("127.0.0.1", running.port), timeout=10)
    time.sleep(0.8)
    message = order("LATE1")
    late.sendall(VT + message[:60])
    time.sleep(0.6)
    late.sendall(message[60:] + FS_CR)
    received = b""
    while not received.endswith(FS_CR) and (chunk := late.recv(65536)):
        received += chunk
    late.close()
    assert answer_of(received)["MSA"][1:3] == ["AA", "LATE1"]
