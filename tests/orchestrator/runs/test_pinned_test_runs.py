"""Test runs with pinned node outputs, on a real Celery worker and the reference MLServer: a
pinned model node is never called (the model server, behind a counting proxy, sees no request)
and its pinned outputs flow downstream; its checkpoint says it was pinned."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.test import Client

from orchestrator import devstack
from orchestrator.accounts.models import User
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import DemoData
from orchestrator.designs.models import VersionStatus, WorkflowVersion
from orchestrator.runs.models import NodeRun, RunStatus
from tests.conftest import case_document
from tests.loopback import LoopbackServer, Request
from tests.parked import wait_for_draft

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]

RESECTION = "breast-resection-ki67"


class CountingProxy(LoopbackServer):
    """Forwards every request to the model server, counting the calls by path."""

    def __init__(self, upstream: str) -> None:
        super().__init__()
        self.upstream = upstream.rstrip("/")
        self.calls: list[str] = []

    def _forward(self, request: Request, method: str) -> None:
        self.calls.append(request.path)
        answer = httpx.request(
            method,
            f"{self.upstream}{request.path}",
            content=request.body() if method == "POST" else None,
            headers={"Content-Type": request.headers.get("Content-Type") or "application/json"},
            timeout=60,
        )
        request.reply(answer.status_code, answer.content, content_type="application/json")

    def get(self, request: Request) -> None:
        self._forward(request, "GET")

    def post(self, request: Request) -> None:
        self._forward(request, "POST")


@pytest.fixture
def counted_model_server(demo: DemoData) -> Iterator[CountingProxy]:
    """The IHC endpoint of the demo department, reached through a counting proxy."""
    endpoint = ModelEndpoint.objects.get(department=demo.department, slug="ihc-dab")
    with CountingProxy(endpoint.base_url) as proxy:
        endpoint.base_url = proxy.url
        endpoint.save(update_fields=["base_url"])
        yield proxy


def admin() -> Client:
    client = Client()
    client.force_login(User.objects.get(username="admin"))
    return client


def draft_of_demo(demo: DemoData) -> WorkflowVersion:
    published = demo.workflow_version
    return WorkflowVersion.objects.create(
        workflow=published.workflow,
        number=published.number + 1,
        spec={**published.spec, "nodes": [{**n} for n in published.spec["nodes"]]},
        template_version=published.template_version,
        status=VersionStatus.DRAFT,
    )


def start_test_run(body: dict[str, Any]) -> Any:
    return admin().post(f"/api/v1/workflows/{RESECTION}/test-run", body, "application/json")


def test_a_pinned_model_node_is_not_called_and_its_outputs_flow_downstream(
    demo: DemoData,
    celery_worker: devstack.ManagedProcess,
    counted_model_server: CountingProxy,
) -> None:
    draft_of_demo(demo)
    document = case_document("breast-resection")

    first = start_test_run({"case_document": document})
    assert first.status_code == 201, first.content
    run = wait_for_draft(first.json()["id"])
    # The test run renders its draft and parks at the sign-out review, as a real run would.
    assert run.status == RunStatus.WAITING_REVIEW, run.error
    called = len(counted_model_server.calls)
    assert called > 0  # one inference per tile, through the proxy
    ihc = NodeRun.objects.get(run=run, node_id="ihc")
    assert not ihc.pinned

    # The bench pins the map's outputs, edited: two tiles, 50 % and 30 % positive.
    pinned_ihc = {
        **ihc.outputs,
        "results": [{"positive_fraction": 0.5}, {"positive_fraction": 0.3}],
    }
    second = start_test_run({"case_document": document, "pinned": {"ihc": pinned_ihc}})

    assert second.status_code == 201, second.content
    pinned_run = wait_for_draft(second.json()["id"])
    assert pinned_run.status == RunStatus.WAITING_REVIEW, pinned_run.error
    assert len(counted_model_server.calls) == called  # not one more call
    rows = {r.node_id: r for r in NodeRun.objects.filter(run=pinned_run)}
    assert rows["ihc"].pinned
    assert rows["ihc"].status == "succeeded"
    assert rows["ihc"].outputs == pinned_ihc
    assert [r.node_id for r in rows.values() if r.pinned] == ["ihc"]
    assert rows["ki67"].outputs["result"]["ki67_index"] == 40.0
    assert rows["report"].status == "succeeded"

    # The run's answer shows the pin on the attempt, for the bench and the timeline.
    detail = admin().get(f"/api/v1/runs/{pinned_run.pk}/").json()
    attempts = {a["node_id"]: a for a in detail["node_runs"]}
    assert attempts["ihc"]["pinned"] is True
    assert attempts["ki67"]["pinned"] is False


def test_pins_naming_no_node_of_the_draft_are_refused_with_every_problem(
    demo: DemoData,
) -> None:
    draft_of_demo(demo)

    response = start_test_run(
        {
            "case_document": case_document("breast-resection"),
            "pinned": {"nowhere": {"x": 1}, "ihc": {"results": []}, "also-missing": {}},
        }
    )

    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "'nowhere' is not a node of the draft" in detail
    assert "'also-missing' is not a node of the draft" in detail
    assert "ihc" not in detail

    shapeless = start_test_run(
        {"case_document": case_document("breast-resection"), "pinned": {"ihc": [1, 2]}}
    )
    assert shapeless.status_code == 400
    assert shapeless.json()["problems"] == [
        'pinned.ihc: Expected a dictionary of items but got type "list".'
    ]
