"""The inbound message console API and the routing table API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries
from pytest_django.fixtures import Settings

from orchestrator.accounts.models import Department, User
from orchestrator.audit.models import AuditEvent
from orchestrator.cases.models import Case
from orchestrator.demo_data import DemoData, load_demo_data
from orchestrator.integrations.inbound import process_safely, receive_frame
from orchestrator.integrations.models import InboundMessage, RoutingRule
from tests.conftest import PASSWORD
from tests.orchestrator.integrations.conftest import order

API = "/api/v1/integration"


@pytest.fixture
def demo_db(db: None, settings: Settings) -> DemoData:
    settings.MLLP_ROUTING_CACHE_S = 0
    return load_demo_data(PASSWORD, "http://127.0.0.1:9")  # routes order code BREAST


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def receive(frame: bytes) -> InboundMessage:
    reply = receive_frame(frame)
    assert reply.message_id is not None
    return InboundMessage.objects.get(pk=reply.message_id)


def test_it_searches_messages_by_accession_mrn_control_id_status_and_date(
    demo_db: DemoData, admin: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    receive(order("A1", accession="S-1", mrn="MRN-1"))
    receive(order("A2", accession="S-2", mrn="MRN-2"))
    receive(order("A3", accession="S-3", mrn="MRN-1", order_code="LIVER"))
    client = client_for(admin)

    def ids(query: str) -> list[str]:
        body: dict[str, Any] = client.get(f"{API}/inbound-messages/?{query}").json()
        return [row["control_id"] for row in body["results"]]

    assert ids("accession=S-2") == ["A2"]
    assert ids("mrn=MRN-1") == ["A3", "A1"]
    assert ids("control_id=A1") == ["A1"]
    assert ids("status=error") == ["A3"]
    assert ids("received_after=2000-01-01T00:00:00Z&limit=2") == ["A3", "A2"]
    assert ids("received_before=2000-01-01T00:00:00Z") == []
    bad = client.get(
        f"{API}/inbound-messages/?status=lost&received_after=yesterday"
        "&received_before=2026-13-45T00:00:00Z"  # well formed, not a real moment
    )
    assert bad.status_code == 400
    # The query parameters' check (orchestrator.query_parameters) names each one.
    assert {problem.split(":")[0] for problem in bad.json()["problems"]} == {
        "status",
        "received_after",
        "received_before",
    }
    with django_assert_num_queries(5):  # session, user, count, page, reprocessed_as
        assert len(client.get(f"{API}/inbound-messages/").json()["results"]) == 3


def test_raw_and_parsed_are_shown_to_admins_and_integration_engineers_only(
    demo_db: DemoData,
    admin: User,
    pathologist: User,
    clinician: User,
    integration: User,
    other_department_pathologist: User,
) -> None:
    message = receive(order("G1", charset="GB 18030", codec="gb18030", family="欧阳"))
    url = f"{API}/inbound-messages/{message.pk}/"

    full = client_for(integration).get(url).json()
    assert full["raw_text"].startswith("MSH|^~\\&|LIS|HOSPITAL")
    assert "欧阳^三" in full["raw_text"]
    pid = next(s for s in full["parsed"] if s["segment"] == "PID")
    assert pid["fields"]["PID-5"] == "欧阳^三"
    assert full["parsed"][0]["fields"]["MSH-9"] == "ORM^O01"
    assert full["ack_text"].startswith("MSH|")
    assert client_for(admin).get(url).json()["raw_base64"]
    withheld = client_for(pathologist).get(url).json()
    assert (withheld["raw_text"], withheld["parsed"], withheld["raw_base64"]) == (None, None, None)
    assert withheld["accession"] == "S-G1"
    assert client_for(clinician).get(url).status_code == 403
    assert client_for(other_department_pathologist).get(url).status_code == 404
    denied = AuditEvent.objects.filter(action="access.denied", object_id=str(message.pk))
    reasons = {event.actor: event.detail["reason"] for event in denied}
    assert reasons[other_department_pathologist] == "another department"
    assert "your role is clinician" in reasons[clinician]
    viewed = AuditEvent.objects.filter(action="inbound_message.viewed", object_id=str(message.pk))
    assert viewed.count() == 3


def test_reprocessing_after_a_new_route_makes_the_case_and_links_the_attempt(
    demo_db: DemoData, admin: User, integration: User
) -> None:
    original = receive(order("P1", accession="S-P1", order_code="LIVER"))
    assert original.status == "error"
    client = client_for(admin)

    created = client.post(
        f"{API}/routing-rules/",
        {"order_code": "LIVER", "workflow": demo_db.workflow_version.workflow.slug},
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    answer = client_for(integration).post(f"{API}/inbound-messages/{original.pk}/reprocess")

    assert answer.status_code == 201
    attempt = answer.json()
    assert attempt["reprocess_of"] == original.pk
    assert attempt["status"] == "processed"
    assert attempt["case"] is not None
    assert attempt["run"] is not None
    original.refresh_from_db()
    assert original.status == "error"
    detail = client.get(f"{API}/inbound-messages/{original.pk}/").json()
    assert detail["reprocessed_as"] == [attempt["id"]]
    assert AuditEvent.objects.filter(action="inbound_message.reprocessed").count() == 1
    assert AuditEvent.objects.filter(action="routing_rule.created").count() == 1


def test_only_admins_edit_the_routing_table(
    demo_db: DemoData, admin: User, pathologist: User, other_department: Department
) -> None:
    rule = RoutingRule.objects.get(order_code="BREAST")
    slug = demo_db.workflow_version.workflow.slug
    listed = client_for(pathologist).get(f"{API}/routing-rules/").json()["results"]
    assert {r["order_code"]: r["workflow"] for r in listed} == {
        "BREAST": slug,
        "BREAST-FNA": demo_db.fna_workflow_version.workflow.slug,
    }

    refused = client_for(pathologist).patch(
        f"{API}/routing-rules/{rule.pk}/", {"priority": 1}, content_type="application/json"
    )
    duplicate = client_for(admin).post(
        f"{API}/routing-rules/",
        {"order_code": "BREAST", "workflow": slug},
        content_type="application/json",
    )
    changed = client_for(admin).patch(
        f"{API}/routing-rules/{rule.pk}/",
        {"specimen_type": "TISS", "priority": 5},
        content_type="application/json",
    )

    assert refused.status_code == 403
    denial = AuditEvent.objects.get(action="access.denied", actor=pathologist)
    assert denial.detail["permission"] == "integration.configure"
    assert duplicate.status_code == 409  # a clash with an existing rule
    assert "order_code" in duplicate.json()
    assert changed.status_code == 200
    assert changed.json()["specimen_type"] == "TISS"
    event = AuditEvent.objects.get(action="routing_rule.changed")
    assert event.detail["fields"] == ["priority", "specimen_type"]
    assert client_for(admin).delete(f"{API}/routing-rules/{rule.pk}/").status_code == 204
    assert not RoutingRule.objects.filter(order_code="BREAST").exists()


def test_an_order_that_cannot_become_a_case_fails_after_five_attempts_and_is_reprocessed(
    demo_db: DemoData, integration: User
) -> None:
    message = receive(order("F1", accession="S-F1"))
    assert message.status == "received"
    # Its routed workflow is gone by the time the processor gets to it.
    InboundMessage.objects.filter(pk=message.pk).update(workflow=None)

    for _ in range(5):
        assert process_safely(message.pk) is None

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 5)
    assert "routed workflow no longer exists" in message.error
    assert process_safely(message.pk) is None  # a failed row is left for a person
    answer = client_for(integration).post(f"{API}/inbound-messages/{message.pk}/reprocess")
    assert answer.json()["status"] == "processed"
    assert Case.objects.filter(accession="S-F1").count() == 1
