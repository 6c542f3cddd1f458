"""Receiving orders: decide a frame's answer and store it (before the ACK leaves), then make
the case and start its run (after the ACK, by the listener's processor or a reprocessing).

``receive_frame`` must run inside a transaction that commits before its ACK is sent; the
listener batches several frames into one transaction. What the ACK promises (AA: we have it and
will act on it) is kept by ``process_message``, which every listener runs for rows left
``received`` — also after a crash between the ACK and the case.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from orchestrator.accounts.models import Department, User
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.cases.models import Case, Specimen
from orchestrator.cases.services import CaseDocumentInvalid, create_case, parse_case_document
from orchestrator.integrations.hl7.ack import build_ack
from orchestrator.integrations.hl7.message import (
    APPLICATION_INTERNAL_ERROR,
    DUPLICATE_KEY_IDENTIFIER,
    REQUIRED_FIELD_MISSING,
    Decoded,
    Header,
    NotAddressable,
    Problem,
    decode,
    read_header,
)
from orchestrator.integrations.hl7.orders import Order, header_problems, read_order
from orchestrator.integrations.inbound_models import InboundMessage, InboundStatus
from orchestrator.integrations.routing import NoRoute, Route, RoutingTable, cached_table
from orchestrator.runs.services import start_run

logger = logging.getLogger(__name__)
CHANNEL = "mllp"
# Messages answered AA or AE are stored once per sender and control id; a resend gets the same
# answer. A rejected message (AR) claims nothing: sent again, it is read again.
IDEMPOTENT_CODES = ("AA", "AE")
# A row whose processing failed this often is left ``failed`` for a person to reprocess.
MAX_ATTEMPTS = 5
# Where a problem the case checks report lies in the order, for the ACK's ERR-2.
_DOCUMENT_LOCATIONS = {
    "accession": ("ORC", 3),
    "case_type": ("OBR", 4),
    "patient.name": ("PID", 5),
    "patient.mrn": ("PID", 3),
    "patient.sex": ("PID", 8),
    "patient.birth_date": ("PID", 7),
}


@dataclass(frozen=True)
class Reply:
    """What to send back for a frame: ``ack`` (None: close without one) and whether to close
    the connection after it."""

    message_id: int | None
    ack: bytes | None
    code: str
    close: bool = False


@dataclass
class _Decision:
    header: Header | None
    decoded: Decoded | None
    code: str  # AA, AE, AR or "" (unaddressable)
    problems: list[Problem]
    order: Order | None = None
    route: Route | None = None
    error: str = ""
    department: Department | None = None


def _document_problem(text: str) -> Problem:
    path = text.split(":", 1)[0]
    segment, number = _DOCUMENT_LOCATIONS.get(path, ("OBR", 0))
    return Problem(segment, 1, number, REQUIRED_FIELD_MISSING, text)


def decide(frame: bytes, table: RoutingTable, framing_problem: str = "") -> _Decision:
    """Read ``frame`` and decide its acknowledgement code and problems (database reads only)."""
    try:
        header = read_header(frame)
    except NotAddressable as exc:
        return _Decision(None, None, "", [], error=framing_problem or str(exc))
    if framing_problem:
        problem = Problem("MSH", 1, 0, APPLICATION_INTERNAL_ERROR, framing_problem)
        decision = _Decision(header, None, "AR", [problem], error=framing_problem)
        return _with_department(decision, table)
    header, decoded, problems = decode(frame, settings.MLLP_DEFAULT_CHARSET)
    if decoded is None:
        return _with_department(_Decision(header, None, "AR", problems), table)
    problems = header_problems(header, settings.MLLP_PROCESSING_IDS)
    if problems:
        return _with_department(_Decision(header, decoded, "AR", problems), table)
    return _decide_order(header, decoded, table)


def _with_department(decision: _Decision, table: RoutingTable) -> _Decision:
    """A rejected message is still shown to the department it was addressed to."""
    if decision.header is not None:
        with contextlib.suppress(NoRoute):
            decision.department = table.department_for(decision.header.get(6))
    return decision


def _decide_order(header: Header, decoded: Decoded, table: RoutingTable) -> _Decision:
    order = read_order(decoded.message)
    decision = _Decision(header, decoded, "AE", list(order.problems), order=order)
    try:
        department = table.department_for(decoded.message.value(decoded.message.first("MSH"), 6))
        decision.department = department
        if not order.problems:
            decision.route = table.route(department, order.specimens)
    except NoRoute as exc:
        decision.problems.append(exc.problem)
    if decision.problems or decision.route is None:
        return decision
    try:
        parse_case_document(order.document(decision.route.workflow.case_type))
    except CaseDocumentInvalid as exc:
        decision.problems += [_document_problem(p) for p in exc.problems]
        return decision
    existing = _case_mrn(department.pk, order.accession)
    if existing is not None and existing != order.patient["mrn"]:
        decision.problems.append(
            Problem(
                "ORC",
                1,
                3,
                DUPLICATE_KEY_IDENTIFIER,
                f"accession {order.accession} is already the case of another patient",
            )
        )
        return decision
    decision.code = "AA"
    return decision


def _case_mrn(department_id: int, accession: str) -> str | None:
    """The MRN of the department's case with this accession, if there is one (one plain query:
    this runs for every order before its ACK)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT patient_mrn FROM {Case._meta.db_table} "  # noqa: S608 - a model's table name
            "WHERE department_id = %s AND accession = %s",
            [department_id, accession],
        )
        row = cursor.fetchone()
    return None if row is None else str(row[0])


