"""A request body sent in chunks (``Transfer-Encoding: chunked``, no ``Content-Length``) is
read like any other by the web server the project runs (gunicorn): Django on its own reads such
a body as empty, so a LIS that streams its JSON got answers to a request it never made (found by
the schemathesis soak: a chunked form body to the delivery routes)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from orchestrator.accounts.models import User
from orchestrator.cases.models import Case
from orchestrator.chunked import ChunkedBodies
from orchestrator.demo_data import load_demo_data
from orchestrator.integrations.access import do_create_token
from tests.conftest import PASSWORD, case_document

pytestmark = pytest.mark.django_db(transaction=True)


def in_chunks(body: bytes, size: int = 100) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_chunked_json_body_is_read_by_the_web_server(web_server: str) -> None:
    load_demo_data(PASSWORD, "http://127.0.0.1:9")
    _, secret = do_create_token(User.objects.get(username="admin"), "LIS")
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    document = case_document("breast-fna-malignant", accession="S26-CHUNK-1")
    body = json.dumps({"document": document, "start_run": False}).encode()

    with httpx.Client(base_url=web_server, headers=headers, timeout=30) as client:
        sent = client.post("/api/v1/integration/cases/submit", content=in_chunks(body))
        broken = json.dumps({"document": {**document, "accession": ""}}).encode()
        refused = client.post("/api/v1/integration/cases/submit", content=in_chunks(broken))

    assert "content-length" not in sent.request.headers
    assert sent.request.headers["transfer-encoding"] == "chunked"
    assert sent.status_code == 201, sent.text
    assert Case.objects.filter(accession="S26-CHUNK-1").exists()
    # What was read is what was sent: its mistake is named.
    assert refused.status_code == 400
    assert refused.json()["problems"] == ["accession: required text"]


def test_a_server_that_does_not_end_its_input_is_left_alone() -> None:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ)
        return []

    raw = io.BytesIO(b"5\r\nhello\r\n0\r\n\r\n")
    environ = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": raw}
    ChunkedBodies(app)(environ, lambda *args: None)
    assert "CONTENT_LENGTH" not in seen
    assert seen["wsgi.input"] is raw
