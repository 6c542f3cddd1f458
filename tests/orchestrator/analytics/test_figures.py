"""The dashboard's figures for the seeded history (tests/analytics_history.py) equal the values
worked out by hand from its plan, through the API as the dashboard reads them, as JSON and as
CSV. Marked ``service``: CI runs them on PostgreSQL too (the same figures on both)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client

from orchestrator.accounts.models import User
from orchestrator.audit.models import AuditEvent
from orchestrator.demo_data import DemoData, load_demo_data
from tests.analytics_history import FIRST_DAY, FNA, FNA_P, KI67, LAST_DAY, RESECTION, seed_history
from tests.conftest import PASSWORD
from tests.orchestrator.reports.drafts import logged_in

pytestmark = [pytest.mark.service, pytest.mark.django_db]

RANGE = f"from={FIRST_DAY}&to={LAST_DAY}"
D1, D2, D3, D4 = "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"


@pytest.fixture
def demo(db: None) -> DemoData:
    return load_demo_data(PASSWORD, "http://127.0.0.1:9")


@pytest.fixture
def client(demo: DemoData, pathologist: User, other_department_pathologist: User) -> Client:
    pathologist.refresh_from_db()
    seed_history(demo, pathologist, other_department_pathologist.department)
    return logged_in(pathologist)


def get(client: Client, figure: str, query: str = "") -> dict[str, Any]:
    response = client.get(f"/api/v1/analytics/{figure}?{RANGE}{query}")
    assert response.status_code == 200, response.content[:300]
    body: dict[str, Any] = response.json()
    return body


def rows(client: Client, figure: str, table: str, query: str = "") -> list[list[str]]:
    response = client.get(f"/api/v1/analytics/{figure}?{RANGE}&format=csv&table={table}{query}")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    assert f"{figure}-{table}-{FIRST_DAY}-{LAST_DAY}.csv" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_agreement_per_model_version_and_element(client: Client) -> None:
    # ihc v1: R1 kept 20.0 (accepted), R2 35.0 → 30.0 (edited).
    # ihc v2: R3 50.0 → cleared; R4 is not signed (not counted).
    # fna v3: F1 kept, F2 12.0 → 15.0 → 12.0 (the signed value is the AI's: accepted), F3 kept.
    # "procedure" came from the case, and the sample case's test run is never counted.
    body = get(client, "agreement")
    found = {
        (r["endpoint"], r["model_version"], r["element"]): (
            r["accepted"], r["edited"], r["cleared"], r["total"], r["acceptance_rate"]
        )
        for r in body["by_model"]
    }  # fmt: skip
    assert found == {
        ("ihc-dab", "1", KI67): (1, 1, 0, 2, 0.5),
        ("ihc-dab", "2", KI67): (0, 0, 1, 1, 0.0),
        ("breast-fna", "3", FNA_P): (3, 0, 0, 3, 1.0),
    }
    # Per day of sign-out: R1 D1, R2 D2, R3 D2, F1 D1, F2 D3, F3 D4 (its D3 sign-out recalled).
    over_time = {
        (r["bucket"], r["model_version"]): (r["accepted"], r["edited"], r["cleared"])
        for r in body["over_time"]
    }
    assert over_time == {
        (D1, "1"): (1, 0, 0),
        (D2, "1"): (0, 1, 0),
        (D2, "2"): (0, 0, 1),
        (D1, "3"): (1, 0, 0),
        (D3, "3"): (1, 0, 0),
        (D4, "3"): (1, 0, 0),
    }
    workflows = {(r["element"], r["workflow_version"]): r["total"] for r in body["by_workflow"]}
    assert workflows == {(KI67, 1): 3, (FNA_P, 1): 3}
    # A week: all six sign-outs fall in the week of Monday 2 November.
    weekly = get(client, "agreement", "&bucket=week")["over_time"]
    assert {r["bucket"] for r in weekly} == {D1}
    assert sum(r["total"] for r in weekly) == 6


def test_agreement_by_case_type_and_csv(client: Client) -> None:
    body = get(client, "agreement", f"&case_type={FNA}")
    assert [(r["endpoint"], r["total"]) for r in body["by_model"]] == [("breast-fna", 3)]
    table = rows(client, "agreement", "by_model")
    assert table[0] == [
        "endpoint", "model_name", "model_version", "element",
        "accepted", "edited", "cleared", "total", "acceptance_rate",
    ]  # fmt: skip
    assert table[1:] == [
        ["breast-fna", "fna-logreg", "3", FNA_P, "3", "0", "0", "3", "1.0"],
        ["ihc-dab", "ihc-dab", "1", KI67, "1", "1", "0", "2", "0.5"],
        ["ihc-dab", "ihc-dab", "2", KI67, "0", "0", "1", "1", "0.0"],
    ]


def test_turnaround_per_case_type_and_segment(client: Client) -> None:
    body = get(client, "turnaround")
    found = {(r["case_type"], r["segment"]): r for r in body["by_case_type"]}
    # Resection, signed R1, R2, R3 — received → draft: 30, 20, 40 min.
    r2d = found[(RESECTION, "received_to_draft")]
    assert (r2d["n"], r2d["min"], r2d["median"], r2d["p90"], r2d["max"], r2d["mean"]) == (
        3, 20.0, 30.0, 40.0, 40.0, 30.0
    )  # fmt: skip
    # draft → signed: 90 (R1), 1420 (R2: D1 09:20 → D2 09:00), 200 (R3).
    d2s = found[(RESECTION, "draft_to_signed")]
    assert (d2s["median"], d2s["p90"], d2s["mean"]) == (200.0, 1420.0, 570.0)
    # signed → delivered: 10 (R1), 5 (R2); R3's delivery failed.
    s2d = found[(RESECTION, "signed_to_delivered")]
    assert (s2d["n"], s2d["median"], s2d["p25"], s2d["p75"]) == (2, 7.5, 5.0, 10.0)
    # received → signed: 120, 1440, 240.
    assert found[(RESECTION, "received_to_signed")]["median"] == 240.0
    assert found[(RESECTION, "received_to_delivered")]["median"] == (130 + 1445) / 2
    # FNA, signed F1, F2, F3 (its live sign-out on D4): received → signed 70, 1335, 1440.
    fna = found[(FNA, "received_to_signed")]
    assert (fna["n"], fna["median"], fna["min"], fna["max"]) == (3, 1335.0, 70.0, 1440.0)
    assert found[(FNA, "draft_to_signed")]["median"] == 1320.0
    assert found[(FNA, "signed_to_delivered")]["median"] == 10.0
    # Per day of sign-out.
    by_day = {(r["day"], r["case_type"]): r for r in body["by_day"]}
    assert sorted(by_day) == [(D1, FNA), (D1, RESECTION), (D2, RESECTION), (D3, FNA), (D4, FNA)]
    assert by_day[(D2, RESECTION)]["signed"] == 2
    assert by_day[(D2, RESECTION)]["received_to_signed_median"] == (1440 + 240) / 2
    assert by_day[(D2, RESECTION)]["received_to_delivered_median"] == 1445.0


def test_throughput_and_queue_length_per_day(client: Client) -> None:
    throughput = {
        (r["day"], r["case_type"]): (r["received"], r["draft_ready"], r["signed"], r["delivered"])
        for r in get(client, "throughput")["by_day"]
    }
    assert throughput == {
        (D1, RESECTION): (2, 2, 1, 1),
        (D1, FNA): (1, 1, 1, 1),
        (D2, RESECTION): (1, 1, 2, 1),
        (D2, FNA): (1, 1, 0, 0),
        (D3, RESECTION): (2, 1, 0, 0),
        (D3, FNA): (1, 1, 1, 1),  # F3's sign-out that day was recalled: only F2 counts
        (D4, FNA): (0, 0, 1, 1),
    }
    # Waiting at the day's end: D1 R2; D2 F2; D3 R4 and F3; D4 R4.
    queue = {(r["day"], r["case_type"]): r["waiting"] for r in get(client, "queue")["by_day"]}
    assert queue == {
        (D1, RESECTION): 1, (D1, FNA): 0,
        (D2, RESECTION): 0, (D2, FNA): 1,
        (D3, RESECTION): 1, (D3, FNA): 1,
        (D4, RESECTION): 1, (D4, FNA): 0,
    }  # fmt: skip
    only = get(client, "queue", f"&case_type={RESECTION}")["by_day"]
    assert [r["waiting"] for r in only] == [1, 0, 1, 1]
    table = rows(client, "queue", "by_day", f"&case_type={RESECTION}")
    assert table == [
        ["day", "case_type", "waiting"],
        [D1, RESECTION, "1"],
        [D2, RESECTION, "0"],
        [D3, RESECTION, "1"],
        [D4, RESECTION, "1"],
    ]


def test_failed_runs_and_deliveries(client: Client) -> None:
    body = get(client, "failures")
    runs = {(r["day"], r["case_type"]): (r["finished"], r["failed"]) for r in body["runs"]}
    # Signed cases' runs finish at sign-out; R5 failed on D3; R4 still waits (not finished).
    assert runs == {
        (D1, RESECTION): (1, 0),
        (D1, FNA): (1, 0),
        (D2, RESECTION): (2, 0),
        (D3, RESECTION): (1, 1),
        (D3, FNA): (1, 0),
        (D4, FNA): (1, 0),
    }
    deliveries = {
        (r["day"], r["destination"]): (r["queued"], r["delivered"], r["failed"], r["stopped"])
        for r in body["deliveries"]
    }
    assert deliveries == {
        (D1, "lis-seed"): (2, 2, 0, 0),
        (D2, "lis-seed"): (2, 1, 1, 0),
        (D3, "his-seed"): (1, 0, 0, 1),
        (D3, "lis-seed"): (2, 1, 0, 0),  # F2 delivered, F3's recalled sign-out withdrawn
        (D4, "lis-seed"): (1, 1, 0, 0),
    }
    fna_only = get(client, "failures", f"&case_type={FNA}")
    assert [r["failed"] for r in fna_only["runs"]] == [0, 0, 0]
    assert sum(r["queued"] for r in fna_only["deliveries"]) == 5


def test_a_narrower_range_counts_only_its_days(client: Client) -> None:
    response = client.get(f"/api/v1/analytics/throughput?from={D2}&to={D2}")
    assert {(r["case_type"], r["signed"]) for r in response.json()["by_day"]} == {
        (RESECTION, 2),
        (FNA, 0),
    }


def test_bad_filters_are_answered_400_naming_each(client: Client) -> None:
    response = client.get("/api/v1/analytics/turnaround?from=2026-13-01&to=yesterday&bucket=x")
    assert response.status_code == 400
    problems = response.json()["problems"]
    assert any(p.startswith("from:") for p in problems)
    assert any(p.startswith("to:") for p in problems)
    assert any(p.startswith("bucket:") for p in problems)
    reversed_range = client.get(f"/api/v1/analytics/queue?from={D4}&to={D1}")
    assert reversed_range.json()["problems"] == ["from: must not be after to"]
    no_table = client.get(f"/api/v1/analytics/queue?{RANGE}&format=csv&table=nope")
    assert no_table.status_code == 400
    assert b"table: must be one of by_day" in no_table.content


def test_reads_and_exports_are_audited(client: Client, pathologist: User) -> None:
    get(client, "agreement")
    rows(client, "throughput", "by_day")
    events = AuditEvent.objects.filter(actor=pathologist, action__startswith="analytics.")
    found = [(e.action, e.detail["figure"], e.detail["table"]) for e in events.order_by("id")]
    assert found == [
        ("analytics.viewed", "agreement", ""),
        ("analytics.exported", "throughput", "by_day"),
    ]


@pytest.mark.parametrize("role", ["clinician", "integration", "model_team"])
def test_roles_without_the_dashboard_are_refused(client: Client, demo: DemoData, role: str) -> None:
    from tests.factories import UserFactory

    user = UserFactory.create(username=f"dash-{role}", department=demo.department, role=role)
    for figure in ("turnaround", "throughput", "queue", "agreement", "failures", "case-types"):
        response = logged_in(user).get(f"/api/v1/analytics/{figure}?{RANGE}")
        assert response.status_code == 403, (figure, response.status_code)


def test_admin_sees_the_same_figures_and_the_case_types(client: Client, admin: User) -> None:
    admin_client = logged_in(admin)
    ours = get(client, "throughput")
    assert admin_client.get(f"/api/v1/analytics/throughput?{RANGE}").json() == ours
    types = admin_client.get("/api/v1/analytics/case-types").json()
    assert types == {"case_types": [FNA, RESECTION]}


def test_another_department_sees_none_of_ours(
    client: Client, other_department_pathologist: User
) -> None:
    theirs = logged_in(other_department_pathologist)
    for figure, tables in (
        ("turnaround", ("by_case_type", "by_day")),
        ("agreement", ("by_model", "over_time", "by_workflow")),
        ("failures", ("runs", "deliveries")),
    ):
        body = theirs.get(f"/api/v1/analytics/{figure}?{RANGE}").json()
        assert all(body[t] == [] for t in tables), figure
    # Their one case (received D1, no draft) is all they see.
    assert theirs.get(f"/api/v1/analytics/throughput?{RANGE}").json()["by_day"] == [
        {"day": D1, "case_type": RESECTION, "received": 1, "draft_ready": 0, "signed": 0,
         "delivered": 0}
    ]  # fmt: skip
    assert theirs.get(f"/api/v1/analytics/queue?{RANGE}").json()["by_day"] == []
    assert theirs.get("/api/v1/analytics/case-types").json() == {"case_types": [RESECTION]}


def test_a_real_review_is_counted_with_the_model_that_proposed_the_value(
    demo: DemoData, pathologist: User
) -> None:
    """Through the cockpit's API: the AI's Ki-67 87.5 % (ihc-dab v1) changed to 60 and signed
    counts as edited for that model; the override kept the model source it replaced."""
    from tests.orchestrator.reports.drafts import parked_draft

    pathologist.refresh_from_db()
    client = logged_in(pathologist)
    draft = parked_draft(demo, "S26-AG1", ai_ki67=87.5)
    kept = parked_draft(demo, "S26-AG2", ai_ki67=12.5)
    changed = client.post(
        f"/api/v1/review/reports/{draft.pk}/fields",
        {"element": KI67, "value": 60},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.content[:300]
    for report in (draft, kept):
        signed = client.post(
            f"/api/v1/review/reports/{report.pk}/sign",
            {"password": PASSWORD},
            content_type="application/json",
        )
        assert signed.status_code == 201, signed.content[:300]
    body = client.get("/api/v1/analytics/agreement").json()
    ki67 = [r for r in body["by_model"] if r["element"] == KI67]
    assert [(r["endpoint"], r["model_version"], r["accepted"], r["edited"]) for r in ki67] == [
        ("ihc-dab", "1", 1, 1)
    ]