def _key(header: Header | None) -> tuple[str, str, str]:
    if header is None:
        return "", "", ""
    return header.whole(3)[:227], header.whole(4)[:227], header.control_id[:199]


def _values(frame: bytes, decision: _Decision, peer: str, size: int) -> dict[str, Any]:
    """The columns of a new row (by attribute name) for ``frame`` and its decision."""
    header, order = decision.header, decision.order
    app, facility, control_id = _key(header)
    status = {"AA": InboundStatus.RECEIVED, "AE": InboundStatus.ERROR}.get(
        decision.code, InboundStatus.REJECTED
    )
    return {
        "received_at": timezone.now(),
        "channel": CHANNEL,
        "peer": peer[:64],
        "raw": frame,
        "size": size,
        "codec": decision.decoded.codec if decision.decoded else "",
        "message_type": (header.get(9, 1) + "^" + header.get(9, 2))[:16] if header else "",
        "version": header.version[:12] if header else "",
        "sending_application": app,
        "sending_facility": facility,
        "control_id": control_id,
        "accession": (order.accession if order else "")[:64],
        "patient_mrn": (order.patient.get("mrn", "") if order else "")[:64],
        "department_id": decision.department.pk if decision.department else None,
        "status": str(status),
        "ack_code": decision.code,
        "problems": [p.as_dict() for p in decision.problems],
        "error": decision.error,
        "workflow_id": decision.route.workflow.pk if decision.route else None,
        "routing_rule_id": decision.route.rule.pk if decision.route else None,
    }


def _row(frame: bytes, decision: _Decision, peer: str, size: int) -> InboundMessage:
    return InboundMessage(**_values(frame, decision, peer, size))


