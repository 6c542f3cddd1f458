"""Checking the whole audit chain, reading rows as stored (raw values, no model defaults)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from orchestrator.audit.chain import HASHED_FIELDS, ChainBreak, first_break
from orchestrator.audit.models import AuditChainHead, AuditEvent

_COLUMNS = ("id", "prev_hash", "hash", *HASHED_FIELDS)


def _rows(batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Every event in chain order, in batches (the trail grows without bound)."""
    after = 0
    while True:
        rows = list(
            AuditEvent.objects.filter(seq__gt=after).order_by("seq").values(*_COLUMNS)[:batch]
        )
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1]["seq"]


def verify_chain() -> tuple[int, ChainBreak | None]:
    """(how many events were checked, the first break or None)."""
    head = AuditChainHead.objects.filter(pk=1).values("last_seq", "last_hash").first()
    head_seq, head_hash = (head["last_seq"], head["last_hash"]) if head else (0, "")
    unchained = AuditEvent.objects.filter(seq__isnull=True).order_by("id").first()
    if unchained is not None:
        return 0, ChainBreak(unchained.pk, None, "has no place in the chain (inserted?)")
    checked = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal checked
        for row in _rows():
            checked += 1
            yield row

    found = first_break(counted(), head_seq, head_hash)
    return checked, found
