"""Sign-out: the password again, blocked while elements are missing, a new signed version with
its signature record and PDF, the parked run resumed, recall inside the window, immutability,
per-field overrides, batch sign-out and amendments — through the API, PDFs read back."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from orchestrator.accounts.models import User
from orchestrator.audit.models import AuditEvent
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import DemoData, load_demo_data
from orchestrator.integrations.dispatcher import dispatch_destination
from orchestrator.integrations.outbox_models import Delivery, DeliveryRoute
from orchestrator.reports.models import (
    FieldOverride,
    Report,
    ReportSignature,
    SignedReportImmutable,
)
from orchestrator.runs.models import NodeRun, Run
from tests.conftest import PASSWORD, pdf_text
from tests.orchestrator.reports.drafts import logged_in, parked_draft

pytestmark = [pytest.mark.service, pytest.mark.django_db]


@pytest.fixture
def demo_db(db: None) -> DemoData:
    return load_demo_data(PASSWORD, "http://127.0.0.1:9")


def sign(client: Any, report: Report, password: str = PASSWORD) -> Any:
    return client.post(
        f"/api/v1/review/reports/{report.pk}/sign",
        {"password": password},
        content_type="application/json",
    )


def actions(report_ids: list[int] | None = None) -> list[str]:
    events = AuditEvent.objects.order_by("seq")
    if report_ids is not None:
        events = events.filter(object_type="reports.report", object_id__in=map(str, report_ids))
    return [e.action for e in events]


def test_signing_makes_a_final_version_with_its_signature_record_pdf_and_resumes_the_run(
    demo_db: DemoData, pathologist: User
) -> None:
    draft = parked_draft(demo_db, "S26-10001")

    response = sign(logged_in(pathologist), draft)

    assert response.status_code == 201, response.json()
    body = response.json()
    final = Report.objects.get(pk=body["report_id"])
    assert (final.status, final.version_no, final.supersedes_id) == ("final", 2, draft.pk)
    assert final.data == draft.data
    signature = ReportSignature.objects.get(report=final)
    assert signature.signer == pathologist
    assert signature.meaning == "authored and signed"
    with final.pdf.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == signature.pdf_sha256
    text = pdf_text(final.pdf.path)
    assert str(pathologist) in text
    assert "PRELIMINARY" not in text.upper()
    # The run parked at its review node goes on, approved by the signer.
    assert draft.run_id is not None
    run = Run.objects.get(pk=draft.run_id)
    assert run.status == "queued"
    review = NodeRun.objects.get(run=run, node_id="review")
    assert review.status == "succeeded"
    assert review.outputs["decision"]["reviewer"]["id"] == pathologist.pk
    event = AuditEvent.objects.get(action="report.signed")
    assert (event.actor, event.object_id) == (pathologist, str(final.pk))
    assert event.detail["sha256"] == signature.pdf_sha256


def test_wrong_passwords_at_sign_out_lock_the_account_with_a_clear_429(
    demo_db: DemoData, pathologist: User
) -> None:
    """Each wrong signature password counts towards the login lockout (django-axes); once
    locked, sign-out answers the API's error body with 429 and how long, even for the right
    password (the schemathesis soak got axes' plain-text answer, undocumented)."""
    draft = parked_draft(demo_db, "S26-10021")
    client = logged_in(pathologist)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign(client, draft, password="wrong").status_code == 403

    locked = sign(client, draft, password="wrong")
    again = sign(client, draft)

    for answer in (locked, again):
        assert answer.status_code == 429
        assert answer["Retry-After"] == str(round(settings.AXES_COOLOFF_TIME * 3600))
        assert answer.json()["detail"] == (
            "too many wrong passwords: this account is locked for 15 minutes "
            "(an administrator can unlock it sooner)"
        )
    assert Report.objects.filter(case=draft.case).count() == 1


def test_sign_out_asks_for_the_password_again_and_a_wrong_one_signs_nothing(
    demo_db: DemoData, pathologist: User
) -> None:
    draft = parked_draft(demo_db, "S26-10002")

    response = sign(logged_in(pathologist), draft, password="not-my-password")

    assert response.status_code == 403
    assert "password" in response.json()["detail"]
    assert Report.objects.filter(case=draft.case).count() == 1
    assert actions([draft.pk])[-1] == "report.signature_denied"


def test_sign_out_is_blocked_while_required_elements_are_missing_listing_every_one(
    demo_db: DemoData, pathologist: User
) -> None:
    draft = parked_draft(demo_db, "S26-10003", missing=("procedure", "pt_category"))

    response = sign(logged_in(pathologist), draft)

    assert response.status_code == 400
    assert sorted(response.json()["problems"]) == [
        "procedure: is required",
        "pt_category: is required",
    ]
    assert Report.objects.filter(case=draft.case).count() == 1
    detail = logged_in(pathologist).get(f"/api/v1/review/reports/{draft.pk}").json()
    assert len(detail["problems"]) == 2


def test_an_override_records_old_and_new_value_who_and_when_and_differs_from_the_ai(
    demo_db: DemoData, pathologist: User
) -> None:
    draft = parked_draft(demo_db, "S26-10004", ai_ki67=87.5)
    client = logged_in(pathologist)

    response = client.post(
        f"/api/v1/review/reports/{draft.pk}/fields",
        {"element": "ki67_index", "value": 91.0},
        content_type="application/json",
    )

    assert response.status_code == 200, response.json()
    field = next(e for e in response.json()["elements"] if e["id"] == "ki67_index")
    assert (field["value"], field["ai_value"], field["differs_from_ai"]) == (91.0, 87.5, True)
    assert field["provenance"][0]["kind"] == "person"
    assert field["provenance"][0]["user"] == pathologist.pk
    override = FieldOverride.objects.get(report=draft)
    assert (override.old_value, override.new_value, override.user) == (87.5, 91.0, pathologist)
    # An invalid value is refused with its problem and changes nothing.
    bad = client.post(
        f"/api/v1/review/reports/{draft.pk}/fields",
        {"element": "pt_category", "value": "pT9"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert bad.json()["problems"][0].startswith("pt_category:")
    signed = sign(client, draft).json()
    final = Report.objects.get(pk=signed["report_id"])
    assert final.data["ki67_index"] == 91.0
    assert "91.0" in pdf_text(final.pdf.path)


def test_a_derived_value_overridden_needs_a_reason_which_the_signed_report_keeps(
    demo_db: DemoData, pathologist: User
) -> None:
    """The Nottingham grade follows from its three scores (7 here: grade 2); a pathologist who
    grades 3 is refused naming the rule until they say why, and the reason is kept."""
    draft = parked_draft(demo_db, "S26-10014")
    client = logged_in(pathologist)
    body = {"element": "histologic_grade", "value": "grade_3"}
    grade = next(
        e
        for e in client.get(f"/api/v1/review/reports/{draft.pk}").json()["elements"]
        if e["id"] == "histologic_grade"
    )
    assert (grade["derived"], grade["value"], grade["override_reason"]) == (True, "grade_2", "")

    refused = client.post(
        f"/api/v1/review/reports/{draft.pk}/fields", body, content_type="application/json"
    )
    assert refused.status_code == 400
    assert "Nottingham grade follows from the sum of its three scores" in " ".join(
        refused.json()["problems"]
    )
    accepted = client.post(
        f"/api/v1/review/reports/{draft.pk}/fields",
        {**body, "reason": "marked nuclear atypia at the invasive front"},
        content_type="application/json",
    )

    assert accepted.status_code == 200, accepted.json()
    grade = next(e for e in accepted.json()["elements"] if e["id"] == "histologic_grade")
    assert grade["value"] == "grade_3"
    assert grade["override_reason"] == "marked nuclear atypia at the invasive front"
    signed = sign(client, draft)
    assert signed.status_code == 201, signed.json()
    final = Report.objects.get(pk=signed.json()["report_id"])
    assert final.data["_overrides"] == {
        "histologic_grade": {"reason": "marked nuclear atypia at the invasive front"}
    }
    assert "marked nuclear atypia at the invasive front" in pdf_text(final.pdf.path)


def test_a_signed_version_is_never_changed_409_and_audited(
    demo_db: DemoData, pathologist: User
) -> None:
    draft = parked_draft(demo_db, "S26-10005")
    client = logged_in(pathologist)
    final = Report.objects.get(pk=sign(client, draft).json()["report_id"])

    response = client.post(
        f"/api/v1/review/reports/{final.pk}/fields",
        {"element": "pt_category", "value": "pT2"},
        content_type="application/json",
    )

    assert response.status_code == 409
    assert actions([final.pk])[-1] == "report.edit_refused"
    final.data = {**final.data, "pt_category": "pT2"}
    with pytest.raises(SignedReportImmutable):
        final.save()
    with pytest.raises(SignedReportImmutable):
        final.delete()
    # The draft it superseded cannot be signed again either.
    assert sign(client, draft).status_code == 409


def test_the_signer_recalls_inside_the_window_and_a_new_draft_opens(
    demo_db: DemoData, pathologist: User, clinician: User
) -> None:
    draft = parked_draft(demo_db, "S26-10006")
    client = logged_in(pathologist)
    final = Report.objects.get(pk=sign(client, draft).json()["report_id"])

    response = client.post(f"/api/v1/reports/{final.pk}/recall")

    assert response.status_code == 201, response.json()
    reopened = Report.objects.get(pk=response.json()["report_id"])
    assert (reopened.status, reopened.version_no, reopened.supersedes_id) == ("draft", 3, final.pk)
    assert ReportSignature.objects.get(report=final).recalled_by == pathologist
    # A recalled sign-out never left: the clinician does not see it.
    assert logged_in(clinician).get(f"/api/v1/reports/{final.pk}/pdf").status_code == 404
    assert client.post(f"/api/v1/reports/{final.pk}/recall").status_code == 409
    # Signed again, it is a final version (nothing signed was ever out).
    again = sign(client, reopened).json()
    assert Report.objects.get(pk=again["report_id"]).status == "final"


@override_settings(SIGNOUT_RECALL_SECONDS=0)
def test_no_recall_after_the_window(demo_db: DemoData, pathologist: User) -> None:
    draft = parked_draft(demo_db, "S26-10007")
    client = logged_in(pathologist)
    final = sign(client, draft).json()

    response = client.post(f"/api/v1/reports/{final['report_id']}/recall")

    assert response.status_code == 409
    assert "window has passed" in response.json()["detail"]


def test_an_amendment_is_a_new_signed_version_with_banner_and_the_original_stays(
    demo_db: DemoData, pathologist: User, clinician: User
) -> None:
    draft = parked_draft(demo_db, "S26-10008")
    client = logged_in(pathologist)
    first = Report.objects.get(pk=sign(client, draft).json()["report_id"])

    response = client.post(
        f"/api/v1/reports/{first.pk}/amend",
        {
            "kind": "amended",
            "reason": "Margin re-measured on deeper levels",
            "changes": {"margin_distance_mm": 1.5},
            "password": PASSWORD,
        },
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    amended = Report.objects.get(pk=response.json()["report_id"])
    assert (amended.status, amended.supersedes_id, amended.author) == (
        "amended",
        first.pk,
        pathologist,
    )
    text = pdf_text(amended.pdf.path)
    assert "AMENDED REPORT" in text
    assert "Margin re-measured on deeper levels" in text
    assert amended.provenance["margin_distance_mm"][0]["kind"] == "person"
    # The original is unchanged and still downloadable by the clinician.
    assert Report.objects.get(pk=first.pk).data["margin_distance_mm"] == 3.5
    assert logged_in(clinician).get(f"/api/v1/reports/{first.pk}/pdf").status_code == 200
    # Amending needs a reason, and the superseded version cannot be amended again.
    again = client.post(
        f"/api/v1/reports/{first.pk}/amend",
        {"kind": "corrected", "reason": "typo", "changes": {}, "password": PASSWORD},
        content_type="application/json",
    )
    assert again.status_code == 409


def test_a_batch_is_signed_with_one_password_each_with_its_own_signature(
    demo_db: DemoData, pathologist: User
) -> None:
    drafts = [parked_draft(demo_db, f"S26-1010{n}") for n in range(3)]
    blocked = parked_draft(demo_db, "S26-10109", missing=("pt_category",))

    response = logged_in(pathologist).post(
        "/api/v1/review/sign-batch",
        {"reports": [d.pk for d in [*drafts, blocked]], "password": PASSWORD},
        content_type="application/json",
    )

    assert response.status_code == 200, response.json()
    results = response.json()
    assert [r["signed"] is not None for r in results] == [True, True, True, False]
    assert results[3]["problems"] == ["pt_category: is required"]
    signatures = ReportSignature.objects.filter(report__case__in=[d.case for d in drafts])
    assert signatures.count() == 3
    assert len({s.pdf_sha256 for s in signatures}) == 3


def test_only_pathologists_sign_and_another_department_cannot_see_the_draft(
    demo_db: DemoData, clinician: User, other_department_pathologist: User
) -> None:
    draft = parked_draft(demo_db, "S26-10010")

    assert sign(logged_in(clinician), draft).status_code == 403
    assert sign(logged_in(other_department_pathologist), draft).status_code == 404
    outsider = logged_in(other_department_pathologist)
    assert outsider.get(f"/api/v1/review/reports/{draft.pk}").status_code == 404
    assert Report.objects.filter(case=draft.case).count() == 1
    assert AuditEvent.objects.filter(action="access.denied").count() >= 3


def test_sign_out_queues_the_deliveries_held_for_the_recall_window_and_a_recall_withdraws_them(
    demo_db: DemoData, pathologist: User
) -> None:
    lis = ModelEndpoint.objects.create(
        department=demo_db.department,
        slug="lis",
        name="LIS",
        protocol="webhook",
        base_url="http://127.0.0.1:9/results",
        timeout_s=2.0,
    )
    DeliveryRoute.objects.create(
        department=demo_db.department, destination=lis, report_statuses=["final", "amended"]
    )
    draft = parked_draft(demo_db, "S26-10011")
    client = logged_in(pathologist)
    assert sign(client, draft, password="wrong").status_code == 403
    assert not Delivery.objects.exists()  # a refused signature queues nothing

    final = Report.objects.get(pk=sign(client, draft).json()["report_id"])

    [delivery] = Delivery.objects.filter(report=final)
    signature = ReportSignature.objects.get(report=final)
    assert delivery.next_attempt_at == signature.recall_until
    assert delivery.status == "queued"
    dispatch_destination(lis.pk)  # inside the window: nothing leaves
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("queued", 0)

    client.post(f"/api/v1/reports/{final.pk}/recall")
    dispatch_destination(lis.pk)

    delivery.refresh_from_db()
    assert delivery.status == "withdrawn"
