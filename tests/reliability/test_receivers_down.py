"""Receiving systems down for a period while reports are signed: everything is delivered after
they come back, in each destination's order, once.

Three real loopback receivers, one per channel: an MLLP LIS (tests/mllp.py), a FHIR server and
a webhook receiver (HTTP, below). While "down" the LIS and the webhook receiver refuse
connections (nothing listens on their port) and the FHIR server accepts each connection and
closes it before reading a byte; reports are signed meanwhile (their deliveries queued by the
outbox). Then they come back on the same ports. Counted at the receivers: every message by
its MSH-10 control id (HL7) or Idempotency-Key (FHIR, webhook) — none missing, none twice,
and in the order the outbox queued them for that destination.

The reduced form (one outage, a few reports) runs in ``make test``; the full form carries the
``soak`` marker. Figures are printed as ``name=value`` (``pytest -s``).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

import pytest

from orchestrator import devstack
from orchestrator.accounts.models import User
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import DemoData
from orchestrator.integrations.outbox import queue_report_deliveries
from orchestrator.integrations.outbox_models import Delivery
from tests.mllp import MllpReceiver
from tests.orchestrator.integrations.conftest import (
    committed_demo,  # noqa: F401 (a fixture)
    destination,
    new_case,
    route,
    signed_report,
)

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.receiver.record(self.headers.get("Idempotency-Key", ""), body)
        answer = self.server.receiver.answer
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    receiver: HttpReceiver

    def verify_request(self, request: Any, client_address: Any) -> bool:
        if self.receiver.dropping:
            # Down, the "close" way: the connection is accepted and closed unread.
            request.shutdown(socket.SHUT_RDWR)
            return False
        return True


class HttpReceiver:
    """An HTTP receiver on a fixed loopback port that records the Idempotency-Key of each
    message it takes (answering 200 with ``answer``), and can go down: ``refuse`` (its port is
    closed: connections are refused) or ``close`` (it accepts connections and closes them
    before reading), then come back on the same port."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.port = devstack.free_port()
        self.answer = answer
        self.keys: list[str] = []
        self.dropping = False
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def record(self, key: str, body: bytes) -> None:
        with self._lock:
            self.keys.append(key)

    def up(self) -> None:
        self.dropping = False
        if self._server is None:
            server = _Server(("127.0.0.1", self.port), _Handler)
            server.receiver = self
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()

    def down(self, how: str) -> None:
        if how == "close":
            self.up()
            self.dropping = True
            return
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        self.up()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.down("refuse")


FHIR_ANSWER = {
    "resourceType": "Bundle",
    "type": "transaction-response",
    "entry": [{"response": {"status": "200 OK"}}, {"response": {"status": "200 OK"}}],
}


def in_order(received: list[str], queued: list[str]) -> bool:
    """Whether the first copies of the messages arrived in the order they were queued."""
    first = list(dict.fromkeys(received))
    return first == queued


@pytest.mark.parametrize(
    ("reports", "outages", "down_s"),
    [
        pytest.param(4, 1, 5.0, id="reduced"),
        pytest.param(60, 3, 20.0, id="full", marks=pytest.mark.soak),
    ],
)
def test_receivers_down_for_a_period_get_everything_after_in_order_once(
    committed_demo: DemoData,  # noqa: F811
    worker: devstack.ManagedProcess,
    reports: int,
    outages: int,
    down_s: float,
) -> None:
    department = committed_demo.department
    signer = User.objects.get(username="pathologist")
    lis_receiver = MllpReceiver().start()
    with HttpReceiver(FHIR_ANSWER) as fhir, HttpReceiver({"ok": True}) as hooks:
        destinations: dict[str, ModelEndpoint] = {
            "hl7": destination(department, "lis", "hl7_mllp", lis_receiver.address, timeout_s=2),
            "fhir": destination(department, "ehr", "fhir_rest", f"{fhir.url}/fhir", timeout_s=2),
            "webhook": destination(department, "hooks", "webhook", hooks.url, timeout_s=2),
        }
        for endpoint in destinations.values():
            route(endpoint)
        started = time.monotonic()
        signed = 0

        def sign(count: int) -> None:
            nonlocal signed
            for _ in range(count):
                signed += 1
                case = new_case(department, f"S26-{80000 + signed:05d}")
                queue_report_deliveries(signed_report(case, signer))

        per_outage = [reports // outages] * outages
        per_outage[-1] += reports - sum(per_outage)
        drains: list[float] = []
        for count in per_outage:
            sign(1)  # queued just before the receivers go down
            lis_receiver.stop()
            fhir.down("close")
            hooks.down("refuse")
            went_down = time.monotonic()
            pause = down_s / (count + 1)
            for _ in range(count - 1):
                time.sleep(pause)
                sign(1)
            time.sleep(max(0.0, went_down + down_s - time.monotonic()))
            lis_receiver.start()  # the same port
            fhir.up()
            hooks.up()
            back_at = time.monotonic()
            # Everything queued so far drains before the next outage.
            deadline = back_at + 60 + reports
            while Delivery.objects.exclude(status="delivered").exists():
                assert time.monotonic() < deadline, list(
                    Delivery.objects.exclude(status="delivered").values_list(
                        "pk", "channel", "status", "attempts", "last_error"
                    )
                )
                time.sleep(0.2)
            drains.append(time.monotonic() - back_at)
        time.sleep(2.0)  # a duplicate would arrive now
        elapsed = time.monotonic() - started
        received = {
            "hl7": lis_receiver.received_ids(),
            "fhir": list(fhir.keys),
            "webhook": list(hooks.keys),
        }
    lis_receiver.stop()

    duplicated = missing = out_of_order = 0
    attempts = 0
    for name, endpoint in destinations.items():
        rows = list(Delivery.objects.filter(destination=endpoint).order_by("queued_at", "pk"))
        attempts += sum(r.attempts for r in rows)
        queued = [r.control_id if name == "hl7" else r.idempotency_key for r in rows]
        copies = Counter(received[name])
        duplicated += sum(n - 1 for n in copies.values())
        missing += len(set(queued) - set(copies))
        out_of_order += 0 if in_order(received[name], queued) else 1
        assert len(rows) == signed, name
        print(f"receivers_down_{name}_messages={len(received[name])}")
    retried = Delivery.objects.filter(attempts__gt=1).count()
    print(f"receivers_down_outages={outages}")
    print(f"receivers_down_seconds_each={down_s:g}")
    print(f"receivers_down_reports={signed}")
    print(f"receivers_down_deliveries={Delivery.objects.count()}")
    print(f"receivers_down_deliveries_retried={retried}")
    print(f"receivers_down_attempts={attempts}")
    print(f"receivers_down_missing={missing}")
    print(f"receivers_down_duplicated={duplicated}")
    print(f"receivers_down_destinations_out_of_order={out_of_order}")
    print(f"receivers_down_drained_after_back_s={max(drains):.1f}")
    print(f"receivers_down_seconds={elapsed:.1f}")
    assert missing == 0
    assert duplicated == 0
    assert out_of_order == 0
    assert retried > 0  # the outage was felt
