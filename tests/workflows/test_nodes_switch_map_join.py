"""switch, map and join: many-way branching, a model call per specimen or tile, and fan-in
(lists, merged findings with their provenance, and reductions such as a mean over tiles)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.loopback import LoopbackServer, Request
from workflows.context import RunContext
from workflows.errors import NodeError
from workflows.validation import graph_problems

from .conftest import (
    OIP,
    FakeServices,
    ModelServer,
    Reply,
    condition,
    edge,
    graph,
    model_call,
    node_type,
    oip_answer,
    render,
    run,
    transform,
    trigger,
    valid_spec,
)

pytestmark = pytest.mark.anyio


# --- an Open Inference server that answers from the request -------------------------------------


class EchoModel(LoopbackServer):
    """A real Open Inference v2 server whose answer depends on the request: it echoes the first
    value of the ``meta`` input as ``index``, sleeps its second value in seconds, answers
    ``positive_fraction`` = its third value, and 500s when that is negative. It records how
    many calls were in flight at once."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict[str, Any]] = []
        self.keys: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def post(self, request: Request) -> None:
        body = json.loads(request.body())
        with self._lock:
            self.calls.append(body)
            self.keys.append(request.headers["Idempotency-Key"])
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        meta = next(t["data"] for t in body["inputs"] if t["name"] == "meta")
        time.sleep(meta[1])
        with self._lock:
            self.in_flight -= 1
        status = 500 if meta[2] < 0 else 200
        answer = oip_answer(
            {"index": ([1], [meta[0]]), "positive_fraction": ([1], [meta[2]])},
            model_name="ihc-dab",
            model_version="7",
        )
        request.reply(status, answer if status == 200 else {"error": "boom"})


@pytest.fixture
def echo(services: FakeServices) -> Iterator[EchoModel]:
    with EchoModel() as server:
        services.add("ihc-dab", base_url=server.url)
        yield server


def tiles(*fractions: float, delays: tuple[float, ...] = ()) -> list[dict[str, Any]]:
    return [
        {"uri": f"sample:tile-{i}", "delay": delays[i] if delays else 0.0, "fraction": f}
        for i, f in enumerate(fractions)
    ]


PER_TILE_CALL = {
    "endpoint": "ihc-dab",
    "protocol": OIP,
    "inputs": [
        {"name": "tile", "datatype": "BYTES", "tile": "item"},
        {"name": "meta", "datatype": "FP64", "value": "[index, item.delay, item.fraction]"},
    ],
}


def map_config(**changes: Any) -> dict[str, Any]:
    return {"items": "case.specimens[0].tiles", "call": PER_TILE_CALL, **changes}


def map_node(node_id: str = "tiles", **changes: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "map", "config": map_config(**changes)}


# --- switch ------------------------------------------------------------------------------------

CASES = [
    {"port": "high", "expression": "nodes.ihc.result.positive_fraction >= 0.3"},
    {"port": "low", "expression": "nodes.ihc.result.positive_fraction >= 0.1"},
]


@pytest.mark.parametrize(("fraction", "port"), [(0.5, "high"), (0.2, "low"), (0.05, "default")])
async def test_a_switch_continues_on_the_first_case_that_holds(
    context: RunContext, fraction: float, port: str
) -> None:
    context.node_outputs["ihc"] = {"result": {"positive_fraction": fraction}}

    outputs = await node_type("switch").run(context, {}, {"cases": CASES})

    assert outputs == {port: True}


async def test_a_switch_case_without_a_value_fails_the_node_instead_of_falling_through(
    context: RunContext,
) -> None:
    cases = [{"port": "urgent", "expression": "case.urgent"}, *CASES]

    with pytest.raises(NodeError) as raised:
        await node_type("switch").run(context, {}, {"cases": cases})

    assert str(raised.value) == (
        "case 'urgent': expression 'case.urgent' has no value for this case"
    )
    assert raised.value.permanent


async def test_a_switch_stops_at_the_first_case_that_holds(context: RunContext) -> None:
    # The later case reads a value this case lacks; it is never evaluated.
    cases = [{"port": "resection", "expression": "case.case_type == 'breast-resection'"},
             {"port": "urgent", "expression": "case.urgent"}]  # fmt: skip

    outputs = await node_type("switch").run(context, {}, {"cases": cases})

    assert outputs == {"resection": True}


