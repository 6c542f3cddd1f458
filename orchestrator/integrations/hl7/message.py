"""Reading an HL7 v2 message from the bytes of one MLLP frame: the header (MSH) first, from the
bytes themselves, so that a message whose body cannot be decoded can still be answered; then the
whole message, decoded in the character set MSH-18 names and split into segments, fields,
repetitions, components and subcomponents (escape sequences kept until a value is read).

Nothing here touches the database; problems are :class:`Problem` values naming the segment and
field at fault with an HL7 error code (table 0357), so the ACK can say exactly what is wrong.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

# HL7 table 0357 (message error condition codes) used in ERR-3.
SEGMENT_SEQUENCE_ERROR = "100"
REQUIRED_FIELD_MISSING = "101"
DATA_TYPE_ERROR = "102"
TABLE_VALUE_NOT_FOUND = "103"
UNSUPPORTED_MESSAGE_TYPE = "200"
UNSUPPORTED_EVENT_CODE = "201"
UNSUPPORTED_PROCESSING_ID = "202"
UNSUPPORTED_VERSION_ID = "203"
UNKNOWN_KEY_IDENTIFIER = "204"
DUPLICATE_KEY_IDENTIFIER = "205"
APPLICATION_INTERNAL_ERROR = "207"

ERROR_TEXTS = {
    SEGMENT_SEQUENCE_ERROR: "Segment sequence error",
    REQUIRED_FIELD_MISSING: "Required field missing",
    DATA_TYPE_ERROR: "Data type error",
    TABLE_VALUE_NOT_FOUND: "Table value not found",
    UNSUPPORTED_MESSAGE_TYPE: "Unsupported message type",
    UNSUPPORTED_EVENT_CODE: "Unsupported event code",
    UNSUPPORTED_PROCESSING_ID: "Unsupported processing id",
    UNSUPPORTED_VERSION_ID: "Unsupported version id",
    UNKNOWN_KEY_IDENTIFIER: "Unknown key identifier",
    DUPLICATE_KEY_IDENTIFIER: "Duplicate key identifier",
    APPLICATION_INTERNAL_ERROR: "Application internal error",
}

# MSH-18 (HL7 table 0211) → Python codec. UTF-16/32 ("UNICODE") cannot travel inside MLLP's
# single-byte framing, and ISO 2022 code-switching is not supported: both are rejected.
CHARSETS = {
    "ASCII": "ascii",
    "8859/1": "iso8859-1",
    "8859/2": "iso8859-2",
    "8859/5": "iso8859-5",
    "8859/7": "iso8859-7",
    "8859/9": "iso8859-9",
    "8859/15": "iso8859-15",
    "UNICODE UTF-8": "utf-8",
    "UTF-8": "utf-8",
    "GB 18030-2000": "gb18030",
    "GB 18030": "gb18030",
    "GB18030": "gb18030",
    "BIG-5": "big5",
    "KS X 1001": "euc_kr",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a message, where it is (ERR-2) and its HL7 error code (ERR-3)."""

    segment: str
    sequence: int
    field: int
    code: str
    text: str
    component: int | None = None

    @property
    def location(self) -> str:
        where = f"{self.segment}-{self.field}" if self.field else self.segment
        return f"{where}.{self.component}" if self.component else where

    def as_dict(self) -> dict[str, object]:
        return {
            "segment": self.segment,
            "sequence": self.sequence,
            "field": self.field,
            "component": self.component,
            "code": self.code,
            "text": self.text,
        }


class NotAddressable(ValueError):
    """The frame holds no message header that a reply could be addressed to."""


@dataclass
class Header:
    """MSH as read from the frame. ``fields[n]`` is MSH-n (MSH-1 the field separator)."""

    field_separator: str
    encoding_characters: str
    fields: dict[int, str]
    problems: list[Problem] = field(default_factory=list)

    def get(self, number: int, component: int = 1) -> str:
        """MSH-``number``, its first repetition's ``component`` (escapes left as they are)."""
        raw = self.fields.get(number, "")
        if self.valid_separators:
            raw = raw.split(self.encoding_characters[1])[0]
            parts = raw.split(self.encoding_characters[0])
            return parts[component - 1] if component <= len(parts) else ""
        return raw if component == 1 else ""

    def whole(self, number: int) -> str:
        return self.fields.get(number, "")

    @property
    def valid_separators(self) -> bool:
        return not any(p.field == 2 for p in self.problems)

    @property
    def control_id(self) -> str:
        return self.get(10)

    @property
    def charset_name(self) -> str:
        return self.get(18).strip().upper()

    @property
    def version(self) -> str:
        return self.get(12).strip()


