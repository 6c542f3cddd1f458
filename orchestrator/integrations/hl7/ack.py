"""Original-mode acknowledgements (ACK) for the orders the listener reads.

MSA-1 is AA, AE or AR; MSA-2 echoes MSH-10. Each problem is one ERR segment: ERR-2 its location
(segment^sequence^field^repetition^component), ERR-3 its code from HL7 table 0357, ERR-4 the
severity (E), ERR-8 a sentence for a person. Versions before 2.5 have no ERR-2..8, so for them
ERR-1 carries the location and code too (ELD). The ACK uses the message's own separators and
character set (MSH-18 echoed), and HL7 escapes for any separator in the text it writes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence

from orchestrator.integrations.hl7.message import ERROR_TEXTS, Header, Problem

STANDARD_SEPARATORS = "|", "^~\\&"
OLD_ERR_VERSIONS = ("2.3", "2.3.1", "2.4")


def escape(text: str, field: str, encoding: str) -> str:
    component, repetition, esc, subcomponent = encoding[0], encoding[1], encoding[2], encoding[3]
    table = {
        esc: f"{esc}E{esc}",
        field: f"{esc}F{esc}",
        component: f"{esc}S{esc}",
        subcomponent: f"{esc}T{esc}",
        repetition: f"{esc}R{esc}",
    }
    clean = " ".join(text.split())  # no segment or line breaks inside a field
    return "".join(table.get(c, c) for c in clean)


def new_control_id() -> str:
    return uuid.uuid4().hex[:20].upper()


def build_ack(
    header: Header,
    code: str,
    problems: Sequence[Problem],
    *,
    application: str,
    codec: str = "ascii",
    control_id: str | None = None,
    now: dt.datetime | None = None,
) -> bytes:
    """The ACK for ``header``'s message as bytes in ``codec`` (without MLLP framing)."""
    if header.valid_separators:
        fs, enc = header.field_separator, header.encoding_characters
    else:
        fs, enc = STANDARD_SEPARATORS

    def esc(value: str) -> str:
        return escape(value, fs, enc)

    # Identifiers are echoed as they came (escapes included): they were valid in the message.
    def echo(number: int) -> str:
        raw = header.whole(number) if header.valid_separators else header.get(number)
        return raw.replace("\r", "").replace("\n", "")

    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%d%H%M%S")
    event = header.get(9, 2) if header.valid_separators else ""
    version = header.version
    msh = [
        "MSH",
        enc,
        echo(5) or esc(application),
        echo(6),
        echo(3),
        echo(4),
        stamp,
        "",
        f"ACK{enc[0]}{esc(event)}{enc[0]}ACK" if event else "ACK",
        control_id or new_control_id(),
        esc(header.get(11)) or "P",
        esc(version) or "2.5.1",
    ]
    charset = header.get(18) if header.valid_separators else ""
    if charset:
        msh += [""] * (17 - len(msh)) + [esc(charset)]
    summary = "; ".join(p.text for p in problems[:3])
    msa = ["MSA", code, esc(header.control_id)] + ([esc(summary[:80])] if summary else [])
    lines = [fs.join(msh[:1]) + fs + fs.join(msh[1:]), fs.join(msa)]
    old_err = version in OLD_ERR_VERSIONS
    for problem in problems:
        lines.append(fs.join(_err(problem, enc, esc, old_err)))
    return ("\r".join(lines) + "\r").encode(codec, errors="replace")


def _err(problem: Problem, enc: str, esc: Callable[[str], str], old: bool) -> list[str]:
    c, s = enc[0], enc[3]
    field = str(problem.field) if problem.field else ""
    location = c.join(
        [
            problem.segment,
            str(problem.sequence),
            field,
            "1" if field else "",
            str(problem.component or ""),
        ]
    ).rstrip(c)
    name = ERROR_TEXTS.get(problem.code, "")
    code = c.join([problem.code, name, "HL70357"])
    eld = ""
    if old:
        eld = c.join(
            [problem.segment, str(problem.sequence), field, s.join([problem.code, name, "HL70357"])]
        )
    return ["ERR", eld, location, code, "E", "", "", "", esc(problem.text)]