def test_a_switch_has_one_port_per_case_plus_default() -> None:
    config = {"cases": [{**CASES[0], "title": "≥ 30 %"}, CASES[1]], "default_title": "Low"}

    ports = node_type("switch").output_ports(config)

    assert [(p.name, p.title) for p in ports] == [
        ("high", "≥ 30 %"),
        ("low", "low"),
        ("default", "Low"),
    ]


def test_a_switch_refuses_duplicate_and_reserved_ports_and_bad_expressions() -> None:
    cases = [
        {"port": "high", "expression": "1"},
        {"port": "high", "expression": "2"},
        {"port": "default", "expression": "nodes.x.y >"},
        {"port": "Bad Name", "expression": "1"},
    ]
    switch = node_type("switch")

    assert switch.config_problems({"cases": cases}) == [
        "config['cases'][3]['port']: 'Bad Name' does not match '^[a-z][a-z0-9_]*$'",
        "cases: 2 cases use port 'high'",
        "cases[2].port: 'default' is reserved; choose another name",
    ]
    assert switch.config_problems({"cases": cases[2:3]}) == [
        "cases[0].expression: expression 'nodes.x.y >' does not compile: unexpected 'end of "
        "template'",
        "cases[0].port: 'default' is reserved; choose another name",
    ]


def _switch_graph(*extra_edges: dict[str, Any]) -> dict[str, Any]:
    return graph(
        [trigger(), model_call("ihc"),
         {"id": "level", "type": "switch", "config": {"cases": CASES}},
         model_call("high_path"), model_call("low_path"), model_call("other_path")],
        [edge("case", "ihc", source_port="case"), edge("ihc", "level"),
         edge("level", "high_path", source_port="high"),
         edge("level", "low_path", source_port="low"),
         edge("level", "other_path", source_port="default"), *extra_edges],
    )  # fmt: skip


async def test_only_the_chosen_branch_of_a_switch_runs(
    context: RunContext, model_server: ModelServer
) -> None:
    model_server.script("ihc", Reply(body=oip_answer({"positive_fraction": ([1], [0.2])})))

    outcome = await run(valid_spec(**_switch_graph_parts()), context)

    assert outcome.status == "succeeded", outcome.error
    statuses = {n: outcome.results[n].status for n in ("high_path", "low_path", "other_path")}
    assert statuses == {"high_path": "skipped", "low_path": "succeeded", "other_path": "skipped"}
    assert model_server.calls_to("high_path") == []


def _switch_graph_parts() -> dict[str, Any]:
    document = _switch_graph()
    return {"nodes": document["nodes"], "edges": document["edges"]}


def test_an_edge_from_a_port_the_switch_does_not_have_is_a_validation_problem() -> None:
    document = _switch_graph(edge("level", "other_path", source_port="medium"))

    messages = [str(p) for p in graph_problems(document)]

    assert any("has no output port 'medium'" in m for m in messages), messages


# --- map ---------------------------------------------------------------------------------------


async def test_a_map_calls_the_model_per_tile_at_most_concurrency_at_once_in_item_order(
    context: RunContext, services: FakeServices, echo: EchoModel
) -> None:
    # Earlier tiles answer last, so item order is not arrival order.
    context.case["specimens"][0]["tiles"] = tiles(0.1, 0.2, 0.3, 0.4, delays=(0.4, 0.3, 0.2, 0.1))
    context.node_id = "tiles"

    outputs = await node_type("map").run(context, {}, map_config(concurrency=2))

    assert [r["index"] for r in outputs["results"]] == [0, 1, 2, 3]
    assert [r["positive_fraction"] for r in outputs["results"]] == [0.1, 0.2, 0.3, 0.4]
    assert outputs["errors"] == []
    assert outputs["model"] == {
        "endpoint": "ihc-dab",
        "model_name": "ihc-dab",
        "model_version": "7",
    }
    assert echo.most_in_flight == 2
    # When each item ran (the timeline's bars): two at a time, the slow first tile last.
    timings = outputs["items"]
    assert [t["index"] for t in timings] == [0, 1, 2, 3]
    assert all(t["started_at"] <= t["finished_at"] for t in timings)
    assert timings[0]["duration_ms"] >= 350
    assert timings[2]["started_at"] >= timings[1]["finished_at"]
    assert sorted(echo.keys) == ["run-1:tiles:0", "run-1:tiles:1", "run-1:tiles:2", "run-1:tiles:3"]
    assert sorted(t["uri"] for t in services.tiles) == [f"sample:tile-{i}" for i in range(4)]


