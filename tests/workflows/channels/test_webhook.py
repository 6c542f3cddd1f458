"""The webhook channel against a real HTTP receiver: signed bodies, and the verdict on each
kind of answer (accepted, retried later, rejected for good)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

import httpx
import pytest

from tests.loopback import LoopbackServer, Request
from workflows.channels import CHANNELS, Destination, Verdict

from .conftest import message

SECRET = b"hook-secret"
CHANNEL = CHANNELS["webhook"]


class Receiver(LoopbackServer):
    """``/ok`` 202, ``/bad`` 401, ``/busy`` 503, ``/moved`` 302, ``/slow`` never answers."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, dict[str, str], bytes]] = []

    def post(self, request: Request) -> None:
        self.seen.append((request.path, request.header_map(), request.body()))
        answers = {"/ok": 202, "/bad": 401, "/busy": 503, "/moved": 302}
        if request.path == "/slow":
            request.hang(5)
            return
        status = answers[request.path]
        extra = [("Location", "http://127.0.0.1:9/")] if status == 302 else []
        request.reply(status, {"status": status}, *extra)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def to(receiver: Receiver, path: str, **changes: object) -> Destination:
    return Destination(slug="hook", channel="webhook", address=f"{receiver.url}{path}",
                       timeout_s=float(changes.pop("timeout_s", 5.0)), **changes)  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.anyio
async def test_it_posts_the_body_signed_with_the_key_and_idempotency_headers(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    answer = await CHANNEL.send(http, to(receiver, "/ok", signing_key=SECRET), message())

    assert (answer.verdict, answer.summary) == (Verdict.ACCEPTED, "HTTP 202")
    [(_, headers, body)] = receiver.seen
    assert body == b'{"event":"report.final"}'
    expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    assert headers["x-pathflow-signature"] == expected
    assert headers["idempotency-key"] == "report:7:destination:3"
    assert headers["x-pathflow-event"] == "report.final"
    assert "authorization" not in headers  # the secret signs; it is never sent


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "verdict", "summary"),
    [
        ("/bad", Verdict.REJECTED, "HTTP 401"),
        ("/busy", Verdict.RETRY, "HTTP 503"),
        ("/moved", Verdict.REJECTED, "redirect"),
        ("/slow", Verdict.RETRY, "no answer within 0.3 s"),
    ],
)
async def test_each_answer_gets_its_verdict(
    http: httpx.AsyncClient, receiver: Receiver, path: str, verdict: Verdict, summary: str
) -> None:
    answer = await CHANNEL.send(http, to(receiver, path, timeout_s=0.3), message())

    assert answer.verdict == verdict
    assert summary in answer.summary
    assert len(receiver.seen) == 1  # a redirect is not followed


@pytest.mark.anyio
async def test_an_unreachable_receiver_is_retried_later(http: httpx.AsyncClient) -> None:
    gone = Destination(slug="hook", channel="webhook", address="http://127.0.0.1:9/x",
                       timeout_s=2.0)  # fmt: skip

    answer = await CHANNEL.send(http, gone, message())

    assert answer.verdict == Verdict.RETRY
    assert "cannot connect" in answer.summary


def test_a_webhook_address_is_an_http_url() -> None:
    assert CHANNEL.address_problems("https://lis.hospital.local/hooks") == []
    assert CHANNEL.address_problems("lis.hospital.local:2575") == [
        "'lis.hospital.local:2575' is not an http(s) URL"
    ]
    assert CHANNEL.address_problems("http://user:pw@lis/x") == [
        "a URL must not carry credentials; use a secret reference"
    ]
