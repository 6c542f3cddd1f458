"""The deliver node: it checks the destination, the report and the extra data, then asks the
host to queue a delivery (the outbox sends it later); end to end through the Django host, the
delivery is written with the node's checkpoint and a test run queues nothing."""

from __future__ import annotations

from typing import Any

import pytest

from workflows.context import RunContext
from workflows.errors import NodeError
from workflows.executor import execute_graph
from workflows.registry import NodeType

from .conftest import (
    FakeServices,
    RecordingCheckpoints,
    edge,
    node_type,
    render,
    transform,
    trigger,
)
from .conftest import valid_spec as engine_spec

REPORT = {"report_id": 7, "sha256": "ab" * 32, "pages": 2}


@pytest.fixture
def destinations(services: FakeServices) -> FakeServices:
    services.add("lis-hook", protocol="webhook", base_url="http://127.0.0.1:9/hooks")
    services.add("lis-hl7", protocol="hl7_mllp", base_url="127.0.0.1:2575")
    return services


@pytest.fixture
def deliver() -> NodeType:
    return node_type("deliver")


def config(destination: str = "lis-hook", **changes: Any) -> dict[str, Any]:
    return {"channel": "webhook", "destination": destination, "event": "report.drafted",
            **changes}  # fmt: skip


@pytest.mark.anyio
async def test_it_queues_the_report_with_its_key_event_and_data(
    context: RunContext, destinations: FakeServices, deliver: NodeType
) -> None:
    context.node_id = "send"
    cfg = config(data={"accession": "case.accession", "tiles": "case.specimens[0].tiles | length"},
                 include_pdf=True)  # fmt: skip
    assert deliver.config_problems(cfg) == []

    outputs = await deliver.run(context, {"report": REPORT}, cfg)

    [request] = destinations.queued
    assert (request.node_id, request.channel, request.destination) == ("send", "webhook",
                                                                        "lis-hook")  # fmt: skip
    assert (request.report_id, request.idempotency_key) == (7, "run-1:send")
    assert request.include_pdf is True
    assert request.data == {"accession": "S26-00001", "tiles": 1}
    assert outputs == {
        "delivery": {
            "channel": "webhook",
            "destination": "lis-hook",
            "event": "report.drafted",
            "report_id": 7,
            "idempotency_key": "run-1:send",
            "status": "queued",
        }
    }


@pytest.mark.anyio
async def test_a_run_the_host_withholds_checks_everything_but_queues_nothing(
    context: RunContext, destinations: FakeServices, deliver: NodeType
) -> None:
    destinations.withheld = "a test run of a draft is never delivered"

    outputs = await deliver.run(context, {"report": REPORT}, config("lis-hl7", channel="hl7_mllp"))

    assert destinations.queued == []
    assert outputs["delivery"]["status"] == "not sent"
    assert outputs["delivery"]["reason"] == "a test run of a draft is never delivered"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("destination", "inputs", "cfg", "message"),
    [
        ("lis-model", {"report": REPORT}, {},
         "destination 'lis-model' is not a webhook destination (its catalog kind is "
         "open_inference_v2)"),
        ("lis-hl7", {"report": REPORT}, {},
         "destination 'lis-hl7' is not a webhook destination (its catalog kind is hl7_mllp)"),
        ("lis-nowhere", {"report": REPORT}, {}, "destination 'lis-nowhere' is not in the catalog"),
        ("lis-hook", {"report": {"p": 0.5}}, {},
         "input 'report' is not a rendered report (connect a render node's report port)"),
        ("lis-hook", {"report": REPORT}, {"data": {"urgent": "case.urgent"}},
         "data.urgent: 'case.urgent' has no value for this case"),
    ],
)  # fmt: skip
async def test_it_refuses_what_it_cannot_deliver_before_queueing(
    context: RunContext,
    destinations: FakeServices,
    deliver: NodeType,
    destination: str,
    inputs: dict[str, Any],
    cfg: dict[str, Any],
    message: str,
) -> None:
    destinations.add("lis-model")  # an Open Inference endpoint, not a destination

    with pytest.raises(NodeError) as raised:
        await deliver.run(context, inputs, config(destination, **cfg))

    assert str(raised.value) == message
    assert raised.value.permanent
    assert destinations.queued == []


