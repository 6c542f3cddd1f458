"""The MLLP listener: python-hl7's asyncio MLLP server storing frames from its event loop.

The event loop reads frames and stores them itself, on the listener's one database connection:
the frames waiting when the loop gets to them (from any number of connections) are decided and
stored in one short transaction, committed, and only then are their ACKs written (group
commit: one commit for many messages, each still committed before its ACK). Storing in the
loop's own thread costs no hand-off between threads — under a loaded CPU, each hand-off (and
each transfer of the GIL) can wait for the scheduler longer than the store itself takes. While
no frame is waiting, a processor thread turns acknowledged orders into cases and runs (rows
left ``received``, from this start or an earlier one that crashed).

Limits: frames over ``MLLP_MAX_FRAME_BYTES`` are answered AR (when addressable) and the
connection closed; a frame not complete within ``MLLP_READ_TIMEOUT_S`` is stored as truncated
and the connection closed; idle connections close after ``MLLP_IDLE_TIMEOUT_S``. At most
``MLLP_MAX_CONNECTIONS`` are open: a new connection beyond that closes the quietest open one
(idle ones first, then the one whose frame has waited longest; never one whose frame is being
stored), so connections left open by a sender (or an attacker) cannot lock a LIS out, and the
listener's memory stays within about ``MLLP_MAX_CONNECTIONS`` × 2 × ``MLLP_MAX_FRAME_BYTES``
(asyncio stops reading a connection whose buffer passes twice its limit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from hl7.mllp import start_hl7_server

from orchestrator.integrations.inbound import (
    Reply,
    pending_ids,
    process_safely,
    receive_frame,
)
from orchestrator.runs.services import hand_to_worker

logger = logging.getLogger(__name__)
START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
BATCH_MAX = 200
# The store counts as busy this long after a batch: on a loaded CPU the loop itself waits for
# the scheduler, so a shorter quiet gap does not mean the frames stopped.
BUSY_WINDOW_S = 0.05


@dataclass
class Frame:
    """What one read produced: the message bytes to read, the bytes to keep, the problem."""

    data: bytes
    stored: bytes | None = None
    problem: str = ""
    size: int | None = None
    # No ACK can follow (the peer closed or the frame never ended): store, then close.
    final: bool = False


@dataclass
class _Job:
    frame: Frame
    peer: str
    future: asyncio.Future[Reply]


@dataclass
class Stats:
    stored: int = 0
    batches: int = 0
    connections: int = 0
    evicted: int = 0
    ack_codes: dict[str, int] = field(default_factory=dict)


class Processor(threading.Thread):
    """Turns acknowledged orders into cases and runs on its own database connection. ACKs come
    first: while frames arrive the processor waits (at most ``YIELD_FOR_S`` at a time, polling
    every ``POLL_S``: each wake-up takes the GIL from the event loop), it takes the store's lock
    so the two never wait on SQLite's busy handler, and it hands new runs to the task queue
    outside that lock, so a queue that does not answer delays no ACK. It starts with the rows
    an earlier listener left ``received`` (a crash after an ACK) and looks for more every
    ``sweep_seconds``."""

    YIELD_FOR_S = 5.0
    POLL_S = 0.05

    def __init__(self, sweep_seconds: float) -> None:
        super().__init__(name="mllp-processor", daemon=True)
        self.ids: queue.Queue[int | None] = queue.Queue()
        self.sweep_seconds = sweep_seconds
        self.processed = 0
        self.store: Store | None = None
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()
        self.ids.put(None)

    def run(self) -> None:
        pending: deque[int] = deque()
        next_sweep = 0.0
        try:
            while not self._stopping.is_set():
                try:
                    next_sweep = self._step(pending, next_sweep)
                except DatabaseError as exc:
                    # The rows stay received; the next sweep finds them again.
                    logger.error("the MLLP processor could not reach the database (%s)", exc)
                    pending.clear()
                    connection.close()
                    self._stopping.wait(1.0)
        finally:
            connection.close()

    def _step(self, pending: deque[int], next_sweep: float) -> float:
        if time.monotonic() >= next_sweep:
            with self._lock():
                found = pending_ids()
            known = set(pending)
            pending.extend(i for i in found if i not in known)
            next_sweep = time.monotonic() + self.sweep_seconds
        with contextlib.suppress(queue.Empty):
            item = self.ids.get(timeout=0 if pending else 0.5)
            while item is not None:
                pending.append(item)
                item = self.ids.get_nowait()
        if pending and not self._stopping.is_set():
            self._yield_to_store()
            with self._lock():
                done = process_safely(pending.popleft(), enqueue=False)
            if done is not None:
                self.processed += 1
                if done.run_to_hand_over is not None:
                    hand_to_worker(done.run_to_hand_over)
        return next_sweep

    def _lock(self) -> contextlib.AbstractContextManager[object]:
        return self.store.db_lock if self.store is not None else contextlib.nullcontext()

    def _yield_to_store(self) -> None:
        store = self.store
        if store is None:
            return
        until = time.monotonic() + self.YIELD_FOR_S
        while store.busy() and time.monotonic() < until and not self._stopping.is_set():
            time.sleep(self.POLL_S)


class Store:
    """Stores frames for the listener from its event loop, on the loop thread's database
    connection: ``submit`` queues a frame and schedules one flush for everything queued."""

    def __init__(self, processor: Processor | None = None) -> None:
        self.processor = processor
        if processor is not None:
            processor.store = self
        # Held while the store's or the processor's transaction is open (see Processor).
        self.db_lock = threading.Lock()
        self.last_batch_at = 0.0
        self.stats = Stats()
        self._waiting: list[_Job] = []
        self._flush_scheduled = False

    def open(self) -> None:
        """Connect (in the event loop's thread, which owns the connection) and tune it."""
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA synchronous={settings.MLLP_SQLITE_SYNCHRONOUS}")

    def close(self) -> None:
        connection.close()

    def submit(self, frame: Frame, peer: str) -> asyncio.Future[Reply]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Reply] = loop.create_future()
        self._waiting.append(_Job(frame, peer, future))
        if not self._flush_scheduled:
            # After the callbacks already due: frames that arrived on other connections in
            # the same turn of the loop join this commit.
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return future

    def busy(self) -> bool:
        """Frames are waiting, or a batch was stored in the last ``BUSY_WINDOW_S``: senders
        sending back to back answer an ACK with their next message within that long; at a
        steady pace below a few dozen a second the gaps are longer and the processor keeps
        up, and in a burst it still makes one case every ``Processor.YIELD_FOR_S``."""
        return bool(self._waiting) or time.monotonic() - self.last_batch_at < BUSY_WINDOW_S

    def _flush(self) -> None:
        self._flush_scheduled = False
        while self._waiting:
            batch, self._waiting = self._waiting[:BATCH_MAX], self._waiting[BATCH_MAX:]
            self._store(batch)

    def _store(self, batch: list[_Job]) -> None:
        try:
            with self.db_lock, transaction.atomic():
                replies = [self._receive(job) for job in batch]
        except Exception as exc:  # a database error, or a fault of ours storing the fallback
            # Nothing of the batch is stored, so nothing is acknowledged: the connections close
            # and senders send again. The listener lives on for the next batch.
            logger.error("storing %d inbound messages failed (%s)", len(batch), type(exc).__name__)
            close_old_connections()
            with contextlib.suppress(DatabaseError):
                connection.close()
            failure = exc if isinstance(exc, DatabaseError) else DatabaseError(str(exc))
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(failure)
            return
        self.stats.batches += 1
        self.last_batch_at = time.monotonic()
        for job, reply in zip(batch, replies, strict=True):
            self.stats.stored += 1
            self.stats.ack_codes[reply.code] = self.stats.ack_codes.get(reply.code, 0) + 1
            if reply.code == "AA" and reply.message_id is not None and self.processor:
                self.processor.ids.put(reply.message_id)
            if not job.future.done():
                job.future.set_result(reply)

    def _receive(self, job: _Job) -> Reply:
        frame = job.frame
        try:
            reply = receive_frame(
                frame.data,
                stored=frame.stored,
                peer=job.peer,
                size=frame.size,
                framing_problem=frame.problem,
                answered=not frame.final,
            )
        except DatabaseError:
            raise
        except Exception as exc:  # a fault of ours must not cost the sender its message
            logger.error("reading an inbound message failed (%s)", type(exc).__name__)
            reply = receive_frame(
                frame.data,
                stored=frame.stored,
                peer=job.peer,
                size=frame.size,
                framing_problem=f"internal error while reading the message ({type(exc).__name__})",
                answered=not frame.final,
            )
        if frame.final:
            return Reply(reply.message_id, None, reply.code, close=True)
        if reply.code and reply.code != "AA":
            logger.warning("inbound message %s answered %s", reply.message_id, reply.code)
        return reply


