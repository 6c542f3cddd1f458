"""The audit trail: a scripted session yields exactly the expected events, each with who, which
department, object, patient reference, client address and outcome; the hash chain verifies;
a row changed or removed with raw SQL is found and named; PostgreSQL refuses both."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from orchestrator.accounts.models import User
from orchestrator.audit.models import AuditEvent, AuditEventImmutable
from orchestrator.audit.services import patient_reference
from orchestrator.demo_data import DemoData, load_demo_data
from orchestrator.reports.models import Report
from tests.conftest import PASSWORD
from tests.orchestrator.reports.drafts import logged_in, parked_draft

pytestmark = [pytest.mark.service, pytest.mark.django_db]


@pytest.fixture
def demo_db(db: None) -> DemoData:
    return load_demo_data(PASSWORD, "http://127.0.0.1:9")


def verify() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def raw(sql: str, *params: int | str) -> None:
    """Change the table behind the application's back, as someone with database access would;
    on PostgreSQL that needs its triggers off for the transaction (a superuser can)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


def test_a_scripted_session_yields_exactly_the_expected_events_and_the_chain_verifies(
    demo_db: DemoData, pathologist: User, other_department_pathologist: User
) -> None:
    draft = parked_draft(demo_db, "S26-20001")
    start = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    client = logged_in(pathologist)
    json = "application/json"

    client.get("/api/v1/review/queue")  # list
    client.get(f"/api/v1/review/reports/{draft.pk}")  # view
    pdf = client.get(f"/api/v1/reports/{draft.pk}/pdf")  # download
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]
    client.post(  # edit
        f"/api/v1/review/reports/{draft.pk}/fields",
        {"element": "margin_distance_mm", "value": 2.5},
        content_type=json,
    )
    signed = client.post(
        f"/api/v1/review/reports/{draft.pk}/sign", {"password": PASSWORD}, content_type=json
    ).json()
    reopened = client.post(f"/api/v1/reports/{signed['report_id']}/recall").json()
    final = client.post(
        f"/api/v1/review/reports/{reopened['report_id']}/sign",
        {"password": PASSWORD},
        content_type=json,
    ).json()
    client.post(
        f"/api/v1/reports/{final['report_id']}/amend",
        {"kind": "corrected", "reason": "typing error", "changes": {}, "password": PASSWORD},
        content_type=json,
    )
    logged_in(other_department_pathologist).get(f"/api/v1/review/reports/{draft.pk}")  # denied

    events = list(AuditEvent.objects.filter(seq__gt=start).order_by("seq"))
    assert [(e.action, e.outcome) for e in events] == [
        ("report.queue_listed", "success"),
        ("report.viewed", "success"),
        ("report.downloaded", "success"),
        ("report.field_overridden", "success"),
        ("run.review_submitted", "success"),
        ("report.signed", "success"),
        ("report.recalled", "success"),
        ("report.signed", "success"),
        ("report.amended", "success"),
        ("access.denied", "denied"),
    ]
    ours, denied = events[:-1], events[-1]
    assert {e.actor for e in ours} == {pathologist}
    assert {e.client_address for e in events} == {"127.0.0.1"}
    case = draft.case
    patient = patient_reference(case.department_id, case.patient_mrn)
    assert {e.patient_ref for e in events[1:]} == {patient}
    assert case.patient_mrn not in patient
    assert case.patient_name not in str([e.detail for e in events])
    assert (denied.actor, denied.department) == (
        other_department_pathologist,
        other_department_pathologist.department,
    )
    assert (denied.object_type, denied.object_id) == ("reports.report", str(draft.pk))
    assert "intact" in verify()


def test_a_row_changed_with_raw_sql_is_found_and_named(
    demo_db: DemoData, pathologist: User
) -> None:
    parked_draft(demo_db, "S26-20002")
    victim = AuditEvent.objects.get(action="case.created", object_type="cases.case")
    assert "intact" in verify()

    raw("UPDATE audit_auditevent SET actor_label = %s WHERE id = %s", "someone", victim.pk)

    with pytest.raises(CommandError, match=rf"id={victim.pk} seq={victim.seq}: content"):
        verify()


def test_a_row_removed_with_raw_sql_is_found(demo_db: DemoData, pathologist: User) -> None:
    parked_draft(demo_db, "S26-20003")
    victim = AuditEvent.objects.get(action="case.created")
    assert victim.seq is not None
    after = AuditEvent.objects.get(seq=victim.seq + 1)

    raw("DELETE FROM audit_auditevent WHERE id = %s", victim.pk)

    with pytest.raises(CommandError, match=rf"id={after.pk} seq={after.seq}: expected seq"):
        verify()


def test_the_last_row_removed_is_found_by_the_chain_head(demo_db: DemoData) -> None:
    last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None

    raw("DELETE FROM audit_auditevent WHERE id = %s", last.pk)

    with pytest.raises(CommandError, match="its head is at"):
        verify()


def test_events_cannot_be_changed_or_deleted_through_the_orm(demo_db: DemoData) -> None:
    event = AuditEvent.objects.order_by("seq").first()
    assert event is not None
    event.action = "case.created"
    with pytest.raises(AuditEventImmutable):
        event.save()
    with pytest.raises(AuditEventImmutable):
        event.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")
def test_postgresql_refuses_update_and_delete_of_audit_rows_and_signed_reports(
    demo_db: DemoData, pathologist: User
) -> None:
    draft = parked_draft(demo_db, "S26-20004")
    signed = logged_in(pathologist).post(
        f"/api/v1/review/reports/{draft.pk}/sign",
        {"password": PASSWORD},
        content_type="application/json",
    )
    final = Report.objects.get(pk=signed.json()["report_id"])
    statements = [
        ("UPDATE audit_auditevent SET action = 'x' WHERE seq = 1", ()),
        ("DELETE FROM audit_auditevent WHERE seq = 1", ()),
        ("UPDATE reports_report SET data = '{}' WHERE id = %s", (final.pk,)),
        ("DELETE FROM reports_report WHERE id = %s", (final.pk,)),
        ("UPDATE reports_reportsignature SET pdf_sha256 = 'x' WHERE report_id = %s", (final.pk,)),
    ]
    for sql, params in statements:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    # A draft is still a draft: it may change.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE reports_report SET language = 'zh' WHERE id = %s", (draft.pk,))


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unbroken_chain(demo_db: DemoData) -> None:
    """Writers in separate connections append at once (on PostgreSQL each append is one
    statement whose head lock orders them): every event gets its own place, the chain verifies
    and the hashes the database computed are the ones `verify_audit` recomputes."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    from orchestrator.audit.actions import AuditAction
    from orchestrator.audit.services import record_event

    before = AuditEvent.objects.count()

    def write(worker: int) -> None:
        try:
            for n in range(15):
                record_event(
                    AuditAction.CASE_SEARCHED, demo_db.department, worker=worker, n=n, label="中文"
                )
        finally:
            connections.close_all()

    workers = 4 if connection.vendor == "postgresql" else 1  # SQLite: one writer at a time
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(write, range(workers)))

    assert AuditEvent.objects.count() == before + 15 * workers
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert f"audit chain intact: {len(seqs)} events" in verify()
