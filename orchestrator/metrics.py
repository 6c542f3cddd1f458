"""Operational metrics for Prometheus at ``/metrics``: django-prometheus's request metrics plus
Pathflow's own, read from the database and the broker at scrape time.

Workers are separate processes (often on other machines), so nothing is counted in process
memory: every figure comes from the rows the workers commit (runs, node attempts) and from the
broker's queue lengths, and a scrape of any web process gives the same answer. Only ids,
statuses and durations are exported, never case data. Documented in docs/operations.md.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from orchestrator.runs.models import NodeRun, NodeRunStatus, Run, RunStatus

log = logging.getLogger(__name__)

# Upper bounds (seconds) of the node duration histogram: model calls take tens of ms to
# seconds, renders a tenth of a second to a few seconds, map nodes over many tiles longer.
DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
RENDER_NODE_TYPE = "render_report"


def _histogram_rows(window: timedelta) -> dict[str, list[int]]:
    """Per node type, the durations (ms) of attempts that ended within ``window``."""
    since = timezone.now() - window
    rows = NodeRun.objects.filter(
        finished_at__gte=since,
        duration_ms__isnull=False,
        status__in=[NodeRunStatus.SUCCEEDED, NodeRunStatus.FAILED],
    ).values_list("node_type", "duration_ms")
    by_type: dict[str, list[int]] = {}
    for node_type, duration_ms in rows.iterator():
        if duration_ms is not None:
            by_type.setdefault(node_type, []).append(duration_ms)
    return by_type


def _histogram(name: str, doc: str, samples: dict[str, list[int]]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=["node_type"])
    for node_type, durations in sorted(samples.items()):
        seconds = [ms / 1000 for ms in durations]
        buckets = [
            (str(bound), sum(1 for s in seconds if s <= bound)) for bound in DURATION_BUCKETS
        ]
        buckets.append(("+Inf", len(seconds)))
        family.add_metric([node_type], buckets, sum(seconds))
    return family


def broker_queue_lengths(queues: Iterable[str]) -> dict[str, int]:
    """Messages waiting in each Celery queue (Redis or RabbitMQ alike, through kombu); a queue
    that cannot be read is left out and logged, so a broker outage does not break the scrape."""
    from orchestrator.celery import app

    lengths: dict[str, int] = {}
    try:
        with app.connection_for_read() as connection:
            # kombu's Channel (Redis and AMQP alike) declares; its typed base class does not.
            channel: Any = connection.default_channel
            for queue in queues:
                declared = channel.queue_declare(queue=queue, passive=True)
                lengths[queue] = int(declared.message_count)
    except Exception as exc:  # the broker may be down: report what we can
        log.warning("metrics: broker queue lengths unavailable: %s", type(exc).__name__)
    return lengths


class PathflowCollector(Collector):
    """Collects at scrape time; registered once per process by ``register_collector``."""

    def collect(self) -> Iterator[Metric]:
        by_status = dict(
            Run.objects.filter(is_test=False)
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        runs = GaugeMetricFamily(
            "pathflow_runs", "Runs (test runs excluded) by status.", labels=["status"]
        )
        for status in RunStatus.values:
            runs.add_metric([status], by_status.get(status, 0))
        yield runs

        oldest = Run.objects.filter(status=RunStatus.QUEUED).aggregate(at=Min("created_at"))["at"]
        age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            "pathflow_oldest_queued_run_age_seconds",
            "Age of the oldest run still waiting for a worker (0 when none waits).",
            value=age,
        )
        waiting = NodeRun.objects.filter(
            status=NodeRunStatus.WAITING, run__status=RunStatus.WAITING_REVIEW
        ).aggregate(at=Min("started_at"))["at"]
        yield GaugeMetricFamily(
            "pathflow_oldest_review_wait_seconds",
            "How long the longest-waiting run has been parked at a review node.",
            value=(timezone.now() - waiting).total_seconds() if waiting else 0.0,
        )

        window = timedelta(seconds=settings.METRICS_WINDOW_SECONDS)
        samples = _histogram_rows(window)
        yield _histogram(
            "pathflow_node_duration_seconds",
            f"Node attempt durations by node type, attempts ended in the last {window}.",
            samples,
        )
        yield _histogram(
            "pathflow_render_duration_seconds",
            f"Report render durations (render_report attempts) in the last {window}.",
            {RENDER_NODE_TYPE: samples.get(RENDER_NODE_TYPE, [])},
        )

        queue = GaugeMetricFamily(
            "pathflow_queue_depth", "Tasks waiting in each Celery queue.", labels=["queue"]
        )
        for name, length in sorted(broker_queue_lengths(settings.METRICS_QUEUES).items()):
            queue.add_metric([name], length)
        yield queue
        yield from _outbox_metrics()


def _outbox_metrics() -> Iterator[Metric]:
    """Per delivery destination: undelivered deliveries and the age of the oldest (the
    outbox's queue-age alert), and whether an alert incident is open."""
    from orchestrator.integrations.outbox import waiting
    from orchestrator.integrations.outbox_models import Delivery, DeliveryIncident

    labels = ["department", "destination"]
    depth = GaugeMetricFamily(
        "pathflow_deliveries_undelivered", "Deliveries not yet delivered.", labels=labels
    )
    age = GaugeMetricFamily(
        "pathflow_oldest_undelivered_age_seconds",
        "Age of the oldest delivery not yet delivered, per destination.",
        labels=labels,
    )
    now = timezone.now()
    rows = (
        waiting(Delivery.objects.all())
        .values_list("department__code", "destination__slug")
        .annotate(n=Count("id"), oldest=Min("created_at"))
    )
    for department, destination, count, oldest in rows:
        depth.add_metric([department, destination], count)
        age.add_metric([department, destination], (now - oldest).total_seconds())
    yield depth
    yield age
    yield GaugeMetricFamily(
        "pathflow_delivery_incidents_open",
        "Delivery alert incidents still open (one per destination at most).",
        value=DeliveryIncident.objects.filter(closed_at__isnull=True).count(),
    )


_collector: PathflowCollector | None = None


def register_collector() -> None:
    global _collector
    if _collector is None:
        _collector = PathflowCollector()
        REGISTRY.register(_collector)


def _allowed(request: HttpRequest) -> bool:
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(cidr, strict=False)
        for cidr in settings.METRICS_ALLOWED_NETWORKS
    )


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition, only to the networks in ``PATHFLOW_METRICS_ALLOWED_NETWORKS``
    (default: this machine); others get 403 — the endpoint carries no case data, but queue
    depths and failure counts are operational information."""
    if not _allowed(request):
        return HttpResponse("metrics are served to the monitoring network only\n", status=403)
    register_collector()
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