@dataclass(eq=False)
class _Connection:
    reader: Any
    writer: Any
    # When the last frame ended (or the connection opened): the quietest goes first when full.
    last_frame_at: float = field(default_factory=time.monotonic)
    # A frame of it is being stored or answered: it is never closed for a newcomer then.
    storing: bool = False

    def eviction_order(self) -> tuple[bool, float]:
        """Idle connections (nothing buffered) before ones holding part of a frame, oldest
        first."""
        return bool(getattr(self.reader, "_buffer", b"")), self.last_frame_at


class Listener:
    """Accepts MLLP connections and answers each frame after the store committed it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.open: set[_Connection] = set()
        self.max_frame = settings.MLLP_MAX_FRAME_BYTES
        self.read_timeout = float(settings.MLLP_READ_TIMEOUT_S)
        self.idle_timeout = float(settings.MLLP_IDLE_TIMEOUT_S)
        self.max_connections = settings.MLLP_MAX_CONNECTIONS

    async def start(self, host: str, port: int) -> asyncio.Server:
        server: asyncio.Server = await start_hl7_server(
            self.handle, host=host, port=port, limit=self.max_frame
        )
        return server

    @property
    def active(self) -> int:
        return len(self.open)

    def _make_room(self) -> None:
        """Close the quietest connections until a new one fits (see the module's limits)."""
        while len(self.open) >= self.max_connections:
            candidates = [c for c in self.open if not c.storing]
            if not candidates:
                return
            quietest = min(candidates, key=_Connection.eviction_order)
            self.open.discard(quietest)
            self.store.stats.evicted += 1
            quietest.writer.transport.abort()

    async def handle(self, reader: Any, writer: Any) -> None:
        peer = ":".join(str(p) for p in (writer.get_extra_info("peername") or ())[:2])
        self._make_room()
        if len(self.open) >= self.max_connections:
            logger.warning("MLLP connection refused: %d frames being stored", len(self.open))
            writer.close()
            return
        conn = _Connection(reader, writer)
        self.open.add(conn)
        self.store.stats.connections += 1
        try:
            await self._converse(conn, peer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception as exc:  # never let one connection take the listener down
            logger.error("MLLP connection ended by %s", type(exc).__name__)
        finally:
            self.open.discard(conn)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _converse(self, conn: _Connection, peer: str) -> None:
        writer = conn.writer
        while True:
            frame = await self._read_frame(conn.reader)
            if frame is None:
                return
            if conn not in self.open:
                # Closed for a newcomer while the frame ended: nothing can be answered.
                return
            conn.storing = True
            try:
                reply = await self.store.submit(frame, peer)
            except DatabaseError:
                return  # not stored, so not acknowledged: close, the sender sends again
            try:
                if reply.ack is not None:
                    writer.writeblock(reply.ack)
                    await writer.drain()
            finally:
                conn.storing = False
                conn.last_frame_at = time.monotonic()
            if reply.close or reply.ack is None:
                return

    async def _read_frame(self, reader: Any) -> Frame | None:
        """The next frame; None when the peer closed or stayed idle too long between frames."""
        idle_until = time.monotonic() + self.idle_timeout
        # Whether a frame had begun when this wait started: one that began during an idle
        # wait gets a second period, so every frame has at least READ_TIMEOUT_S from its first
        # byte (and at most twice that).
        frame_begun = False
        while True:
            frame_begun = frame_begun or bool(bytes(reader._buffer).strip())
            try:
                async with asyncio.timeout(self.read_timeout):  # no task per frame
                    block: bytes = await reader.readuntil(END_BLOCK)
            except asyncio.IncompleteReadError as exc:
                partial = bytes(exc.partial)
                if not partial.strip():
                    return None
                return Frame(
                    _unframe(partial)[0],
                    stored=partial,
                    problem="the connection closed before the end of the frame",
                    final=True,
                )
            except asyncio.LimitOverrunError:
                buffered = len(reader._buffer)  # what has arrived of the oversized frame
                head = await reader.read(self.max_frame)
                return Frame(
                    _unframe(head)[0],
                    stored=head,
                    problem=f"the frame is larger than {self.max_frame} bytes",
                    size=max(buffered, len(head)),
                )
            except TimeoutError:
                waiting = bytes(reader._buffer)  # bytes of a frame that has not ended
                if waiting.strip() and not frame_begun:
                    continue  # it began during this wait: it gets a whole period more
                if waiting.strip():
                    return Frame(
                        _unframe(waiting)[0],
                        stored=waiting,
                        problem=f"the frame did not end within {self.read_timeout:g} s",
                        final=True,
                    )
                if time.monotonic() >= idle_until:
                    return None
                continue
            return _frame(block[: -len(END_BLOCK)])


def _unframe(data: bytes) -> tuple[bytes, bool]:
    """The message bytes of ``data`` (after the start block) and whether it began with one."""
    if data.startswith(START_BLOCK):
        return data[1:], True
    if START_BLOCK in data:
        return data.split(START_BLOCK, 1)[1], False
    return data, False


def _frame(block: bytes) -> Frame:
    data, clean = _unframe(block)
    if clean and START_BLOCK not in data:
        return Frame(data)
    return Frame(
        data.rsplit(START_BLOCK, 1)[-1],
        stored=block,
        problem="bad framing: bytes outside the <VT> … <FS><CR> block",
    )
