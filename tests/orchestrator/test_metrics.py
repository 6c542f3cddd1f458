"""/metrics: what an operator's Prometheus scrapes after real runs on a real worker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from pytest_django.fixtures import Settings

from orchestrator import devstack
from orchestrator.accounts.models import User
from orchestrator.cases.services import create_case
from orchestrator.celery import app as celery_app
from orchestrator.demo_data import DemoData
from orchestrator.runs.models import Run, RunStatus
from orchestrator.runs.services import start_run
from tests.conftest import case_document
from tests.parked import sign_out_run, wait_for_draft

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]


def scrape(client: Client, **extra: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", **extra)  # type: ignore[arg-type]
    assert response.status_code == 200, response.content
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_it_counts_runs_by_status_and_times_nodes_and_renders(
    demo: DemoData, celery_worker: devstack.ManagedProcess, pathologist: User
) -> None:
    case = create_case(demo.department, case_document("breast-fna-malignant"))
    run = wait_for_draft(start_run(case, demo.fna_workflow_version).pk)
    assert run.status == RunStatus.WAITING_REVIEW, run.error

    parked = scrape(Client())
    _, run = sign_out_run(run, pathologist)
    assert run.status == RunStatus.SUCCEEDED, run.error
    metrics = scrape(Client())

    assert parked[("pathflow_runs", (("status", "waiting_review"),))] == 1
    assert parked[("pathflow_runs", (("status", "succeeded"),))] == 0
    assert metrics[("pathflow_runs", (("status", "waiting_review"),))] == 0
    assert metrics[("pathflow_runs", (("status", "succeeded"),))] == 1
    assert metrics[("pathflow_runs", (("status", "failed"),))] == 0
    node_types = {
        dict(labels)["node_type"]
        for name, labels in metrics
        if name == "pathflow_node_duration_seconds_count"
    }
    assert {"model_call", "render_report"} <= node_types
    assert (
        metrics[("pathflow_render_duration_seconds_count", (("node_type", "render_report"),))] == 1
    )
    assert metrics[("pathflow_render_duration_seconds_sum", (("node_type", "render_report"),))] > 0
    # django-prometheus's own request metrics are there too.
    assert any(name.startswith("django_http_requests") for name, _ in metrics)


def test_it_reports_the_age_of_the_oldest_queued_run(demo: DemoData) -> None:
    case = create_case(demo.department, case_document("breast-resection"))
    run = Run.objects.create(
        case=case,
        workflow_version=demo.workflow_version,
        template_version=demo.workflow_version.template_version,
        status=RunStatus.QUEUED,
    )
    Run.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=10))

    metrics = scrape(Client())

    assert metrics[("pathflow_runs", (("status", "queued"),))] == 1
    assert 600 <= metrics[("pathflow_oldest_queued_run_age_seconds", ())] < 660


def test_it_reports_the_depth_of_each_queue(
    demo: DemoData, broker_url: str, settings: Settings
) -> None:
    settings.METRICS_QUEUES = ["metrics-probe"]
    with celery_app.connection_for_write() as connection:
        channel: Any = connection.default_channel
        channel.queue_purge("metrics-probe")
    for _ in range(3):
        celery_app.send_task("pathflow.metrics_probe", queue="metrics-probe")

    metrics = scrape(Client())

    assert metrics[("pathflow_queue_depth", (("queue", "metrics-probe"),))] == 3


def test_it_serves_metrics_to_the_monitoring_network_only(db: None, settings: Settings) -> None:
    settings.METRICS_ALLOWED_NETWORKS = ["10.20.0.0/16"]

    assert Client().get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    refused = Client().get("/metrics", REMOTE_ADDR="192.0.2.7")
    assert refused.status_code == 403
    assert b"monitoring network" in refused.content