def _separators_problem(field_separator: str, encoding: str) -> Problem | None:
    chars = field_separator + encoding
    if (
        len(encoding) != 4
        or len(set(chars)) != 5
        or any(c.isalnum() or not c.isprintable() or c.isspace() for c in chars)
    ):
        return Problem(
            "MSH",
            1,
            2,
            DATA_TYPE_ERROR,
            "MSH-2 must be four distinct encoding characters after the field separator, e.g. ^~\\&",
        )
    return None


def _first_segment(text: str) -> str:
    return re.split(r"[\r\n]", text, maxsplit=1)[0]


def read_header(frame: bytes) -> Header:
    """The MSH of ``frame``, read from its bytes (latin-1: one character per byte) so that it can
    be read before the character set is known. Raises :class:`NotAddressable` when the frame
    does not start with an MSH segment and a usable field separator."""
    text = frame.lstrip(b"\r\n").decode("latin-1")
    if not text.startswith("MSH") or len(text) < 4:
        raise NotAddressable("the frame does not start with an MSH segment")
    separator = text[3]
    if separator.isalnum() or separator.isspace() or not separator.isprintable():
        raise NotAddressable("MSH-1 is not a usable field separator")
    return header_from_text(text)


def header_from_text(text: str) -> Header:
    segment = _first_segment(text.lstrip("\r\n"))
    separator = segment[3]
    parts = segment.split(separator)
    encoding = parts[1] if len(parts) > 1 else ""
    fields = {1: separator, 2: encoding}
    fields.update(dict(enumerate(parts[2:], start=3)))
    problem = _separators_problem(separator, encoding)
    return Header(separator, encoding, fields, [problem] if problem else [])


def codec_for(charset_name: str, default: str) -> str | None:
    """The Python codec for an MSH-18 value (``default`` names the one for an empty MSH-18);
    None for a character set this listener does not read."""
    name = charset_name or default.strip().upper()
    return CHARSETS.get(name)


# --- the decoded message ------------------------------------------------------------------------


@dataclass(frozen=True)
class Separators:
    field: str
    component: str
    repetition: str
    escape: str
    subcomponent: str


@dataclass
class Segment:
    """One segment: ``name``, its position among segments of that name (1-based) and its fields
    as raw text, ``fields[n]`` being field n (MSH's numbering included)."""

    name: str
    sequence: int
    fields: list[str]

    def raw(self, number: int) -> str:
        return self.fields[number] if 0 < number < len(self.fields) else ""


