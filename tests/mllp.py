"""A real MLLP receiver on 127.0.0.1 for tests of results going out: frames in, ACKs out.

It records every message it receives (decoded UTF-8), answers each with an ACK whose code comes
from a script (``AA`` unless told otherwise; the last code repeats), and can be stopped and
started again on the same port (a destination down for a while)."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections import deque
from types import TracebackType
from typing import Self

START, END = b"\x0b", b"\x1c\r"


def control_id(message: str) -> str:
    msh = message.split("\r", 1)[0]
    return msh.split("|")[9]


def ack(message: str, code: str, note: str = "") -> bytes:
    """An ACK in original mode echoing the message's MSH-10 in MSA-2."""
    fields = [
        "MSH|^~\\&|LIS|HOSPITAL|PATHFLOW|pathology|20261206120000||ACK^R01^ACK|",
        f"A{control_id(message)[:19]}|P|2.5.1\rMSA|{code}|{control_id(message)}",
    ]
    text = "".join(fields) + (f"|{note}" if note else "") + "\r"
    return START + text.encode() + END


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        buffer = b""
        self.request.settimeout(5)
        while True:
            try:
                chunk = self.request.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while END in buffer:
                frame, buffer = buffer.split(END, 1)
                message = frame[frame.find(START) + 1 :].decode("utf-8")
                reply = self.server.receiver.receive(message)
                if reply is None:
                    return  # close without an answer
                self.request.sendall(reply)


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    receiver: MllpReceiver


class MllpReceiver:
    """Scripted with ``script(*codes)``: "AA", "AE", "AR", or "" (close without answering);
    ``delay_s`` holds each answer that long (a slow receiver)."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.messages: list[str] = []
        self.delay_s = 0.0
        self._codes: deque[str] = deque(["AA"])
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def script(self, *codes: str) -> None:
        with self._lock:
            self._codes = deque(codes)

    def receive(self, message: str) -> bytes | None:
        if self.delay_s:
            time.sleep(self.delay_s)
        with self._lock:
            self.messages.append(message)
            code = self._codes.popleft() if len(self._codes) > 1 else self._codes[0]
        if not code:
            return None
        return ack(message, code, "rejected by test" if code != "AA" else "")

    def received_ids(self) -> list[str]:
        with self._lock:
            return [control_id(m) for m in self.messages]

    def start(self) -> Self:
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.receiver = self
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def wait_for(self, count: int, timeout: float = 60.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        raise AssertionError(f"received {len(self.messages)} of {count} messages in {timeout} s")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def refused_address() -> str:
    """A loopback host:port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"