class _Insert:
    """One INSERT of an inbound row that does nothing when the row is a resend (the unique
    constraint on sender and control id), returning the new id or nothing: one statement per
    message, no model instance, no savepoint (the listener stores every message through it)."""

    # Column types whose Python values the database driver does not take as they are.
    CONVERTED = ("DateTimeField", "BinaryField", "JSONField")

    def __init__(self) -> None:
        meta = InboundMessage._meta
        self.fields = [f for f in meta.concrete_fields if not f.primary_key]
        self.defaults = {f.attname: f.get_default() for f in self.fields}
        self.converted = {f.attname for f in self.fields if f.get_internal_type() in self.CONVERTED}
        quote = connection.ops.quote_name
        columns = ", ".join(quote(str(f.column)) for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        table, key = quote(meta.db_table), quote(str(meta.pk.column))
        self.sql = (
            f"INSERT INTO {table} ({columns}) VALUES ({marks}) "  # noqa: S608 - our own names
            f"ON CONFLICT DO NOTHING RETURNING {key}"
        )

    def __call__(self, values: dict[str, Any]) -> int | None:
        params = []
        for f in self.fields:
            value = values.get(f.attname, self.defaults[f.attname])
            if value is not None and f.attname in self.converted:
                value = f.get_db_prep_save(value, connection)
            params.append(value)
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        return int(rows[0][0]) if rows else None


_insert: _Insert | None = None


def _insert_row(values: dict[str, Any]) -> int | None:
    global _insert
    if _insert is None:
        _insert = _Insert()
    return _insert(values)


def _ack(decision: _Decision) -> bytes | None:
    if decision.header is None:
        return None
    codec = decision.decoded.codec if decision.decoded else "ascii"
    return build_ack(
        decision.header,
        decision.code,
        decision.problems,
        application=settings.MLLP_APPLICATION,
        codec=codec,
    )


def _resent(header: Header | None) -> InboundMessage | None:
    app, facility, control_id = _key(header)
    if not control_id:
        return None
    return (
        InboundMessage.objects.filter(
            sending_application=app,
            sending_facility=facility,
            control_id=control_id,
            reprocess_of__isnull=True,
            ack_code__in=IDEMPOTENT_CODES,
        )
        .only("pk", "ack", "ack_code")
        .first()
    )


def _answer_resend(original: InboundMessage) -> Reply:
    InboundMessage.objects.filter(pk=original.pk).update(
        duplicates=F("duplicates") + 1, last_duplicate_at=timezone.now()
    )
    return Reply(original.pk, bytes(original.ack) or None, original.ack_code)


def receive_frame(
    frame: bytes,
    *,
    stored: bytes | None = None,
    peer: str = "",
    size: int | None = None,
    framing_problem: str = "",
    answered: bool = True,
) -> Reply:
    """Store a message with the answer it gets and return that answer; a resent message gets
    its first answer again and is not stored twice. ``frame`` is what is read; ``stored`` what
    is kept when it differs (the whole block of a badly framed message). Call inside a
    transaction that commits before the answer is sent. ``answered`` False: no answer can be
    sent (the frame never ended), so none is recorded."""
    decision = decide(frame, cached_table(), framing_problem)
    raw = frame if stored is None else stored
    values = _values(raw, decision, peer, len(raw) if size is None else size)
    ack = _ack(decision) if answered else None
    if not answered:
        values["ack_code"] = ""
    values["ack"] = ack or b""
    # The unique constraint finds a resend (no query first: resends are rare).
    message_id = _insert_row(values)
    if message_id is None:
        original = _resent(decision.header)
        if original is None:
            raise IntegrityError("an inbound message was refused by a constraint")
        return _answer_resend(original)
    return Reply(message_id, ack, decision.code, close=bool(framing_problem) or ack is None)


# --- after the ACK: the case and its run ----------------------------------------------------


class ProcessingFailed(RuntimeError):
    """An acknowledged order could not be turned into a case; the message says why."""


def _update_case(case: Case, document: dict[str, Any]) -> None:
    fields = parse_case_document(document)
    specimens = fields.pop("specimens")
    for name in ("patient_name", "patient_sex", "patient_birth_date", "clinical_info"):
        setattr(case, name, fields[name])
    if fields["ordering_physician"]:
        case.ordering_physician = fields["ordering_physician"]
    case.save()
    for spec in specimens:
        Specimen.objects.update_or_create(case=case, label=spec["label"], defaults=spec)
    record_event(AuditAction.CASE_UPDATED, case, actor_label="hl7", department=case.department)


@dataclass(frozen=True)
class Processed:
    message: InboundMessage
    # A run started here and not yet handed to a worker (``enqueue=False``).
    run_to_hand_over: int | None


def process_message(message_id: int, *, enqueue: bool = True) -> Processed | None:
    """Make or update the case of an acknowledged order and start its workflow (once per case
    and workflow). None when the row is not waiting to be processed. With ``enqueue`` False
    the caller hands the new run to a worker (``runs.services.hand_to_worker``) itself."""
    started = None
    with transaction.atomic():
        message = (
            InboundMessage.objects.select_related("department", "workflow")
            .filter(pk=message_id, status=InboundStatus.RECEIVED)
            .first()
        )
        if message is None:
            return None
        if message.workflow is None or message.department is None:
            raise ProcessingFailed("the routed workflow no longer exists")
        _header, decoded, _problems = decode(bytes(message.raw), settings.MLLP_DEFAULT_CHARSET)
        if decoded is None:
            raise ProcessingFailed("the stored message cannot be decoded again")
        order = read_order(decoded.message)
        version = message.workflow.published_version()
        if version is None:
            raise ProcessingFailed(f"workflow {message.workflow.slug} has no published version")
        document = order.document(message.workflow.case_type)
        case = Case.objects.filter(department=message.department, accession=order.accession).first()
        if case is None:
            case = create_case(message.department, document, source="hl7")
        else:
            _update_case(case, document)
        run = case.runs.filter(workflow_version__workflow=message.workflow).order_by("pk").last()
        if run is None:
            run = started = start_run(case, version, enqueue=enqueue)
        message.status = InboundStatus.PROCESSED
        message.case, message.run = case, run
        message.processed_at = timezone.now()
        message.attempts += 1
        message.error = ""
        message.save(update_fields=["status", "case", "run", "processed_at", "attempts", "error"])
    return Processed(message, started.pk if started is not None and not enqueue else None)


def record_failure(message_id: int, exc: BaseException) -> None:
    """Count a failed processing attempt; after MAX_ATTEMPTS the row is ``failed``."""
    text = f"{type(exc).__name__}: {exc}"[:2000]
    InboundMessage.objects.filter(pk=message_id).update(attempts=F("attempts") + 1, error=text)
    InboundMessage.objects.filter(
        pk=message_id, status=InboundStatus.RECEIVED, attempts__gte=MAX_ATTEMPTS
    ).update(status=InboundStatus.FAILED)
    logger.error("inbound message %s: processing failed (%s)", message_id, type(exc).__name__)


def process_safely(message_id: int, *, enqueue: bool = True) -> Processed | None:
    """``process_message``, with a failure recorded instead of raised."""
    try:
        return process_message(message_id, enqueue=enqueue)
    except DatabaseError:
        raise  # the database is unreachable: nothing can be recorded now
    except Exception as exc:  # any other failure: the row stays received and is tried again
        record_failure(message_id, exc)
        return None


def pending_ids(limit: int = 500) -> list[int]:
    """Acknowledged orders not yet turned into cases, oldest first."""
    rows = InboundMessage.objects.filter(status=InboundStatus.RECEIVED).order_by("pk")
    return list(rows.values_list("pk", flat=True)[:limit])


def reprocess_message(original: InboundMessage, user: User) -> InboundMessage:
    """Read an inbound message again as a new attempt linked to it (today's routing table and
    cases), and make its case at once when it is accepted. Audited."""
    root = original.reprocess_of or original
    decision = decide(bytes(original.raw), RoutingTable.read())
    with transaction.atomic():
        row = _row(bytes(original.raw), decision, original.peer, original.size)
        row.channel, row.reprocess_of, row.reprocessed_by = original.channel, root, user
        row.ack = b""  # a reprocessing is not acknowledged to anyone
        row.save(force_insert=True)
        record_event(
            AuditAction.INBOUND_MESSAGE_REPROCESSED,
            row,
            actor=user,
            department=user.department,
            original=original.pk,
            outcome=decision.code,
        )
    if row.status == InboundStatus.RECEIVED:
        process_safely(row.pk)
        row.refresh_from_db()
    return row