async def test_a_map_over_specimens_reads_item_fields(
    context: RunContext, model_server: ModelServer
) -> None:
    call = {"endpoint": "breast-fna", "protocol": OIP,
            "inputs": [{"name": "features", "datatype": "FP64", "shape": [1, 30],
                        "value": "item.data.fna_features"}]}  # fmt: skip

    outputs = await node_type("map").run(
        context, {}, {"items": "case.specimens", "call": call, "concurrency": 1}
    )

    assert outputs["results"] == [{"p": 0.5}]
    [sent] = model_server.calls_to("breast-fna")
    assert sent.body["inputs"][0]["data"] == context.case["specimens"][0]["data"]["fna_features"]


async def test_a_map_with_more_items_than_allowed_fails_without_calling(
    context: RunContext, echo: EchoModel
) -> None:
    context.case["specimens"][0]["tiles"] = tiles(*[0.1] * 6)

    with pytest.raises(NodeError) as raised:
        await node_type("map").run(context, {}, map_config(max_items=5))

    assert str(raised.value) == (
        "items 'case.specimens[0].tiles' gives 6 items, more than max_items (5)"
    )
    assert echo.calls == []


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ("case.specimens[0].slides", "items 'case.specimens[0].slides' has no value for this case"),
        ("case.specimens[0].label", "items 'case.specimens[0].label' is a str, not a list"),
    ],
)
async def test_a_map_over_something_that_is_not_a_list_fails_naming_it(
    context: RunContext, echo: EchoModel, items: str, message: str
) -> None:
    with pytest.raises(NodeError) as raised:
        await node_type("map").run(context, {}, map_config(items=items))

    assert str(raised.value) == message


async def test_a_failing_item_fails_the_map_naming_the_item(
    context: RunContext, echo: EchoModel
) -> None:
    context.case["specimens"][0]["tiles"] = tiles(0.1, -1, 0.3)

    with pytest.raises(NodeError) as raised:
        await node_type("map").run(context, {}, map_config(concurrency=1))

    assert str(raised.value) == (
        f"item 1: endpoint 'ihc-dab' ({echo.url}/v2/models/ihc-dab/infer): HTTP 500: "
        '{"error": "boom"}'
    )
    assert not raised.value.permanent
    assert len(echo.calls) == 2  # the third item is not called once the map has failed


async def test_a_map_that_skips_failed_items_records_them(
    context: RunContext, echo: EchoModel
) -> None:
    context.case["specimens"][0]["tiles"] = [*tiles(0.1, -1), {"uri": "sample:no-meta"}]

    outputs = await node_type("map").run(context, {}, map_config(on_item_error="skip"))

    assert [r and r["positive_fraction"] for r in outputs["results"]] == [0.1, None, None]
    assert outputs["errors"] == [
        {
            "index": 1,
            "error": f"endpoint 'ihc-dab' ({echo.url}/v2/models/ihc-dab/infer): HTTP 500: "
            '{"error": "boom"}',
        },
        {
            "index": 2,
            "error": "input 'meta': part of '[index, item.delay, item.fraction]' has no value "
            "for this case",
        },
    ]


async def test_a_map_fails_when_every_item_failed_even_when_skipping(
    context: RunContext, echo: EchoModel
) -> None:
    context.case["specimens"][0]["tiles"] = tiles(-1, -1)

    with pytest.raises(NodeError, match=r"^every item failed \(2\); item 0: endpoint 'ihc-dab'"):
        await node_type("map").run(context, {}, map_config(on_item_error="skip"))


async def test_a_map_over_no_items_returns_empty_results(
    context: RunContext, echo: EchoModel
) -> None:
    context.case["specimens"][0]["tiles"] = []

    outputs = await node_type("map").run(context, {}, map_config())

    assert outputs == {
        "results": [],
        "errors": [],
        "model": {"endpoint": "ihc-dab", "model_name": "", "model_version": ""},
        "items": [],
        "regions": [],
    }


