"""The outbox on /metrics: undelivered deliveries and the oldest one's age per destination,
and open alert incidents, for the monitoring system's queue-age alert."""

from __future__ import annotations

from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from orchestrator.accounts.models import User
from orchestrator.demo_data import DemoData
from orchestrator.integrations.dispatcher import dispatch_destination
from orchestrator.integrations.outbox import queue_report_deliveries
from tests.mllp import MllpReceiver

from .conftest import destination, new_case, route, signed_report


def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = Client().get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_metrics_show_each_destinations_backlog_and_open_incidents(
    outbox_demo: DemoData, signer: User, receiver: MllpReceiver
) -> None:
    lis = destination(outbox_demo.department, "lis", "hl7_mllp", receiver.address)
    route(lis)
    for n in (1, 2, 3):
        queue_report_deliveries(
            signed_report(new_case(outbox_demo.department, f"S26-0000{n}"), signer)
        )
    receiver.script("AA", "AR")
    dispatch_destination(lis.pk)

    samples = scrape()

    labels = (("department", "pathology"), ("destination", "lis"))
    assert samples[("pathflow_deliveries_undelivered", labels)] == 2
    assert samples[("pathflow_oldest_undelivered_age_seconds", labels)] >= 0
    assert samples[("pathflow_delivery_incidents_open", ())] == 1
