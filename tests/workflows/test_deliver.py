"""The deliver node's webhook channel against a real local receiver that checks the HMAC
signature, and once end to end: a run renders a real PDF and delivers it signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pypdf import PdfReader, PdfWriter

from tests.loopback import LoopbackServer, Request
from workflows.context import RunContext
from workflows.errors import EndpointError, NodeError
from workflows.executor import execute_graph
from workflows.registry import NodeType

from .conftest import (
    FakeServices,
    RecordingCheckpoints,
    edge,
    node_type,
    render,
    transform,
    trigger,
)
from .conftest import valid_spec as engine_spec

SECRET = b"hook-secret-for-tests"
REPORT = {"report_id": 7, "sha256": "ab" * 32, "pages": 2}


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    raw: bytes
    verified: bool

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


class Receiver(LoopbackServer):
    """A real webhook receiver. ``/hooks/signed`` accepts only a body whose
    ``X-Pathflow-Signature`` matches an HMAC-SHA256 with ``SECRET`` (401 otherwise);
    ``/hooks/open`` accepts anything; ``/hooks/busy`` answers 503, ``/hooks/moved`` 302,
    ``/hooks/slow`` never answers."""

    def __init__(self) -> None:
        super().__init__()
        self.deliveries: list[Delivery] = []

    def post(self, request: Request) -> None:
        raw = request.body()
        headers = request.header_map()
        expected = "sha256=" + hmac.new(SECRET, raw, hashlib.sha256).hexdigest()
        verified = hmac.compare_digest(headers.get("x-pathflow-signature", ""), expected)
        self.deliveries.append(Delivery(request.path, headers, raw, verified))
        if request.path == "/hooks/slow":
            request.hang(10)
            return
        status, answer, extra = 202, b'{"accepted": true}', []
        if request.path == "/hooks/signed" and not verified:
            status, answer = 401, b'{"error": "bad signature"}'
        elif request.path == "/hooks/busy":
            status, answer = 503, b"try later"
        elif request.path == "/hooks/moved":
            status, answer, extra = 302, b"", [("Location", "http://127.0.0.1:9/")]
        request.reply(status, answer, *extra, content_type=None)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


@pytest.fixture
def destinations(services: FakeServices, receiver: Receiver) -> FakeServices:
    for name in ("signed", "open", "busy", "moved"):
        services.add(f"lis-{name}", protocol="webhook", base_url=f"{receiver.url}/hooks/{name}")
    services.add("lis-slow", protocol="webhook", base_url=f"{receiver.url}/hooks/slow",
                 timeout_s=0.3)  # fmt: skip
    services.secrets["lis-signed"] = SECRET
    return services


@pytest.fixture
def deliver() -> NodeType:
    return node_type("deliver")


def config(destination: str = "lis-signed", **changes: Any) -> dict[str, Any]:
    return {"channel": "webhook", "destination": destination, "event": "report.drafted",
            **changes}  # fmt: skip


def one_page_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# --- the engine side ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_it_posts_the_report_signed_with_the_destinations_secret(
    context: RunContext, destinations: FakeServices, receiver: Receiver, deliver: NodeType
) -> None:
    context.node_id = "send"
    cfg = config(data={"accession": "case.accession", "tiles": "case.specimens[0].tiles | length"})
    assert deliver.config_problems(cfg) == []

    outputs = await deliver.run(context, {"report": REPORT}, cfg)

    [delivery] = receiver.deliveries
    assert delivery.verified
    assert delivery.path == "/hooks/signed"
    assert delivery.headers["idempotency-key"] == "run-1:send"
    assert delivery.headers["x-pathflow-event"] == "report.drafted"
    assert delivery.headers["content-type"] == "application/json"
    assert "authorization" not in delivery.headers  # the secret signs; it is never sent
    assert delivery.body == {
        "event": "report.drafted",
        "run": "run-1",
        "report": {"id": 7, "sha256": "ab" * 32, "pages": 2, "status": "draft"},
        "data": {"accession": "S26-00001", "tiles": 1},
    }
    assert outputs == {
        "delivery": {
            "channel": "webhook",
            "destination": "lis-signed",
            "event": "report.drafted",
            "report_id": 7,
            "idempotency_key": "run-1:send",
            "status": 202,
            "signed": True,
        }
    }


@pytest.mark.anyio
async def test_the_pdf_is_attached_when_asked_and_arrives_intact(
    context: RunContext, destinations: FakeServices, receiver: Receiver, deliver: NodeType
) -> None:
    pdf = one_page_pdf()
    destinations.pdfs[7] = pdf
    report = {**REPORT, "sha256": hashlib.sha256(pdf).hexdigest(), "pages": 1}

    await deliver.run(context, {"report": report}, config(include_pdf=True))

    [delivery] = receiver.deliveries
    assert delivery.verified
    received = base64.b64decode(delivery.body["pdf_base64"])
    assert hashlib.sha256(received).hexdigest() == delivery.body["report"]["sha256"]
    assert len(PdfReader(io.BytesIO(received)).pages) == 1


@pytest.mark.anyio
async def test_a_run_the_host_withholds_builds_the_delivery_but_does_not_send_it(
    context: RunContext, destinations: FakeServices, receiver: Receiver, deliver: NodeType
) -> None:
    destinations.withheld = "a test run of a draft is never delivered"
    pdf = one_page_pdf()
    destinations.pdfs[7] = pdf
    report = {**REPORT, "sha256": hashlib.sha256(pdf).hexdigest()}

    outputs = await deliver.run(context, {"report": report}, config(include_pdf=True))

    assert receiver.deliveries == []
    assert outputs["delivery"]["status"] == "not sent"
    assert outputs["delivery"]["reason"] == "a test run of a draft is never delivered"


@pytest.mark.anyio
async def test_a_pdf_that_does_not_match_its_checksum_is_not_sent(
    context: RunContext, destinations: FakeServices, receiver: Receiver, deliver: NodeType
) -> None:
    destinations.pdfs[7] = one_page_pdf()

    with pytest.raises(NodeError) as raised:
        await deliver.run(context, {"report": REPORT}, config(include_pdf=True))

    assert str(raised.value) == (
        "the stored PDF of report 7 does not match the SHA-256 it was rendered with; it was "
        "not sent"
    )
    assert receiver.deliveries == []


@pytest.mark.anyio
async def test_a_destination_without_a_secret_gets_an_unsigned_delivery(
    context: RunContext, destinations: FakeServices, receiver: Receiver, deliver: NodeType
) -> None:
    outputs = await deliver.run(context, {"report": REPORT}, config("lis-open"))

    [delivery] = receiver.deliveries
    assert "x-pathflow-signature" not in delivery.headers
    assert outputs["delivery"]["signed"] is False


@pytest.mark.anyio
async def test_a_receiver_that_rejects_the_signature_fails_the_node_for_good(
    context: RunContext, destinations: FakeServices, receiver: Receiver, deliver: NodeType
) -> None:
    destinations.secrets["lis-signed"] = b"an-old-rotated-secret"

    with pytest.raises(EndpointError) as raised:
        await deliver.run(context, {"report": REPORT}, config())

    assert str(raised.value) == (
        f"destination 'lis-signed' ({receiver.url}/hooks/signed): did not accept the delivery: "
        'HTTP 401: {"error": "bad signature"}'
    )
    assert raised.value.permanent
    assert not receiver.deliveries[0].verified


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("destination", "problem", "permanent"),
    [
        ("lis-busy", "did not accept the delivery: HTTP 503: try later", False),
        (
            "lis-moved",
            "answered with a redirect (302); redirects are not followed — register the final "
            "URL in the catalog",
            True,
        ),
        ("lis-slow", "no answer within 0.3 s", False),
    ],
)
async def test_a_receiver_that_does_not_accept_fails_the_node_naming_it(
    context: RunContext,
    destinations: FakeServices,
    receiver: Receiver,
    deliver: NodeType,
    destination: str,
    problem: str,
    permanent: bool,
) -> None:
    with pytest.raises(EndpointError) as raised:
        await deliver.run(context, {"report": REPORT}, config(destination))

    url = destinations.endpoints[destination].base_url
    assert str(raised.value) == f"destination '{destination}' ({url}): {problem}"
    assert raised.value.permanent is permanent
    assert len(receiver.deliveries) == 1  # redirects are not followed


@pytest.mark.anyio
async def test_an_unreachable_receiver_fails_naming_it(
    context: RunContext, services: FakeServices, refused_url: str, deliver: NodeType
) -> None:
    services.add("lis-gone", protocol="webhook", base_url=f"{refused_url}/hooks")

    with pytest.raises(EndpointError, match=r"^destination 'lis-gone' \(.*\): cannot connect"):
        await deliver.run(context, {"report": REPORT}, config("lis-gone"))


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("destination", "inputs", "cfg", "message"),
    [
        ("lis-model", {"report": REPORT}, {},
         "destination 'lis-model' is not a webhook destination (its catalog protocol is "
         "open_inference_v2)"),
        ("lis-nowhere", {"report": REPORT}, {}, "destination 'lis-nowhere' is not in the catalog"),
        ("lis-signed", {"report": {"p": 0.5}}, {},
         "input 'report' is not a rendered report (connect a render node's report port)"),
        ("lis-signed", {"report": REPORT}, {"data": {"urgent": "case.urgent"}},
         "data.urgent: 'case.urgent' has no value for this case"),
        ("lis-signed", {"report": REPORT}, {"include_pdf": True},
         "report 7 of this case has no PDF"),
    ],
)  # fmt: skip
async def test_it_refuses_what_it_cannot_deliver_before_sending(
    context: RunContext,
    destinations: FakeServices,
    receiver: Receiver,
    deliver: NodeType,
    destination: str,
    inputs: dict[str, Any],
    cfg: dict[str, Any],
    message: str,
) -> None:
    destinations.add("lis-model")  # an Open Inference endpoint, not a destination

    with pytest.raises(NodeError) as raised:
        await deliver.run(context, inputs, config(destination, **cfg))

    assert str(raised.value) == message
    assert raised.value.permanent
    assert receiver.deliveries == []


def test_the_config_names_what_is_wrong(deliver: NodeType) -> None:
    assert deliver.config_problems(config(channel="hl7", event="Report Drafted")) == [
        "config['channel']: 'hl7' is not one of ['webhook']",
        "config['event']: 'Report Drafted' does not match '^[a-z][a-z0-9_.-]*$'",
    ]
    assert deliver.config_problems(config(data={"accession": "case.accession |"})) == [
        "data.accession: expression 'case.accession |' does not compile: unexpected end of "
        "template, expected 'name'."
    ]


@pytest.mark.anyio
async def test_a_graph_renders_then_delivers_the_report_it_rendered(
    context: RunContext, destinations: FakeServices, receiver: Receiver
) -> None:
    spec = engine_spec(
        [trigger(), transform("fields", {"procedure": "case.findings.procedure"}), render(),
         {"id": "send", "type": "deliver", "config": config()}],
        [edge("case", "fields", source_port="case"),
         edge("fields", "report", "findings", "findings"),
         edge("report", "send", "report", "report")],
    )  # fmt: skip

    outcome = await execute_graph(spec, context, RecordingCheckpoints())

    assert outcome.status == "succeeded", outcome.error
    [delivery] = receiver.deliveries
    rendered = outcome.results["report"].outputs["report"]
    assert delivery.verified
    assert delivery.body["report"] == {
        "id": rendered["report_id"],
        "sha256": rendered["sha256"],
        "pages": 1,
        "status": "draft",
    }
    assert outcome.results["send"].outputs["delivery"]["status"] == 202


# --- end to end through the Django host ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_run_delivers_its_rendered_pdf_signed_with_the_catalog_secret(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestrator.cases.services import create_case
    from orchestrator.catalog.models import ModelEndpoint, Protocol
    from orchestrator.demo_data import load_demo_data
    from orchestrator.designs.services import import_workflow
    from orchestrator.reports.models import Report
    from orchestrator.runs.models import NodeRun, RunStatus
    from orchestrator.runs.services import execute_run, start_run
    from tests.conftest import PASSWORD, case_document

    from .conftest import graph

    demo = load_demo_data(PASSWORD, "http://127.0.0.1:9")
    monkeypatch.setenv("PATHFLOW_TEST_LIS_SECRET", SECRET.decode())
    ModelEndpoint.objects.create(
        department=demo.department, slug="lis", name="LIS webhook", protocol=Protocol.WEBHOOK,
        base_url=f"{receiver.url}/hooks/signed", secret_ref="PATHFLOW_TEST_LIS_SECRET",
        timeout_s=5,
    )  # fmt: skip
    document = graph(
        [trigger(), transform("fields", {"tumour_size_mm": "case.findings.tumour_size_mm"},
                              base="case.findings"), render(),
         {"id": "send", "type": "deliver", "config": config("lis", include_pdf=True,
                                                            data={"accession": "case.accession"})}],
        [edge("case", "fields", source_port="case"),
         edge("fields", "report", "findings", "findings"),
         edge("report", "send", "report", "report")],
    )  # fmt: skip
    version = import_workflow(
        demo.department, document, demo.workflow_version.template_version,
        slug="deliver-to-lis", case_type="breast-resection",
    )  # fmt: skip
    case = create_case(demo.department, case_document("breast-resection"))

    run = start_run(case, version, enqueue=False)
    execute_run(run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    report = Report.objects.get(run=run)
    [delivery] = receiver.deliveries
    assert delivery.verified
    assert delivery.headers["idempotency-key"] == f"{run.pk}:send"
    body = delivery.body
    assert body["report"] == {
        "id": report.pk, "sha256": report.pdf_sha256, "pages": body["report"]["pages"],
        "status": "draft",
    }  # fmt: skip
    assert body["data"] == {"accession": "S26-00001"}
    received = base64.b64decode(body["pdf_base64"])
    assert hashlib.sha256(received).hexdigest() == report.pdf_sha256
    assert received == report.pdf.read()
    assert len(PdfReader(io.BytesIO(received)).pages) == body["report"]["pages"] >= 1
    receipt = NodeRun.objects.get(run=run, node_id="send", status="succeeded").outputs
    assert receipt["delivery"]["signed"] is True

    # A test run of a draft of the same graph checks and builds the delivery, but sends nothing.
    draft = import_workflow(
        demo.department, document, demo.workflow_version.template_version,
        slug="deliver-to-lis", case_type="breast-resection", publish=False,
    )  # fmt: skip
    test_run = start_run(case, draft, enqueue=False, allow_draft=True)
    execute_run(test_run.pk)

    test_run.refresh_from_db()
    assert test_run.status == RunStatus.SUCCEEDED, test_run.error
    assert len(receiver.deliveries) == 1
    withheld = NodeRun.objects.get(run=test_run, node_id="send", status="succeeded").outputs
    assert withheld["delivery"]["status"] == "not sent"
    assert withheld["delivery"]["reason"] == "a test run of a draft is never delivered"
