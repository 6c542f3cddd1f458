"""A model server for the benches: Open Inference Protocol v2 answers from a thread in the bench
process, on a free loopback port, after a delay chosen per model (``delay_s``)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def answer(model: str) -> dict[str, Any]:
    """The answer of ``model``: the FNA classifier's, the IHC index's, or a generic one."""
    outputs = {
        "breast-fna": ("predict_proba", [1, 2], [0.07, 0.93]),
        "ihc-dab": ("positive_fraction", [1], [0.285]),
    }.get(model, ("p", [1], [0.5]))
    name, shape, data = outputs
    return {
        "model_name": model,
        "model_version": "1",
        "outputs": [{"name": name, "datatype": "FP64", "shape": shape, "data": data}],
    }


@contextmanager
def model_server(delay_s: Callable[[str], float] = lambda model: 0.0) -> Iterator[str]:
    """Serve until the block ends; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real model server
        # Headers and body go out in two writes; with Nagle's algorithm the body would wait for
        # the client's delayed ACK (40 ms on Linux), which real model servers do not make you pay.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            model = self.path.strip("/").split("/")[2]
            time.sleep(delay_s(model))
            body = json.dumps(answer(model)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
