"""Request bodies sent with ``Transfer-Encoding: chunked`` (no ``Content-Length``).

Django reads ``CONTENT_LENGTH`` bytes of a body and, without the header, none: a JSON PATCH a
client streams in chunks was read as an empty body and answered as if it asked for nothing (the
schemathesis soak sent such bodies). gunicorn decodes the chunks and marks its input as ending
with the body (``wsgi.input_terminated``), so the body is copied once into a spooled file (in
memory up to Django's ``FILE_UPLOAD_MAX_MEMORY_SIZE``, on disk beyond) whose length becomes
``CONTENT_LENGTH``; Django's own size limits then apply as to any body. A server that does not
mark its input so (Django's development server, which also leaves the chunks unread on the
connection) is left as it is: reading to the end could wait for the client forever.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def is_chunked(environ: dict[str, Any]) -> bool:
    encoding = str(environ.get("HTTP_TRANSFER_ENCODING", ""))
    return "chunked" in encoding.lower() and not environ.get("CONTENT_LENGTH")


class ChunkedBodies:
    """WSGI middleware: a chunked body, already decoded by the server, gets its length."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if is_chunked(environ) and environ.get("wsgi.input_terminated"):
            # Closed (and, on disk, already unlinked) when the request drops it.
            body = tempfile.SpooledTemporaryFile(  # noqa: SIM115
                max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE
            )
            shutil.copyfileobj(environ["wsgi.input"], body, 64 * 1024)
            environ["CONTENT_LENGTH"] = str(body.tell())
            body.seek(0)
            environ["wsgi.input"] = body
        return self.app(environ, start_response)
