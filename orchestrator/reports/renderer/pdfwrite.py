"""Serialise each PDF stream once when WeasyPrint writes a PDF/A file.

PDF/A requires a file identifier, and pydyf computes it (``PDF.write(identifier=True)``) as the
MD5 of every object's ``data`` — which, for a stream, serialises its content again and
compresses it again with zlib at level 9: every page's content stream and every embedded font
was compressed twice. On the 20-page bench report that second pass was ~70 ms of ~530 ms of PDF
writing (docs/performance.md). ``install()`` makes ``PDF.write`` remember each stream's bytes
for the length of one write, so the identifier hashes the bytes just written: the same bytes,
hence the same file, byte for byte (tests/orchestrator/reports check it against pydyf's own
path).

The bytes are remembered per stream object with a reference to it (so no other object can
take its id meanwhile), and only while ``write`` runs: nothing changes a PDF's objects during
its write, whereas before it streams are still being filled.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import pydyf  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)
SUPPORTED_PYDYF = "0.13.0"

_stream_data: Any = None  # pydyf's own Stream.data property
_original_write: Callable[..., Any] | None = None
_local = threading.local()


def _data(stream: pydyf.Stream) -> bytes:
    memo: dict[int, tuple[pydyf.Stream, bytes]] | None = getattr(_local, "memo", None)
    if memo is None:
        data: bytes = _stream_data.fget(stream)
        return data
    key = id(stream)
    if key not in memo:
        memo[key] = (stream, _stream_data.fget(stream))
    return memo[key][1]


def _write(self: pydyf.PDF, *args: Any, **kwargs: Any) -> Any:
    assert _original_write is not None
    outer = getattr(_local, "memo", None)
    _local.memo = {} if outer is None else outer
    try:
        return _original_write(self, *args, **kwargs)
    finally:
        _local.memo = outer


def install() -> None:
    """Patch pydyf (idempotent). With another pydyf version than the one this was written for,
    nothing is patched (PDFs are then written as pydyf writes them, only slower)."""
    global _stream_data, _original_write
    if _original_write is not None:
        return
    if pydyf.__version__ != SUPPORTED_PYDYF:
        logger.warning(
            "pydyf %s is not %s: PDF streams are serialised twice (see %s)",
            pydyf.__version__,
            SUPPORTED_PYDYF,
            __name__,
        )
        return
    _stream_data = pydyf.Stream.data
    _original_write = pydyf.PDF.write
    pydyf.Stream.data = property(_data)
    pydyf.PDF.write = _write