def test_the_config_names_what_is_wrong(deliver: NodeType) -> None:
    assert deliver.config_problems(config(channel="hl7", event="Report Drafted")) == [
        "config['channel']: 'hl7' is not one of ['fhir_rest', 'hl7_mllp', 'webhook']",
        "config['event']: 'Report Drafted' does not match '^[a-z][a-z0-9_.-]*$'",
    ]
    assert deliver.config_problems(config(data={"accession": "case.accession |"})) == [
        "data.accession: expression 'case.accession |' does not compile: unexpected end of "
        "template, expected 'name'."
    ]


@pytest.mark.anyio
async def test_a_graph_renders_then_queues_the_report_it_rendered(
    context: RunContext, destinations: FakeServices
) -> None:
    spec = engine_spec(
        [trigger(), transform("fields", {"procedure": "case.findings.procedure"}), render(),
         {"id": "send", "type": "deliver", "config": config()}],
        [edge("case", "fields", source_port="case"),
         edge("fields", "report", "findings", "findings"),
         edge("report", "send", "report", "report")],
    )  # fmt: skip

    outcome = await execute_graph(spec, context, RecordingCheckpoints())

    assert outcome.status == "succeeded", outcome.error
    rendered = outcome.results["report"].outputs["report"]
    [request] = destinations.queued
    assert request.report_id == rendered["report_id"]
    assert outcome.results["send"].outputs["delivery"]["status"] == "queued"


# --- end to end through the Django host ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_run_writes_its_delivery_with_the_nodes_checkpoint_and_a_test_run_none(
    broker_url: str, refused_url: str
) -> None:
    from orchestrator.cases.services import create_case
    from orchestrator.catalog.models import ModelEndpoint
    from orchestrator.demo_data import load_demo_data
    from orchestrator.designs.services import import_workflow
    from orchestrator.integrations.outbox_models import Delivery
    from orchestrator.reports.models import Report
    from orchestrator.runs.models import NodeRun, RunStatus
    from orchestrator.runs.services import execute_run, start_run
    from tests.conftest import PASSWORD, case_document

    from .conftest import graph

    demo = load_demo_data(PASSWORD, "http://127.0.0.1:9")
    ModelEndpoint.objects.create(
        department=demo.department, slug="lis", name="LIS", protocol="hl7_mllp",
        base_url=refused_url.removeprefix("http://"), timeout_s=5,
    )  # fmt: skip
    document = graph(
        [trigger(), transform("fields", {"tumour_size_mm": "case.findings.tumour_size_mm"},
                              base="case.findings"), render(),
         {"id": "send", "type": "deliver",
          "config": config("lis", channel="hl7_mllp", data={"accession": "case.accession"})}],
        [edge("case", "fields", source_port="case"),
         edge("fields", "report", "findings", "findings"),
         edge("report", "send", "report", "report")],
    )  # fmt: skip
    version = import_workflow(
        demo.department, document, demo.workflow_version.template_version,
        slug="deliver-to-lis", case_type="breast-resection",
    )  # fmt: skip
    case = create_case(demo.department, case_document("breast-resection"))

    run = start_run(case, version, enqueue=False)
    execute_run(run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    report = Report.objects.get(run=run)
    [delivery] = Delivery.objects.all()
    assert (delivery.report_id, delivery.run_id, delivery.node_id) == (report.pk, run.pk, "send")
    assert delivery.idempotency_key == f"{run.pk}:send"
    assert (delivery.channel, delivery.data) == ("hl7_mllp", {"accession": "S26-00001"})
    # Handed to the delivery queue on commit: a worker of another test may be trying it.
    assert delivery.status in ("queued", "sending")
    receipt = NodeRun.objects.get(run=run, node_id="send", status="succeeded").outputs
    assert receipt["delivery"]["status"] == "queued"
    assert receipt["delivery"]["report_version"] == report.version_no

    # A test run of a draft of the same graph checks everything but queues nothing.
    draft = import_workflow(
        demo.department, document, demo.workflow_version.template_version,
        slug="deliver-to-lis", case_type="breast-resection", publish=False,
    )  # fmt: skip
    test_run = start_run(case, draft, enqueue=False, allow_draft=True)
    execute_run(test_run.pk)

    test_run.refresh_from_db()
    assert test_run.status == RunStatus.SUCCEEDED, test_run.error
    assert Delivery.objects.count() == 1
    withheld = NodeRun.objects.get(run=test_run, node_id="send", status="succeeded").outputs
    assert withheld["delivery"]["status"] == "not sent"
    assert withheld["delivery"]["reason"] == "a test run of a draft is never delivered"
