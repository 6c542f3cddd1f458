"""The audit hash chain: the canonical content of an event, its hash, and the check of a whole
chain. Pure functions over plain values, so the check reads rows without the model's help
(a tampered row must not be "repaired" by a model default on its way in)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# The fields an event's hash covers, in this order. Adding one is a new chain format.
HASHED_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "department_id",
    "patient_ref",
    "client_address",
    "outcome",
    "detail",
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, str) and value and value[0] in "[{":
        # Raw SQL reads a JSON column as text on some backends; hash the same structure.
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def canonical(row: Mapping[str, Any]) -> str:
    """The event's hashed content as one deterministic JSON text (keys sorted, UTC times)."""
    content = {name: _plain(row[name]) for name in HASHED_FIELDS}
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def event_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    return hashlib.sha256(f"{prev_hash}\n{canonical(row)}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first event where the chain does not hold, and why."""

    event_id: int
    seq: int | None
    reason: str

    def __str__(self) -> str:
        return f"audit event id={self.event_id} seq={self.seq}: {self.reason}"


def first_break(
    rows: Iterable[Mapping[str, Any]], head_seq: int, head_hash: str
) -> ChainBreak | None:
    """Walk ``rows`` (in ``seq`` order, each with ``id``, ``prev_hash``, ``hash`` and the
    hashed fields) and return the first break, or None when the chain holds up to the head."""
    prev_hash = ""
    expected_seq = 1
    last: Mapping[str, Any] | None = None
    for row in rows:
        if row["seq"] != expected_seq:
            return ChainBreak(row["id"], row["seq"], f"expected seq {expected_seq} (removed?)")
        if row["prev_hash"] != prev_hash:
            return ChainBreak(row["id"], row["seq"], "does not link to the event before it")
        if event_hash(prev_hash, row) != row["hash"]:
            return ChainBreak(row["id"], row["seq"], "content does not match its hash (changed)")
        prev_hash = row["hash"]
        expected_seq += 1
        last = row
    last_seq = last["seq"] if last is not None else 0
    if last_seq != head_seq or prev_hash != head_hash:
        ident = last["id"] if last is not None else 0
        return ChainBreak(
            ident, last_seq, f"the chain ends at seq {last_seq} but its head is at {head_seq}"
        )
    return None
