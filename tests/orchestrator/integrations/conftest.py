"""Fixtures for the integration tests.

Outbox: signed report versions of a real template (made directly until sign-out lands: created
final, since a signed row is never edited), destinations and routes, the MLLP receiver, and
strict HL7 validation with hl7apy. Inbound: the demo department with its routing rules, a real
``manage.py mllp_listener`` process, python-hl7's MLLP client, and orders to send."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db.models import Max
from django.utils import timezone
from hl7.mllp import open_hl7_connection
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message
from hl7apy.parser import parse_message
from pypdf import PdfWriter

from orchestrator import devstack
from orchestrator.accounts.models import Department, Role, User
from orchestrator.cases.models import Case
from orchestrator.cases.services import create_case
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import DemoData, load_demo_data
from orchestrator.integrations.models import InboundMessage, RoutingRule
from orchestrator.integrations.outbox_models import DeliveryRoute
from orchestrator.reports.models import Report, ReportStatus
from tests.conftest import PASSWORD, case_document
from tests.factories import UserFactory
from tests.mllp import MllpReceiver

# The stand-in for the ED payload: hl7apy types OBX-5 as ST of at most 199 characters
# whatever OBX-2 says, so the base64 PDF is replaced before strict validation.
ED_STAND_IN = "^application^pdf^Base64^SlZCRVJp"
_ED = re.compile(r"^(OBX\|[^|]*\|ED\|[^|]*\|[^|]*\|)([^|\r]*)", re.MULTILINE)


def pdf_bytes(text: str = "") -> bytes:
    """A real one-page PDF (distinct per ``text``: it is kept in the document's metadata)."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": text or "report"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def ed_payload(message: str) -> bytes:
    """The PDF bytes inside the message's ED OBX."""
    import base64

    match = _ED.search(message.replace("\r", "\n"))
    assert match, "the message has no ED OBX"
    return base64.b64decode(match.group(2).split("^")[4])


def strictly_valid(message: str) -> Message:
    """The message parsed and validated by hl7apy at the strict level (ED payload stood in)."""
    text = _ED.sub(lambda m: m.group(1) + ED_STAND_IN, message.replace("\r", "\n"))
    parsed = parse_message(
        text.replace("\n", "\r"), validation_level=VALIDATION_LEVEL.STRICT, find_groups=True
    )
    assert parsed.validate()
    return parsed


def segments(message: str, name: str) -> list[list[str]]:
    return [s.split("|") for s in message.split("\r") if s.startswith(name + "|")]


@pytest.fixture
def outbox_demo(db: None) -> DemoData:
    """The demo department, users and breast template (no model server needed), inside the
    test's transaction: worker processes of other tests (which consume the delivery queue and
    sweep due deliveries) never see these rows, so a test drives its dispatcher alone."""
    return load_demo_data(PASSWORD, "http://127.0.0.1:9")


@pytest.fixture
def committed_demo(transactional_db: None) -> DemoData:
    """The same, committed: for tests with worker and dispatcher processes."""
    return load_demo_data(PASSWORD, "http://127.0.0.1:9")


@pytest.fixture
def signer(outbox_demo: DemoData) -> User:
    return User.objects.get(username="pathologist")


def new_case(department: Department, accession: str = "S26-00001", **changes: Any) -> Case:
    return create_case(
        department, case_document("breast-resection", accession=accession, **changes)
    )


def signed_report(
    case: Case,
    signer: User | None,
    *,
    status: str = ReportStatus.FINAL,
    data: dict[str, Any] | None = None,
    provenance: dict[str, Any] | None = None,
    supersedes: Report | None = None,
    language: str = "en",
) -> Report:
    """A report version of ``case`` created as it will be stored at sign-out (never edited)."""
    from orchestrator.designs.models import TemplateVersion

    version = TemplateVersion.objects.filter(template__slug="breast-carcinoma").first()
    assert version is not None
    number = (case.reports.aggregate(n=Max("version_no"))["n"] or 0) + 1
    pdf = pdf_bytes(f"{case.accession} v{number}")
    signed = status not in (ReportStatus.DRAFT, ReportStatus.PRELIMINARY)
    report = Report(
        case=case,
        template_version=version,
        version_no=number,
        status=status,
        supersedes=supersedes,
        language=language,
        data=case.findings if data is None else data,
        provenance=provenance or {},
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        signed_by=signer if signed else None,
        signed_at=timezone.now() if signed else None,
    )
    report.pdf.save(f"{case.accession}-v{number}.pdf", ContentFile(pdf), save=False)
    report.save()
    return report


def destination(
    department: Department, slug: str, channel: str, address: str, **changes: Any
) -> ModelEndpoint:
    return ModelEndpoint.objects.create(
        department=department,
        slug=slug,
        name=slug,
        protocol=channel,
        base_url=address,
        timeout_s=changes.pop("timeout_s", 5.0),
        **changes,
    )


def route(
    endpoint: ModelEndpoint, statuses: tuple[str, ...] = ("final",), **changes: Any
) -> DeliveryRoute:
    return DeliveryRoute.objects.create(
        department=endpoint.department,
        destination=endpoint,
        report_statuses=list(statuses),
        **changes,
    )


@pytest.fixture
def receiver() -> Iterator[MllpReceiver]:
    with MllpReceiver() as server:
        yield server


# --- inbound ---------------------------------------------------------------------------------

# FNA measurements (demo/cases/breast-fna-malignant.json), as an OBX would carry them.
FNA_FEATURES = (
    "17.99~10.38~122.8~1001.0~0.1184~0.2776~0.3001~0.1471~0.2419~0.07871~1.095~0.9053~8.589~"
    "153.4~0.006399~0.04904~0.05373~0.01587~0.03003~0.006193~25.38~17.33~184.6~2019.0~0.1622~"
    "0.6656~0.7119~0.2654~0.4601~0.1189"
)


@pytest.fixture
def integration(department: Department) -> User:
    return UserFactory.create(username="integration", department=department, role=Role.INTEGRATION)


@pytest.fixture
def routed(transactional_db: None) -> DemoData:
    """The demo department, template and workflow (endpoints unreachable: nothing here runs a
    model), with the demo's routing rule: orders of code BREAST start the demo workflow."""
    data = load_demo_data(PASSWORD, "http://127.0.0.1:9")
    assert RoutingRule.objects.filter(department=data.department, order_code="BREAST").exists()
    return data


@dataclass
class Running:
    process: devstack.ManagedProcess
    port: int


def start_listener(env: dict[str, str], log_dir: Path, **settings: str) -> Running:
    listener_env = {
        **env,
        "PATHFLOW_MLLP_ROUTING_CACHE_S": "0",
        "PATHFLOW_MLLP_SWEEP_SECONDS": "1",
        **{f"PATHFLOW_MLLP_{k.upper()}": v for k, v in settings.items()},
    }
    process, port = devstack.start_mllp_listener(0, log_dir, env=listener_env)
    return Running(process, port)


@pytest.fixture
def listener_factory(
    worker_env: dict[str, str], tmp_path: Path
) -> Iterator[Callable[..., Running]]:
    """Starts ``manage.py mllp_listener`` processes on the test database and broker."""
    started: list[Running] = []

    def start(**settings: str) -> Running:
        running = start_listener(worker_env, tmp_path / f"listener-{len(started)}", **settings)
        started.append(running)
        return running

    yield start
    for running in started:
        running.process.stop()


@pytest.fixture
def listener(routed: DemoData, listener_factory: Callable[..., Running]) -> Running:
    return listener_factory()


# --- python-hl7's MLLP client ---------------------------------------------------------------


def exchange(port: int, *frames: bytes, timeout: float = 15) -> list[bytes | None]:
    """Send each frame over one connection with python-hl7's client and read its ACK (None:
    the listener closed the connection instead)."""

    async def talk() -> list[bytes | None]:
        reader, writer = await open_hl7_connection("127.0.0.1", port)
        answers: list[bytes | None] = []
        try:
            for frame in frames:
                writer.writeblock(frame)
                await writer.drain()
                try:
                    answers.append(await asyncio.wait_for(reader.readblock(), timeout))
                except (asyncio.IncompleteReadError, ConnectionError):
                    answers.append(None)
                    break
        finally:
            writer.close()
        return answers

    return asyncio.run(talk())


def send_acknowledged(
    port: int,
    frames: dict[str, bytes],
    *,
    connections: int = 4,
    on_ack: Callable[[int], None] | None = None,
) -> set[str]:
    """Send ``frames`` (by control id) over ``connections`` python-hl7 connections, each
    waiting for a frame's AA before the next, and return the control ids acknowledged. A
    connection that fails (the listener died) stops; ``on_ack`` gets the running count after
    each ACK (to kill the listener mid-burst)."""
    acknowledged: set[str] = set()

    async def client(ids: list[str]) -> None:
        try:
            reader, writer = await open_hl7_connection("127.0.0.1", port)
        except OSError:
            return
        try:
            for control_id in ids:
                writer.writeblock(frames[control_id])
                await writer.drain()
                ack: bytes = await asyncio.wait_for(reader.readblock(), 30)
                assert f"MSA|AA|{control_id}\r".encode() in ack, ack
                acknowledged.add(control_id)
                if on_ack is not None:
                    on_ack(len(acknowledged))
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def burst() -> None:
        ids = list(frames)
        await asyncio.gather(*(client(ids[i::connections]) for i in range(connections)))

    asyncio.run(burst())
    return acknowledged


def send_bytes(port: int, data: bytes, *, close_after: bool = False, timeout: float = 15) -> bytes:
    """Send ``data`` as it is (no framing added) and return what the listener sends until it
    has sent one whole frame or closed the connection (b"": it closed without a word)."""

    async def talk() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(data)
        await writer.drain()
        if close_after:
            writer.write_eof()
        received = b""
        try:
            while chunk := await asyncio.wait_for(reader.read(65536), timeout):
                received += chunk
                if received.endswith(b"\x1c\r"):
                    break
        finally:
            writer.close()
        return received

    return asyncio.run(talk())


def ack_fields(ack: bytes | None, codec: str = "utf-8") -> dict[str, list[str]]:
    """Segments of an ACK by name, each as its list of fields (fields[n] is field n)."""
    assert ack is not None, "the listener closed the connection instead of answering"
    segments: dict[str, list[str]] = {}
    for line in ack.decode(codec).split("\r"):
        if not line:
            continue
        fields = line.split("|")
        if fields[0] == "MSH":
            fields = ["MSH", "|", *fields[1:]]
        key = fields[0]
        n = 1
        while key in segments:
            n += 1
            key = f"{fields[0]}{n}"
        segments[key] = fields
    return segments


# --- orders ---------------------------------------------------------------------------------


def order(
    control_id: str,
    *,
    accession: str | None = None,
    version: str = "2.5.1",
    kind: str = "ORM^O01",
    charset: str = "UNICODE UTF-8",
    codec: str = "utf-8",
    family: str = "张",
    given: str = "三",
    mrn: str = "MRN-0001",
    order_code: str = "BREAST",
    processing: str = "P",
    facility: str = "PATHOLOGY",
    separator: str = "\r",
    clinical: str = "左乳肿物",
    extra: tuple[str, ...] = (),
    specimens: tuple[str, ...] = (),
) -> bytes:
    """An order as a LIS sends it, encoded in ``codec`` (MSH-18 says ``charset``)."""
    accession = accession or f"S-{control_id}"
    msh18 = f"||||||{charset}" if charset else ""
    lines = [
        f"MSH|^~\\&|LIS|HOSPITAL|PATHFLOW|{facility}|20260301120000||{kind}|{control_id}|"
        f"{processing}|{version}{msh18}",
        f"PID|1||{mrn}^^^HOSPITAL^MR||{family}^{given}||19710602|F",
        f"ORC|NW|PL-{control_id}|{accession}||||||20260301115900|||^王^医生",
        f"OBR|1|PL-{control_id}|{accession}|{order_code}^Breast excision|||20260301110000||||||"
        f"{clinical}|^^^LB&Left breast",
        *specimens,
        f"OBX|1|NM|fna_features||{FNA_FEATURES}",
        "OBX|2|RP|ki67^Ki-67 (DAB)||sample:immunohistochemistry",
        *extra,
    ]
    return (separator.join(lines) + separator).encode(codec)


def wait_processed(count: int = 1, timeout: float = 60) -> list[InboundMessage]:
    """Wait until no stored order is left waiting for its case, and ``count`` were processed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        processed = list(InboundMessage.objects.filter(status="processed").order_by("pk"))
        waiting = InboundMessage.objects.filter(status="received").exists()
        if len(processed) >= count and not waiting:
            return processed
        time.sleep(0.2)
    statuses = list(InboundMessage.objects.values_list("status", "error"))
    raise AssertionError(f"orders were not processed within {timeout:g} s: {statuses}")
