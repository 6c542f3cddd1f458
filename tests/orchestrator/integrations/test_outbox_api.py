"""The outbound message console API and delivery routes: search, detail with the raw message
and every answer, resend linked to the original, queue depth and age, routes managed by admins;
department-scoped and audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from orchestrator.accounts.models import Role, User
from orchestrator.audit.models import AuditEvent
from orchestrator.demo_data import DemoData
from orchestrator.integrations.dispatcher import dispatch_destination
from orchestrator.integrations.outbox import queue_report_deliveries
from orchestrator.integrations.outbox_models import Delivery
from tests.factories import DepartmentFactory, UserFactory
from tests.mllp import MllpReceiver

from .conftest import destination, new_case, route, signed_report


@pytest.fixture(autouse=True)
def _broker(broker_url: str) -> str:
    return broker_url


def login(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def sent(outbox_demo: DemoData, signer: User, receiver: MllpReceiver) -> list[Delivery]:
    """Three deliveries to the LIS: the first delivered, the second stopped (AR), one queued."""
    lis = destination(outbox_demo.department, "lis", "hl7_mllp", receiver.address)
    route(lis)
    deliveries = [
        queue_report_deliveries(
            signed_report(
                new_case(
                    outbox_demo.department,
                    f"S26-0000{n}",
                    patient={"name": "李四", "mrn": f"MRN-{n}", "sex": "M"},
                ),
                signer,
            )
        )[0]
        for n in (1, 2, 3)
    ]
    receiver.script("AA", "AR")
    dispatch_destination(lis.pk)
    return [Delivery.objects.get(pk=d.pk) for d in deliveries]


def ids(answer: Any) -> list[int]:
    return [row["id"] for row in answer.json()["results"]]


def test_the_console_searches_by_accession_mrn_control_id_status_and_date(
    sent: list[Delivery],
) -> None:
    console = login("integration")

    everything = console.get("/api/v1/deliveries/")
    assert everything.status_code == 200
    assert ids(everything) == [d.pk for d in reversed(sent)]
    assert everything.json()["results"][0]["accession"] == "S26-00003"
    assert ids(console.get("/api/v1/deliveries/", {"accession": "S26-00002"})) == [sent[1].pk]
    assert ids(console.get("/api/v1/deliveries/", {"mrn": "MRN-1"})) == [sent[0].pk]
    assert ids(console.get("/api/v1/deliveries/", {"control_id": sent[2].control_id})) == [
        sent[2].pk
    ]
    assert ids(console.get("/api/v1/deliveries/", {"status": "stopped"})) == [sent[1].pk]
    assert ids(
        console.get(
            "/api/v1/deliveries/",
            {"destination": "lis", "since": "2000-01-01", "until": "2999-12-31"},
        )
    ) == [d.pk for d in reversed(sent)]
    assert ids(console.get("/api/v1/deliveries/", {"destination": "elsewhere"})) == []
    assert ids(console.get("/api/v1/deliveries/", {"until": "2000-01-01"})) == []
    page = console.get("/api/v1/deliveries/", {"limit": 2}).json()
    assert (page["count"], len(page["results"])) == (3, 2)
    bad = console.get(
        "/api/v1/deliveries/", {"status": "lost", "since": "yesterday", "until": "2026-13-45"}
    )
    assert bad.status_code == 400
    # The query parameters' check (orchestrator.query_parameters), against the schema.
    assert bad.json()["problems"] == [
        "since: must be a date (ISO 8601) or a date-time (ISO 8601)",
        "status: must be one of delivered, failed, queued, sending, stopped, withdrawn",
        "until: must be a valid date (ISO 8601) or a date-time (ISO 8601)",
    ]
    assert AuditEvent.objects.filter(action="delivery.listed").count() >= 8


def test_the_list_uses_a_fixed_number_of_queries(sent: list[Delivery]) -> None:
    console = login("integration")
    with CaptureQueriesContext(connection) as queries:
        console.get("/api/v1/deliveries/")
    first = len(queries)
    signer = User.objects.get(username="pathologist")
    more = signed_report(new_case(sent[0].department, "S26-00009"), signer)
    queue_report_deliveries(more)
    with CaptureQueriesContext(connection) as queries:
        console.get("/api/v1/deliveries/")
    assert len(queries) == first


def test_the_detail_shows_the_raw_message_and_every_answer(sent: list[Delivery]) -> None:
    answer = login("integration").get(f"/api/v1/deliveries/{sent[1].pk}/")

    assert answer.status_code == 200
    body = answer.json()
    assert body["message"].startswith("MSH|^~\\&|PATHFLOW|pathology|")
    parsed = {s["segment"]: s["fields"] for s in body["parsed"]}
    assert parsed["MSH"]["MSH-10"] == sent[1].control_id
    assert parsed["PID"]["PID-3"] == "MRN-2^^^pathology^MR"
    pdf = next(s["fields"] for s in body["parsed"] if s["fields"].get("OBX-2") == "ED")
    assert pdf["OBX-5"].startswith("^application^pdf^Base64^<")
    assert pdf["OBX-5"].endswith(" base64 characters>")
    assert body["status"] == "stopped"
    [attempt] = body["attempt_log"]
    assert attempt["verdict"] == "rejected"
    assert f"MSA|AR|{sent[1].control_id}" in attempt["answer"]
    assert AuditEvent.objects.filter(action="delivery.viewed", object_id=str(sent[1].pk)).exists()


def test_a_resend_is_a_new_delivery_linked_to_the_original(
    sent: list[Delivery], receiver: MllpReceiver
) -> None:
    console = login("integration")

    answer = console.post(f"/api/v1/deliveries/{sent[1].pk}/resend")

    assert answer.status_code == 201
    copy = answer.json()
    assert copy["resend_of"] == sent[1].pk
    assert copy["control_id"] != sent[1].control_id
    assert copy["status"] == "queued"
    refused = console.post(f"/api/v1/deliveries/{copy['id']}/resend")
    assert refused.status_code == 409
    assert "still queued" in refused.json()["detail"]
    detail = console.get(f"/api/v1/deliveries/{sent[1].pk}/").json()
    assert detail["resends"] == [copy["id"]]
    assert detail["released"] is True


def test_queues_show_depth_age_and_one_alert_per_destination(sent: list[Delivery]) -> None:
    answer = login("admin").get("/api/v1/delivery-queues")

    assert answer.status_code == 200
    [lis] = answer.json()
    assert (lis["destination"], lis["depth"], lis["held"]) == ("lis", 2, True)
    assert lis["oldest_age_s"] >= 0
    assert lis["alert"]["kind"] == "stopped"


def test_others_cannot_use_the_console_and_other_departments_are_invisible(
    sent: list[Delivery],
) -> None:
    assert login("clinician").get("/api/v1/deliveries/").status_code == 403
    assert login("pathologist").post(f"/api/v1/deliveries/{sent[0].pk}/resend").status_code == 403
    outsider = UserFactory.create(
        username="elsewhere",
        role=Role.INTEGRATION,
        department=DepartmentFactory.create(code="elsewhere"),
    )
    client = Client()
    client.force_login(outsider)
    assert client.get("/api/v1/deliveries/").json()["count"] == 0
    assert client.get(f"/api/v1/deliveries/{sent[0].pk}/").status_code == 404
    assert client.post(f"/api/v1/deliveries/{sent[0].pk}/resend").status_code == 404
    denied = AuditEvent.objects.filter(
        action="access.denied", detail__permission="integration.manage"
    )
    assert denied.count() == 4  # clinician, pathologist, outsider's detail and resend


def test_admins_and_integration_engineers_manage_routes_to_destinations_only(
    outbox_demo: DemoData, receiver: MllpReceiver
) -> None:
    destination(outbox_demo.department, "lis", "hl7_mllp", receiver.address)
    admin = login("admin")

    created = admin.post(
        "/api/v1/delivery-routes/",
        {
            "destination": "lis",
            "report_statuses": ["final", "amended"],
            "case_types": ["breast-resection"],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    route_id = created.json()["id"]
    wrong = admin.post(
        "/api/v1/delivery-routes/",
        {"destination": "breast-fna", "report_statuses": ["signed"]},
        content_type="application/json",
    )
    assert wrong.status_code == 400
    assert set(wrong.json()) - {"detail", "problems"} == {"destination", "report_statuses"}
    assert "not a delivery destination" in wrong.json()["destination"][0]
    changed = admin.patch(
        f"/api/v1/delivery-routes/{route_id}/", {"enabled": False}, content_type="application/json"
    )
    assert changed.json()["enabled"] is False
    # JSON types are read as the schema gives them: 1 is not true, and nothing changes.
    number = admin.patch(
        f"/api/v1/delivery-routes/{route_id}/", {"enabled": 1}, content_type="application/json"
    )
    assert number.status_code == 400
    assert number.json()["problems"] == ["enabled: Must be a valid boolean."]
    assert admin.get(f"/api/v1/delivery-routes/{route_id}/").json()["enabled"] is False
    # A destination that does not exist: 422 naming it — not 404, which would say the route
    # itself is gone (found by the schemathesis soak's stateful phase).
    unknown = admin.put(
        f"/api/v1/delivery-routes/{route_id}/",
        {"destination": "nowhere", "report_statuses": ["final"]},
        content_type="application/json",
    )
    assert unknown.status_code == 422
    assert unknown.json()["problems"] == ["destination: Object with slug=nowhere does not exist."]
    assert login("integration").get("/api/v1/delivery-routes/").status_code == 200
    assert login("clinician").get("/api/v1/delivery-routes/").status_code == 403
    assert admin.delete(f"/api/v1/delivery-routes/{route_id}/").status_code == 204
    actions = set(
        AuditEvent.objects.filter(action__startswith="delivery_route.").values_list(
            "action", flat=True
        )
    )
    assert actions == {
        "delivery_route.created",
        "delivery_route.changed",
        "delivery_route.deleted",
    }
