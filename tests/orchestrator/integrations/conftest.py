"""Fixtures for the outbox tests: signed report versions of a real template (made directly
until sign-out lands: created final, since a signed row is never edited), destinations and
routes, the MLLP receiver, and strict HL7 validation with hl7apy."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db.models import Max
from django.utils import timezone
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message
from hl7apy.parser import parse_message
from pypdf import PdfWriter

from orchestrator.accounts.models import Department, User
from orchestrator.cases.models import Case
from orchestrator.cases.services import create_case
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import DemoData, load_demo_data
from orchestrator.integrations.outbox_models import DeliveryRoute
from orchestrator.reports.models import Report, ReportStatus
from tests.conftest import PASSWORD, case_document
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
