"""HL7 v2 over MLLP: the host's message (an ORU^R01) framed ``<VT> message <FS><CR>`` on a TCP
connection to ``host:port``, and the receiver's ACK read back.

The ACK decides: MSA-1 ``AA``/``CA`` accepted; ``AE``/``CE`` (an application error: the
receiver may take it later) retried; ``AR``/``CR`` (rejected: sending it again cannot help)
stopped. An ACK whose MSA-2 names another message, no ACK within the timeout, a connection
refused or closed early are retried. One connection per attempt: the receiver sees each
message once per attempt and nothing is left half-written on a shared connection.
"""

from __future__ import annotations

import asyncio

import httpx

from workflows.channels.base import (
    Answer,
    DeliveryChannel,
    Destination,
    OutboundMessage,
    Verdict,
    register_channel,
    shown,
    split_host_port,
)

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\r"
_VERDICTS = {
    "AA": Verdict.ACCEPTED,
    "CA": Verdict.ACCEPTED,
    "AE": Verdict.RETRY,
    "CE": Verdict.RETRY,
    "AR": Verdict.REJECTED,
    "CR": Verdict.REJECTED,
}


def frame(message: bytes) -> bytes:
    return START_BLOCK + message + END_BLOCK


def judge_ack(raw: bytes, control_id: str) -> Answer:
    """The verdict on an ACK message (segments split by CR): MSA-1, MSA-2 and MSA-3/ERR text."""
    text = raw.decode("utf-8", "replace")
    segments = [s for s in text.replace("\n", "\r").split("\r") if s]
    msh = next((s for s in segments if s.startswith("MSH")), "")
    msa = next((s for s in segments if s.startswith("MSA")), "")
    if len(msh) < 4 or not msa:
        return Answer(Verdict.RETRY, "the answer is not an HL7 ACK (no MSH/MSA)", shown(raw))
    fields = msa.split(msh[3])
    code = fields[1] if len(fields) > 1 else ""
    echoed = fields[2] if len(fields) > 2 else ""
    note = fields[3] if len(fields) > 3 else ""
    verdict = _VERDICTS.get(code)
    if verdict is None:
        return Answer(Verdict.RETRY, f"unknown acknowledgment code {code!r}", shown(raw))
    if echoed != control_id:
        return Answer(
            Verdict.RETRY, f"{code} for message {echoed!r}, not {control_id!r}", shown(raw)
        )
    summary = f"{code}: {note}" if note and verdict is not Verdict.ACCEPTED else code
    return Answer(verdict, summary[:300], shown(raw))


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    """The bytes between a start block and the end block (anything before the start dropped);
    the reader's limit caps the answer (LimitOverrunError)."""
    data = await reader.readuntil(END_BLOCK)
    start = data.find(START_BLOCK)
    return data[start + 1 : -len(END_BLOCK)] if start >= 0 else data[: -len(END_BLOCK)]


@register_channel
class Hl7MllpChannel(DeliveryChannel):
    name = "hl7_mllp"
    title = "HL7 v2 over MLLP (ORU^R01)"
    address_kind = "host_port"
    message_format = "hl7v2_oru_r01"

    async def send(
        self, http: httpx.AsyncClient, destination: Destination, message: OutboundMessage
    ) -> Answer:
        where = destination.where
        try:
            host, port = split_host_port(destination.address)
        except ValueError as exc:
            return Answer(Verdict.REJECTED, f"{where}: {exc}")
        try:
            async with asyncio.timeout(destination.timeout_s):
                reader, writer = await asyncio.open_connection(
                    host, port, limit=destination.max_answer_bytes
                )
                try:
                    writer.write(frame(message.body))
                    await writer.drain()
                    raw = await _read_frame(reader)
                finally:
                    writer.close()
                    await asyncio.gather(writer.wait_closed(), return_exceptions=True)
        except TimeoutError:
            return Answer(Verdict.RETRY, f"{where}: no ACK within {destination.timeout_s:g} s")
        except asyncio.IncompleteReadError as exc:
            return Answer(
                Verdict.RETRY,
                f"{where}: closed the connection before a whole ACK",
                shown(exc.partial),
            )
        except asyncio.LimitOverrunError:
            return Answer(Verdict.RETRY, f"{where}: the ACK is larger than allowed")
        except OSError as exc:
            return Answer(Verdict.RETRY, f"{where}: cannot deliver ({exc})")
        return judge_ack(raw, message.control_id)
