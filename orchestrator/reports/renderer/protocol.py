"""Length-prefixed messages between the Django process and the renderer child.

A message is a JSON header and zero or more binary blobs (tile images, the PDF):

    8-byte big-endian header length | header (UTF-8 JSON, with "blobs": [sizes]) | blob bytes…

JSON rather than pickle: the child runs layouts written by template designers, so nothing it
sends back may be able to run code in the parent.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from collections.abc import Sequence
from typing import IO, Any

_LENGTH = struct.Struct(">Q")
# A header larger than this is a protocol error (a report's data is a few hundred kilobytes).
MAX_HEADER_BYTES = 64 * 1024 * 1024
MAX_BLOB_BYTES = 512 * 1024 * 1024


class ProtocolError(Exception):
    """The other side sent something that is not a message, or went away."""


class Timeout(Exception):
    """No complete message arrived before the deadline."""


def encode(header: dict[str, Any], blobs: Sequence[bytes] = ()) -> bytes:
    # default=str: a date or Decimal in report data prints as text rather than failing.
    body = json.dumps(
        {**header, "blobs": [len(b) for b in blobs]}, ensure_ascii=False, default=str
    ).encode()
    return b"".join([_LENGTH.pack(len(body)), body, *blobs])


def write_message(stream: IO[bytes], header: dict[str, Any], blobs: Sequence[bytes] = ()) -> None:
    stream.write(encode(header, blobs))
    stream.flush()


def _parse_header(body: bytes) -> tuple[dict[str, Any], list[int]]:
    header = json.loads(body)
    sizes = header.pop("blobs", [])
    if not isinstance(header, dict) or not all(
        isinstance(n, int) and 0 <= n <= MAX_BLOB_BYTES for n in sizes
    ):
        raise ProtocolError("malformed message header")
    return header, sizes


def read_message(stream: IO[bytes]) -> tuple[dict[str, Any], list[bytes]] | None:
    """Blocking read (the child's side); None at end of input."""
    prefix = stream.read(_LENGTH.size)
    if not prefix:
        return None
    if len(prefix) != _LENGTH.size:
        raise ProtocolError("truncated message length")
    (length,) = _LENGTH.unpack(prefix)
    if length > MAX_HEADER_BYTES:
        raise ProtocolError("message header too large")
    header, sizes = _parse_header(stream.read(length))
    blobs = [stream.read(size) for size in sizes]
    if any(len(blob) != size for blob, size in zip(blobs, sizes, strict=True)):
        raise ProtocolError("truncated message")
    return header, blobs


class DeadlineReader:
    """Reads whole messages from a pipe's file descriptor, giving up at a deadline (the
    parent's side: a render that takes too long must not block the caller)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def _read_exact(self, size: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        remaining = size
        while remaining:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                raise Timeout
            ready, _, _ = select.select([self.fd], [], [], timeout)
            if not ready:
                raise Timeout
            chunk = os.read(self.fd, min(remaining, 1 << 20))
            if not chunk:
                raise ProtocolError("the renderer closed its output")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def read(self, deadline: float) -> tuple[dict[str, Any], list[bytes]]:
        (length,) = _LENGTH.unpack(self._read_exact(_LENGTH.size, deadline))
        if length > MAX_HEADER_BYTES:
            raise ProtocolError("message header too large")
        header, sizes = _parse_header(self._read_exact(length, deadline))
        return header, [self._read_exact(size, deadline) for size in sizes]