def test_a_map_config_is_checked_with_the_embedded_protocol_schema() -> None:
    bad_field = map_config(call={**PER_TILE_CALL, "outputs": "positive_fraction"})
    bad_expression = map_config(
        call={**PER_TILE_CALL, "inputs": [{"name": "t", "datatype": "BYTES", "tile": "item["}]}
    )
    chat = map_config(call={"endpoint": "vlm", "protocol": "openai_chat", "prompt": "{{ item"})

    assert node_type("map").config_problems(bad_field) == [
        "config['call']['outputs']: 'positive_fraction' is not of type 'array'"
    ]
    assert node_type("map").config_problems(bad_expression) == [
        "call.inputs[0].tile: expression 'item[' does not compile: unexpected 'end of template'"
    ]
    assert node_type("map").config_problems(chat) == [
        "call.prompt: the template does not compile: unexpected end of template, expected "
        "'end of print statement'."
    ]
    assert node_type("map").config_problems(map_config(concurrency=0)) == [
        "config['concurrency']: 0 is less than the minimum of 1"
    ]


# --- join --------------------------------------------------------------------------------------


async def test_a_join_lists_values_in_edge_order(
    context: RunContext, model_server: ModelServer
) -> None:
    model_server.script("a", Reply(body=oip_answer({"p": ([1], [0.1])})))
    model_server.script("b", Reply(body=oip_answer({"p": ([1], [0.2])}), delay_s=0.1))
    spec = valid_spec(
        [trigger(), model_call("b"), model_call("a"),
         {"id": "both", "type": "join", "config": {"mode": "list"}}],
        [edge("case", "a", source_port="case"), edge("case", "b", source_port="case"),
         edge("b", "both"), edge("a", "both")],
    )  # fmt: skip

    outcome = await run(spec, context)

    assert outcome.results["both"].outputs == {"result": [{"p": 0.2}, {"p": 0.1}]}


async def test_merged_findings_keep_each_fields_provenance_and_reach_the_report(
    context: RunContext, services: FakeServices, model_server: ModelServer
) -> None:
    model_server.script(
        "fna", Reply(body=oip_answer({"p": ([1], [0.9])}, model_name="rf", model_version="4"))
    )
    context.case["findings"] = {"procedure": "lumpectomy", "grade": "grade_1"}
    spec = valid_spec(
        [trigger(), model_call("fna"),
         transform("entered", {"grade": "case.findings.grade"}, base="case.findings"),
         transform("ai", {"fna_probability": "nodes.fna.result.p * 100",
                          "grade": "'grade_3' if nodes.fna.result.p > 0.8 else none"}),
         {"id": "fields", "type": "join", "config": {"mode": "merge"}}, render()],
        [edge("case", "fna", source_port="case"), edge("case", "entered", source_port="case"),
         edge("fna", "ai"), edge("entered", "fields", source_port="findings"),
         edge("ai", "fields", source_port="findings"),
         edge("fields", "report", source_port="findings", target_port="findings")],
    )  # fmt: skip

    outcome = await run(spec, context)

    assert outcome.status == "succeeded", outcome.error
    [(values, provenance, _)] = services.rendered
    assert values == {"procedure": "lumpectomy", "grade": "grade_3", "fna_probability": 90.0}
    model = {"kind": "model", "node": "fna", "run": "run-1", "endpoint": "fna",
             "model_name": "rf", "model_version": "4"}  # fmt: skip
    assert provenance == {
        "procedure": [{"kind": "case", "run": "run-1"}],
        "grade": [model],  # the later input wins, and so does its source
        "fna_probability": [model],
    }


async def test_a_join_merges_only_the_branches_that_ran(
    context: RunContext, services: FakeServices, model_server: ModelServer
) -> None:
    model_server.script("fna", Reply(body=oip_answer({"p": ([1], [0.2])})))
    spec = valid_spec(
        [trigger(), model_call("fna"), condition("malignant", "nodes.fna.result.p >= 0.5"),
         transform("benign", {"diagnosis": "'benign'"}),
         transform("malignant_fields", {"diagnosis": "'malignant'", "ki67": "42"}),
         {"id": "fields", "type": "join", "config": {"mode": "merge"}}, render()],
        [edge("case", "fna", source_port="case"), edge("fna", "malignant"),
         edge("malignant", "benign", source_port="false"),
         edge("malignant", "malignant_fields", source_port="true"),
         edge("benign", "fields", source_port="findings"),
         edge("malignant_fields", "fields", source_port="findings"),
         edge("fields", "report", source_port="findings", target_port="findings")],
    )  # fmt: skip

    outcome = await run(spec, context)

    assert outcome.status == "succeeded", outcome.error
    assert services.rendered[0][0] == {"diagnosis": "benign"}


