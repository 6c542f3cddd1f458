"""A stored message as the console shows it beside the raw text: HL7 v2 as segments of fields,
JSON as its structure; base64 payloads (the PDF) shortened to their size, so the parsed view
stays readable."""

from __future__ import annotations

import json
import re
from typing import Any

# Longer base64 runs are payloads (an embedded PDF), shown by size.
_PAYLOAD = re.compile(r"[A-Za-z0-9+/=]{200,}")


def _short(text: str) -> str:
    return _PAYLOAD.sub(lambda m: f"<{len(m.group(0))} base64 characters>", text)


def _shorten(value: Any) -> Any:
    if isinstance(value, str):
        return _short(value)
    if isinstance(value, list):
        return [_shorten(v) for v in value]
    if isinstance(value, dict):
        return {k: _shorten(v) for k, v in value.items()}
    return value


def hl7_segments(message: str) -> list[dict[str, Any]]:
    """``[{"segment": "PID", "fields": {"PID-3": "...", ...}}, ...]``, empty fields left out."""
    segments = []
    for line in filter(None, message.replace("\n", "\r").split("\r")):
        parts = line.split("|")
        name = parts[0]
        # MSH-1 is the field separator itself, so MSH's numbering is shifted by one.
        offset = 1 if name == "MSH" else 0
        fields = {f"{name}-{i + offset}": _short(v) for i, v in enumerate(parts[1:], 1) if v}
        if name == "MSH":
            fields = {"MSH-1": "|", **fields}
        segments.append({"segment": name, "fields": fields})
    return segments


def parsed_message(message: str, content_type: str) -> Any:
    """The message's structure for the console; None when there is none yet (not built)."""
    if not message:
        return None
    if content_type.startswith("application/hl7-v2"):
        return hl7_segments(message)
    try:
        return _shorten(json.loads(message))
    except ValueError:
        return None
