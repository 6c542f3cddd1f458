"""The FHIR REST channel against a real HTTP server: the bundle POSTed to the base URL with
FHIR headers and the delivery's key; answers judged like any HTTP destination."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.loopback import LoopbackServer, Request
from workflows.channels import CHANNELS, Destination, Verdict

from .conftest import message

CHANNEL = CHANNELS["fhir_rest"]


class FhirServer(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.status = 200
        self.seen: list[tuple[str, dict[str, str], bytes]] = []

    def post(self, request: Request) -> None:
        self.seen.append((request.path, request.header_map(), request.body()))
        request.reply(self.status, {"resourceType": "Bundle", "type": "transaction-response"},
                      content_type="application/fhir+json")  # fmt: skip


@pytest.fixture
def server() -> Iterator[FhirServer]:
    with FhirServer() as running:
        yield running


@pytest.mark.anyio
async def test_it_posts_the_bundle_to_the_base_url_with_its_key(
    http: httpx.AsyncClient, server: FhirServer
) -> None:
    base = Destination(slug="ehr", channel="fhir_rest", address=f"{server.url}/fhir",
                       timeout_s=5.0, headers={"Authorization": "Bearer t0ken"})  # fmt: skip
    bundle = b'{"resourceType":"Bundle","type":"transaction"}'

    answer = await CHANNEL.send(http, base, message(bundle, content_type="application/fhir+json"))

    assert (answer.verdict, answer.summary) == (Verdict.ACCEPTED, "HTTP 200")
    [(path, headers, body)] = server.seen
    assert (path, body) == ("/fhir", bundle)
    assert headers["content-type"] == "application/fhir+json"
    assert headers["idempotency-key"] == "report:7:destination:3"
    assert headers["authorization"] == "Bearer t0ken"
    assert "transaction-response" in answer.raw


@pytest.mark.anyio
@pytest.mark.parametrize(("status", "verdict"), [(400, Verdict.REJECTED), (500, Verdict.RETRY),
                                                 (429, Verdict.RETRY)])  # fmt: skip
async def test_a_refusal_stops_and_a_server_error_is_retried(
    http: httpx.AsyncClient, server: FhirServer, status: int, verdict: Verdict
) -> None:
    server.status = status
    base = Destination(slug="ehr", channel="fhir_rest", address=server.url, timeout_s=5.0)

    answer = await CHANNEL.send(http, base, message())

    assert (answer.verdict, answer.summary) == (verdict, f"HTTP {status}")


def test_a_fhir_destination_is_a_base_url() -> None:
    assert CHANNEL.address_problems("https://ehr.hospital.local/fhir") == []
    assert CHANNEL.address_problems("ehr:443") == ["'ehr:443' is not an http(s) URL"]
