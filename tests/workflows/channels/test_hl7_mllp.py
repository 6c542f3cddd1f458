"""The HL7 MLLP channel against a real MLLP receiver on loopback: framing, ACK verdicts
(AA accepted, AE retried, AR rejected), and every transport failure retried."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.mllp import MllpReceiver, refused_address
from workflows.channels import CHANNELS, Destination, Verdict
from workflows.channels.hl7_mllp import judge_ack

from .conftest import message

CHANNEL = CHANNELS["hl7_mllp"]
ORU = (
    "MSH|^~\\&|PATHFLOW|pathology|||20261206120000+0000||ORU^R01^ORU_R01|PF0123456789ABCDEF01"
    "|P|2.5.1\rPID|1||MRN-1^^^pathology^MR||张三\r"
)


@pytest.fixture
def receiver() -> Iterator[MllpReceiver]:
    with MllpReceiver() as server:
        yield server


def to(address: str, timeout_s: float = 5.0) -> Destination:
    return Destination(slug="lis", channel="hl7_mllp", address=address, timeout_s=timeout_s)


@pytest.mark.anyio
async def test_an_aa_is_accepted_and_the_message_arrives_whole(
    http: httpx.AsyncClient, receiver: MllpReceiver
) -> None:
    answer = await CHANNEL.send(http, to(receiver.address), message(ORU.encode()))

    assert (answer.verdict, answer.summary) == (Verdict.ACCEPTED, "AA")
    assert receiver.messages == [ORU]
    assert "MSA|AA|PF0123456789ABCDEF01" in answer.raw


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("code", "verdict", "summary"),
    [
        ("AE", Verdict.RETRY, "AE: rejected by test"),
        ("AR", Verdict.REJECTED, "AR: rejected by test"),
        ("", Verdict.RETRY, "closed the connection before a whole ACK"),
    ],
)
async def test_each_ack_gets_its_verdict(
    http: httpx.AsyncClient, receiver: MllpReceiver, code: str, verdict: Verdict, summary: str
) -> None:
    receiver.script(code)

    answer = await CHANNEL.send(http, to(receiver.address), message(ORU.encode()))

    assert answer.verdict == verdict
    assert summary in answer.summary


@pytest.mark.anyio
async def test_a_slow_or_absent_receiver_is_retried_later(
    http: httpx.AsyncClient, receiver: MllpReceiver
) -> None:
    receiver.delay_s = 1.0
    slow = await CHANNEL.send(http, to(receiver.address, 0.3), message(ORU.encode()))
    refused = await CHANNEL.send(http, to(refused_address()), message(ORU.encode()))

    assert (slow.verdict, refused.verdict) == (Verdict.RETRY, Verdict.RETRY)
    assert "no ACK within 0.3 s" in slow.summary
    assert "cannot deliver" in refused.summary


def test_an_ack_for_another_message_or_no_ack_is_not_taken_as_accepted() -> None:
    other = b"MSH|^~\\&|LIS|H|||20261206||ACK|1|P|2.5.1\rMSA|AA|SOMEONE-ELSE\r"
    assert judge_ack(other, "PF1").verdict == Verdict.RETRY
    assert judge_ack(b"garbage", "PF1").summary == "the answer is not an HL7 ACK (no MSH/MSA)"
    enhanced = b"MSH|^~\\&|LIS|H|||20261206||ACK|1|P|2.5.1\rMSA|CR|PF1|no such patient\r"
    assert (judge_ack(enhanced, "PF1").verdict, judge_ack(enhanced, "PF1").summary) == (
        Verdict.REJECTED, "CR: no such patient"
    )  # fmt: skip


def test_an_mllp_address_is_host_and_port_not_a_url() -> None:
    assert CHANNEL.address_problems("lis.hospital.local:2575") == []
    assert CHANNEL.address_problems("10.1.2.3:2575") == []
    assert CHANNEL.address_problems("[::1]:2575") == []
    assert CHANNEL.address_problems("http://lis:2575/") == [
        "'http://lis:2575/' is not host:port (no scheme or path: e.g. 10.1.2.3:2575)"
    ]
    assert CHANNEL.address_problems("lis.hospital.local") == [
        "'lis.hospital.local' is not host:port (e.g. lis.hospital.local:2575)"
    ]
    assert CHANNEL.address_problems("lis:70000") == ["port 70000 is not between 1 and 65535"]
    assert CHANNEL.address_problems("bad_host!:2575") == [
        "'bad_host!' is not a host name or IP address"
    ]
