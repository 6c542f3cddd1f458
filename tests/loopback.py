"""A real HTTP server on 127.0.0.1 for tests that talk to one: a free port, a daemon thread, a
``closing`` event that ends the replies a test made hang, and a request handler with the few
helpers every fake service needs.

A server answers through ``get``/``post`` callables or by overriding the methods of the same
names; a method it does not answer gets 501, as from ``BaseHTTPRequestHandler``. Use it as a
context manager (started on entry, stopped on exit)::

    @pytest.fixture
    def receiver() -> Iterator[Receiver]:
        with Receiver() as server:
            yield server
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

JSON = "application/json"

Answer = Callable[["Request"], None]


class Request(BaseHTTPRequestHandler):
    """One request to a :class:`LoopbackServer`, handed to the server's ``get`` or ``post``."""

    server: _HTTPServer

    def do_GET(self) -> None:
        self.server.loopback.handle(self)

    def do_POST(self) -> None:
        self.server.loopback.handle(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def body(self) -> bytes:
        """The request body, as long as its Content-Length says."""
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def hang(self, seconds: float) -> None:
        """Keep the client waiting: until the server stops, ``seconds`` at the most."""
        self.server.loopback.closing.wait(seconds)

    def header_map(self) -> dict[str, str]:
        """The request headers by lower-case name."""
        return {name.lower(): value for name, value in self.headers.items()}

    def reply(
        self,
        status: int,
        body: Any = b"",
        *headers: tuple[str, str],
        content_type: str | None = JSON,
    ) -> None:
        """Answer ``status`` with ``body`` (bytes as they are, anything else as JSON) and a
        Content-Length. A client that has already given up (a timeout, a size cap) is no error:
        that is what such tests are about."""
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            self.send_response(status)
            if content_type is not None:
                self.send_header("Content-Type", content_type)
            if status != 204:  # No Content has no Content-Length
                self.send_header("Content-Length", str(len(payload)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass


class _HTTPServer(ThreadingHTTPServer):
    loopback: LoopbackServer


class LoopbackServer:
    """A real HTTP server on a free loopback port, serving from a daemon thread once started."""

    def __init__(self, *, get: Answer | None = None, post: Answer | None = None) -> None:
        self._answers = {"GET": get or self.get, "POST": post or self.post}
        self.closing = threading.Event()
        self._httpd = _HTTPServer(("127.0.0.1", 0), Request)
        self._httpd.loopback = self
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        # A short poll interval keeps shutdown (once per test) quick.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def handle(self, request: Request) -> None:
        self._answers[request.command](request)

    def get(self, request: Request) -> None:
        request.send_error(501, f"Unsupported method ({request.command!r})")

    def post(self, request: Request) -> None:
        request.send_error(501, f"Unsupported method ({request.command!r})")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Let hanging replies go, then stop serving and free the port."""
        self.closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
