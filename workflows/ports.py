"""Port types form a small lattice: ``any`` accepts everything; ``json`` accepts plain values."""

from __future__ import annotations

from enum import StrEnum


class PortType(StrEnum):
    ANY = "any"
    JSON = "json"
    NUMBER = "number"
    STRING = "string"
    BOOLEAN = "boolean"
    IMAGE = "image"
    CASE = "case"
    FINDINGS = "findings"
    REPORT = "report"


_JSON_VALUES = frozenset(
    {PortType.NUMBER, PortType.STRING, PortType.BOOLEAN, PortType.FINDINGS, PortType.CASE}
)


def is_assignable(source: PortType, target: PortType) -> bool:
    """Whether a value produced on a ``source`` port may flow into a ``target`` port."""
    if target == PortType.ANY or source == target:
        return True
    if source == PortType.ANY:
        # Untyped outputs (e.g. a pass-through) are checked at run time, not rejected here.
        return True
    return target == PortType.JSON and source in _JSON_VALUES