async def test_a_join_merges_plain_objects_but_not_objects_with_findings(
    context: RunContext,
) -> None:
    join = node_type("join")
    findings = {"values": {"a": 1}, "provenance": {"a": []}}

    merged = await join.run(context, {"in": [{"a": 1, "b": 2}, {"b": 3}]}, {"mode": "merge"})
    with pytest.raises(NodeError) as mixed:
        await join.run(context, {"in": [findings, {"b": 3}]}, {"mode": "merge"})
    with pytest.raises(NodeError) as not_object:
        await join.run(context, {"in": [{"b": 3}, [1, 2]]}, {"mode": "merge"})

    assert merged == {"result": {"a": 1, "b": 3}}
    assert str(mixed.value) == (
        "merge: input 2 is not a findings value while input 1 is; merge findings with findings "
        "and objects with objects"
    )
    assert str(not_object.value) == "merge: input 2 is a list, not an object"


async def test_a_join_takes_the_mean_positive_fraction_over_the_tiles_a_map_scored(
    context: RunContext, services: FakeServices, echo: EchoModel
) -> None:
    context.case["specimens"][0]["tiles"] = [*tiles(0.2, 0.3, 0.4), {"uri": "sample:broken"}]
    reduce = {"mode": "reduce", "operation": "mean", "expression": "item.positive_fraction"}
    spec = valid_spec(
        [trigger(), map_node(on_item_error="skip"),
         {"id": "mean", "type": "join", "config": reduce},
         transform("fields", {"ki67_index": "(nodes.mean.result * 100) | round(1)",
                              "tiles_failed": "nodes.tiles.errors | length"}), render()],
        [edge("case", "tiles", source_port="case"), edge("tiles", "mean", source_port="results"),
         edge("mean", "fields"), edge("fields", "report", "findings", "findings")],
    )  # fmt: skip

    outcome = await run(spec, context)

    assert outcome.status == "succeeded", outcome.error
    assert services.rendered[0][0] == {"ki67_index": 30.0, "tiles_failed": 1}


@pytest.mark.parametrize(
    ("operation", "expected"), [("mean", 2.5), ("min", 1), ("max", 4), ("sum", 10), ("count", 4)]
)
async def test_a_join_reduces_a_list_with_each_operation(
    context: RunContext, operation: str, expected: float
) -> None:
    values = [[{"n": 1}, {"n": 2}, None], {"n": 3}, [{"n": 4}]]
    config = {"mode": "reduce", "operation": operation, "expression": "item.n"}

    outputs = await node_type("join").run(context, {"in": values}, config)

    assert outputs == {"result": expected}
    assert type(outputs["result"]) is type(expected)


@pytest.mark.parametrize(
    ("values", "expression", "message"),
    [
        ([[{"n": 1}, {"m": 2}]], "item.n", "reduce: 'item.n' has no value for element 1"),
        ([[{"n": "high"}]], "item.n", "reduce: 'item.n' is 'high' for element 0, not a number"),
        ([[None]], "item.n", "reduce: there are no values to take the mean of"),
    ],
)
async def test_a_reduction_that_cannot_be_computed_fails_clearly(
    context: RunContext, values: list[Any], expression: str, message: str
) -> None:
    config = {"mode": "reduce", "operation": "mean", "expression": expression}

    with pytest.raises(NodeError) as raised:
        await node_type("join").run(context, {"in": values}, config)

    assert str(raised.value) == message
    assert raised.value.permanent


def test_a_join_config_says_which_settings_belong_to_reduce() -> None:
    join = node_type("join")

    assert join.config_problems({"mode": "list", "operation": "mean"}) == [
        "config: operation and expression are only for mode reduce"
    ]
    assert join.config_problems({"mode": "reduce"}) == [
        "config: 'operation' is a required property"
    ]
    assert join.config_problems({"mode": "reduce", "operation": "mean", "expression": "x +"}) == [
        "expression: expression 'x +' does not compile: unexpected 'end of template'"
    ]
