"""The Django side of the renderer: one long-lived child per process, with time and memory limits.

Celery's prefork workers are daemonic, and ``multiprocessing`` refuses to give daemonic
processes children, so the child is a plain ``subprocess.Popen`` of
``python -m orchestrator.reports.renderer.worker``. It is started lazily, on the first render,
and kept: importing WeasyPrint and loading the CJK fonts costs about a second, a render a few
hundred milliseconds. Renders are serialised by a lock (one child, one render at a time). When a
render takes longer than the time limit, runs out of memory or crashes the child, the child is
killed, the caller gets a ``RenderError`` saying so, and the next render starts a fresh child.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from orchestrator.reports.renderer.protocol import DeadlineReader, ProtocolError, Timeout, encode

logger = logging.getLogger(__name__)


# What the child may see of the environment: enough to run Python and find fonts, and none of
# the server's secrets (database URL, secret key, broker credentials).
_ENVIRONMENT_KEPT = frozenset(
    {"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV"}
)
_ENVIRONMENT_PREFIXES = ("LC_", "FONTCONFIG_", "XDG_")


def child_environment() -> dict[str, str]:
    return {
        key: value
        for key, value in os.environ.items()
        if key in _ENVIRONMENT_KEPT or key.startswith(_ENVIRONMENT_PREFIXES)
    }


class RenderError(Exception):
    """Rendering failed; the message says what to fix in the template or the data."""


class RendererProcess:
    """A renderer child and the limits it runs under; thread-safe."""

    def __init__(
        self,
        base_dir: Path,
        *,
        timeout_s: float,
        memory_mb: int,
        start_timeout_s: float = 120.0,
    ) -> None:
        self.base_dir = base_dir
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.start_timeout_s = start_timeout_s
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: DeadlineReader | None = None
        self._ids = itertools.count(1)  # request ids, echoed by the child
        self.starts = 0  # how many children this parent started (tests and diagnostics)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _start(self) -> tuple[subprocess.Popen[bytes], DeadlineReader]:
        command = [
            sys.executable,
            "-m",
            "orchestrator.reports.renderer.worker",
            "--base-dir",
            str(self.base_dir),
            "--memory-mb",
            str(self.memory_mb),
        ]
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parents[3],
            env=child_environment(),
            close_fds=True,
        )
        assert process.stdout is not None
        reader = DeadlineReader(process.stdout.fileno())
        try:
            header, _ = reader.read(time.monotonic() + self.start_timeout_s)
        except (Timeout, ProtocolError, ValueError):
            self._kill(process)
            raise RenderError(
                "the report renderer did not start (see the server log for why)"
            ) from None
        except BaseException:  # interrupted while waiting: never leave a child behind
            self._kill(process)
            raise
        if not header.get("ready"):
            self._kill(process)
            raise RenderError("the report renderer did not start correctly")
        self.starts += 1
        return process, reader

    @staticmethod
    def _kill(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):  # unflushed input to a child that is gone
                    stream.close()

    def _discard(self) -> None:
        if self._process is not None:
            self._kill(self._process)
        self._process = None
        self._reader = None

    def close(self) -> None:
        with self._lock:
            self._discard()

    def request(self, header: dict[str, Any], blobs: list[bytes]) -> tuple[dict[str, Any], bytes]:
        """Send one render request; returns the reply header and its content.

        Each request carries an id the child echoes; a reply with another id (one left unread by
        an earlier caller) is never handed out. Whatever interrupts a request (a timeout, a
        crash, an exception raised by a signal handler, MemoryError) discards the child, so its
        pipe never holds a reply the next caller could read."""
        request_id = next(self._ids)
        try:
            message = encode({**header, "id": request_id}, blobs)
        except UnicodeEncodeError:
            raise RenderError(
                "the report data holds a character that is not valid text (an unpaired "
                "surrogate such as \\ud800); correct the value and try again"
            ) from None
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._discard()
                self._process, self._reader = self._start()
            process, reader = self._process, self._reader
            assert process.stdin is not None
            assert reader is not None
            try:
                process.stdin.write(message)
                process.stdin.flush()
                reply, contents = reader.read(time.monotonic() + self.timeout_s)
            except Timeout:
                self._discard()
                logger.warning("renderer child stopped after %g s", self.timeout_s)
                raise RenderError(
                    f"the report took longer than {self.timeout_s:g} s to lay out and was "
                    "stopped; simplify the layout or split very long tables"
                ) from None
            except (ProtocolError, BrokenPipeError, ValueError):
                self._discard()
                raise self._crash_error() from None
            except BaseException:
                self._discard()  # the reply is unread: the next caller must not get it
                raise
            if reply.get("id") != request_id:
                self._discard()
                logger.warning("renderer child answered out of turn and was restarted")
                raise self._crash_error()
            reply.pop("id")
            if not reply.get("ok"):
                if reply.get("kind") == "template":
                    raise RenderError(str(reply.get("message", "the report layout failed")))
                self._discard()
                raise self._crash_error(out_of_memory=reply.get("kind") == "memory")
            return reply, contents[0] if contents else b""

    def _crash_error(self, out_of_memory: bool = False) -> RenderError:
        if out_of_memory:
            logger.warning("renderer child ran out of memory")
            return RenderError(
                f"the report ran out of memory (limit {self.memory_mb} MB) while being laid "
                "out and was stopped; simplify the layout or its data"
            )
        logger.warning("renderer child stopped unexpectedly")
        return RenderError(
            "the report renderer stopped while laying out the report (it may have run out of "
            f"memory: limit {self.memory_mb} MB) and was restarted; simplify the layout or its data"
        )


_renderer: RendererProcess | None = None
_renderer_pid = 0
_renderer_lock = threading.Lock()


def shared_renderer(base_dir: Path, *, timeout_s: float, memory_mb: int) -> RendererProcess:
    """The process-wide renderer; a forked process (Celery prefork) gets its own."""
    global _renderer, _renderer_pid
    with _renderer_lock:
        inherited = _renderer_pid != os.getpid()
        if _renderer is not None and not inherited and _renderer.memory_mb != memory_mb:
            _renderer.close()
            _renderer = None
        if _renderer is None or inherited:
            # Never talk to a child inherited through fork: its pipes belong to the parent.
            _renderer = RendererProcess(base_dir, timeout_s=timeout_s, memory_mb=memory_mb)
            _renderer_pid = os.getpid()
        _renderer.timeout_s = timeout_s
        return _renderer