class Message:
    """A decoded message split into segments; values are read with :meth:`value`."""

    def __init__(self, text: str, separators: Separators) -> None:
        self.separators = separators
        self.segments: list[Segment] = []
        counts: dict[str, int] = {}
        for line in re.split(r"\r\n|\r|\n", text):
            if not line.strip():
                continue
            name = line[:3]
            counts[name] = counts.get(name, 0) + 1
            if name == "MSH":
                # MSH-1 is the separator itself and MSH-2 the encoding characters.
                rest = line[4:].split(separators.field)
                fields = ["MSH", separators.field, *rest]
            else:
                fields = line.split(separators.field)
            self.segments.append(Segment(name, counts[name], fields))

    def first(self, name: str) -> Segment | None:
        return next((s for s in self.segments if s.name == name), None)

    def repetitions(self, segment: Segment, number: int) -> list[str]:
        raw = segment.raw(number)
        if segment.name == "MSH" and number <= 2:
            return [raw]
        return raw.split(self.separators.repetition) if raw else []

    def components(self, repetition: str) -> list[str]:
        return repetition.split(self.separators.component)

    def value(
        self,
        segment: Segment | None,
        number: int,
        component: int = 1,
        subcomponent: int = 1,
        repetition: int = 1,
    ) -> str:
        """The unescaped text at field ``number`` (repetition, component, subcomponent)."""
        if segment is None:
            return ""
        reps = self.repetitions(segment, number)
        if len(reps) < repetition:
            return ""
        comps = self.components(reps[repetition - 1])
        if len(comps) < component:
            return ""
        subs = comps[component - 1].split(self.separators.subcomponent)
        if len(subs) < subcomponent:
            return ""
        return self.unescape(subs[subcomponent - 1]).strip()

    def values(self, segment: Segment, number: int, component: int = 1) -> list[str]:
        """The unescaped text of ``component`` in every repetition of field ``number`` (what
        :meth:`value` gives for each repetition, with the field split once)."""
        out = []
        for repetition in self.repetitions(segment, number):
            comps = self.components(repetition)
            text = comps[component - 1] if len(comps) >= component else ""
            out.append(self.unescape(text.split(self.separators.subcomponent, 1)[0]).strip())
        return out

    def unescape(self, text: str) -> str:
        """HL7 escape sequences (\\F\\ \\S\\ \\T\\ \\R\\ \\E\\, \\Xhh..\\, \\.br\\) to text;
        highlighting (\\H\\ \\N\\) and unknown sequences are dropped."""
        esc = self.separators.escape
        if esc not in text:
            return text
        out: list[str] = []
        index = 0
        while index < len(text):
            char = text[index]
            end = text.find(esc, index + 1) if char == esc else -1
            if end == -1:
                out.append(char)
                index += 1
                continue
            out.append(self._escape(text[index + 1 : end]))
            index = end + 1
        return "".join(out)

    def _escape(self, code: str) -> str:
        s = self.separators
        simple = {"F": s.field, "S": s.component, "T": s.subcomponent, "R": s.repetition}
        if code in simple:
            return simple[code]
        if code == "E":
            return s.escape
        if code == ".br":
            return "\n"
        if code.startswith("X") and re.fullmatch(r"X(?:[0-9A-Fa-f]{2})+", code):
            return bytes.fromhex(code[1:]).decode("latin-1")
        return ""

    def parsed(self) -> list[dict[str, object]]:
        """Segments and their non-empty fields as raw text, ``{"segment": "PID", "fields":
        {"PID-3": "..."}}``: the shape the console shows for outbound messages too."""
        return [
            {
                "segment": seg.name,
                "fields": {
                    f"{seg.name}-{number}": value
                    for number, value in enumerate(seg.fields)
                    if number > 0 and value != ""
                },
            }
            for seg in self.segments
        ]


@dataclass
class Decoded:
    header: Header
    message: Message
    codec: str


def decode(frame: bytes, default_charset: str) -> tuple[Header, Decoded | None, list[Problem]]:
    """Read the header, pick the codec from MSH-18 and decode the frame. Returns the header (from
    the decoded text when decoding succeeded), the decoded message or None, and the problems
    that make the frame unreadable (bad separators, unknown or mismatched character set)."""
    header = read_header(frame)
    if header.problems:
        return header, None, list(header.problems)
    name = header.charset_name
    codec = codec_for(name, default_charset)
    if codec is None:
        problem = Problem(
            "MSH",
            1,
            18,
            TABLE_VALUE_NOT_FOUND,
            f"character set {name!r} is not read here; use UNICODE UTF-8 or GB 18030",
        )
        return header, None, [problem]
    try:
        text = frame.lstrip(b"\r\n").decode(codec)
    except UnicodeDecodeError as exc:
        problem = Problem(
            "MSH",
            1,
            18,
            DATA_TYPE_ERROR,
            f"the message bytes are not valid {codecs.lookup(codec).name} "
            f"(byte {exc.start} of the frame)",
        )
        return header, None, [problem]
    decoded_header = header_from_text(text)
    if decoded_header.charset_name != name:
        problem = Problem(
            "MSH", 1, 18, DATA_TYPE_ERROR, "MSH-18 reads differently once the message is decoded"
        )
        return header, None, [problem]
    enc = decoded_header.encoding_characters
    separators = Separators(decoded_header.field_separator, enc[0], enc[1], enc[2], enc[3])
    return decoded_header, Decoded(decoded_header, Message(text, separators), codec), []
