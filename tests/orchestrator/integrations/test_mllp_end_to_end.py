"""An order acknowledged over MLLP ends as a case whose workflow ran on a real Celery worker
against the reference model services, with a draft report."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from orchestrator import devstack
from orchestrator.cases.models import Case
from orchestrator.demo_data import DemoData
from orchestrator.integrations.models import InboundMessage, RoutingRule
from orchestrator.runs.models import RunStatus
from tests.orchestrator.integrations.conftest import Running, ack_fields, exchange, order
from tests.parked import wait_for_draft


@pytest.mark.service
def test_an_acknowledged_order_becomes_a_case_whose_draft_waits_for_sign_out(
    demo: DemoData,
    celery_worker: devstack.ManagedProcess,
    listener_factory: Callable[..., Running],
) -> None:
    rule = RoutingRule.objects.get(department=demo.department, order_code="BREAST")
    assert rule.workflow == demo.workflow_version.workflow
    listener = listener_factory()

    ack = ack_fields(exchange(listener.port, order("E2E-1", accession="S26-HL7-1"))[0])

    assert ack["MSA"][1:3] == ["AA", "E2E-1"]
    deadline = time.monotonic() + 60
    while not (message := InboundMessage.objects.get(control_id="E2E-1")).run_id:
        assert time.monotonic() < deadline, f"no run started: {message.status} {message.error}"
        time.sleep(0.2)
    run = wait_for_draft(message.run_id or 0)
    assert run.status == RunStatus.WAITING_REVIEW, run.error
    case = Case.objects.get(accession="S26-HL7-1")
    assert case.patient_name == "张三"
    assert run.case_id == case.pk
    assert run.reports.filter(status="draft").exists()
