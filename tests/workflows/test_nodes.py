"""The built-in node types: what each does with its inputs, and how each refuses bad ones."""

from __future__ import annotations

from typing import Any

import pytest

from workflows.context import RunContext
from workflows.errors import ExpressionError, NodeError
from workflows.ports import PortType
from workflows.registry import REGISTRY

from .conftest import (
    FakeServices,
    ModelServer,
    Reply,
    condition,
    edge,
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


# --- registry ---------------------------------------------------------------------------------


def test_the_registry_describes_every_node_type_with_a_schema_and_typed_ports() -> None:
    palette = {entry["name"]: entry for entry in REGISTRY.describe()}

    assert set(palette) >= {
        "case_trigger",
        "model_call",
        "condition",
        "switch",
        "map",
        "join",
        "transform",
        "render_report",
        "deliver",
    }
    port_types = {t.value for t in PortType}
    for entry in palette.values():
        assert entry["version"] == 1
        assert entry["title"]
        assert entry["description"]
        assert entry["config_schema"]["type"] == "object"
        for port in entry["inputs"] + entry["outputs"]:
            assert port["type"] in port_types
            assert port["title"]
    assert [e["name"] for e in palette.values() if e["is_trigger"]] == ["case_trigger"]
    assert palette["case_trigger"]["inputs"] == []
    assert palette["condition"]["outputs"] == [
        {"name": "true", "type": "boolean", "required": False, "multiple": False, "title": "Yes"},
        {"name": "false", "type": "boolean", "required": False, "multiple": False, "title": "No"},
    ]
    assert palette["render_report"]["inputs"][0] == {
        "name": "findings",
        "type": "findings",
        "required": True,
        "multiple": True,
        "title": "Fields",
    }
    # The editor renders model_call's inspector per protocol.
    variants = {
        v["properties"]["protocol"]["const"]: v
        for v in palette["model_call"]["config_schema"]["oneOf"]
    }
    assert set(variants) == {"open_inference_v2", "openai_chat", "http_json"}
    assert "inputs" in variants["open_inference_v2"]["required"]
    assert "prompt" in variants["openai_chat"]["required"]
    assert "path" in variants["http_json"]["required"]
    assert palette["deliver"]["config_schema"]["properties"]["channel"]["enum"] == [
        "fhir_rest",
        "hl7_mllp",
        "webhook",
    ]
    assert palette["deliver"]["inputs"][0]["type"] == "report"
    assert palette["join"]["inputs"][0]["multiple"] is True
    assert [p["name"] for p in palette["switch"]["outputs"]] == ["default"]


def _properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every property schema below ``schema`` (through nested objects, arrays and variants)."""
    found: list[tuple[str, dict[str, Any]]] = []
    for name, prop in schema.get("properties", {}).items():
        if name != "protocol" or "enum" in prop:  # a variant's protocol is a fixed const
            found.append((name, prop))
        found.extend(_properties(prop))
    if isinstance(schema.get("items"), dict):
        found.extend(_properties(schema["items"]))
    for variant in schema.get("oneOf", []):
        found.extend(_properties(variant))
    return found


@pytest.mark.parametrize(
    "name", ["model_call", "condition", "switch", "map", "join", "transform", "deliver"]
)
def test_every_config_field_has_a_title_for_the_editors_form(name: str) -> None:
    schema = node_type(name).describe()["config_schema"]

    untitled = [field for field, prop in _properties(schema) if not prop.get("title")]

    assert untitled == []


# --- case_trigger -----------------------------------------------------------------------------


async def test_the_trigger_refuses_a_case_type_the_workflow_does_not_accept(
    context: RunContext, model_server: ModelServer
) -> None:
    context.case["case_type"] = "cervical-cytology"
    spec = valid_spec(
        [trigger(config={"case_types": ["breast-resection", "breast-biopsy"]}), model_call("a")],
        [edge("case", "a", source_port="case")],
    )

    outcome = await run(spec, context)

    assert outcome.status == "failed"
    assert outcome.error == (
        "node 'case' (case) failed: case type 'cervical-cytology' is not one this workflow "
        "accepts (breast-resection, breast-biopsy)"
    )
    assert model_server.calls == []


async def test_the_trigger_hands_an_accepted_case_to_the_graph(context: RunContext) -> None:
    outputs = await node_type("case_trigger").run(context, {}, {"case_types": ["breast-resection"]})

    assert outputs == {"case": context.case}


# --- condition --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "port"),
    [("case.specimens | length > 0", "true"), ("case.case_type == 'skin'", "false")],
)
async def test_a_condition_continues_on_the_port_it_chose(
    context: RunContext, expression: str, port: str
) -> None:
    outputs = await node_type("condition").run(context, {}, {"expression": expression})

    assert list(outputs) == [port]


@pytest.mark.parametrize("expression", ["case.urgent", "nodes.fna.result"])
async def test_a_condition_on_a_value_that_is_not_there_fails_clearly(
    context: RunContext, expression: str
) -> None:
    with pytest.raises(NodeError) as raised:
        await node_type("condition").run(context, {}, {"expression": expression})

    assert str(raised.value) == f"expression {expression!r} has no value for this case"
    assert raised.value.permanent


async def test_a_condition_comparing_a_value_that_is_not_there_fails_naming_it(
    context: RunContext,
) -> None:
    expression = "nodes.fna.result.predict_proba[0][1] >= 0.5"

    with pytest.raises(ExpressionError) as raised:
        await node_type("condition").run(context, {}, {"expression": expression})

    assert raised.value.expression == expression
    assert "UndefinedError" in str(raised.value)


async def test_a_failing_condition_fails_the_run_instead_of_choosing_a_branch(
    context: RunContext, model_server: ModelServer
) -> None:
    spec = valid_spec(
        [trigger(), condition("urgent", "case.urgent"), model_call("a"), model_call("b")],
        [edge("case", "urgent", source_port="case"), edge("urgent", "a", source_port="true"),
         edge("urgent", "b", source_port="false")],
    )  # fmt: skip

    outcome = await run(spec, context)

    assert outcome.status == "failed"
    assert outcome.error == (
        "node 'urgent' (urgent) failed: expression 'case.urgent' has no value for this case"
    )
    assert model_server.calls == []


# --- transform --------------------------------------------------------------------------------


async def test_a_transform_fills_fields_and_records_where_each_came_from(
    context: RunContext, model_server: ModelServer
) -> None:
    model_server.script(
        "breast-fna",
        Reply(
            body=oip_answer(
                {"predict_proba": ([1, 2], [0.25, 0.75])}, model_name="fna-rf", model_version="4"
            )
        ),
    )
    context.case["findings"] = {"procedure": "lumpectomy", "tumour_size_mm": 18}
    mapping = {
        "fna_malignancy_probability": "(nodes.fna.result.predict_proba[0][1] * 100) | round(1)",
        "specimen_laterality": "'left' if 'Left' in case.specimens[0].site else 'right'",
        "comment": "case.clinical_info | default(none)",
        "tumour_site": "case.no_such_field",
    }
    spec = valid_spec(
        [trigger(), model_call("fna", "breast-fna"),
         transform("fields", mapping, base="case.findings")],
        [edge("case", "fna", source_port="case"), edge("fna", "fields")],
    )  # fmt: skip

    outcome = await run(spec, context)

    findings = outcome.results["fields"].outputs["findings"]
    assert findings["values"] == {
        "procedure": "lumpectomy",
        "tumour_size_mm": 18,
        "fna_malignancy_probability": 75.0,
        "specimen_laterality": "left",
        "comment": context.case["clinical_info"],
    }
    from_case = [{"kind": "case", "run": "run-1"}]
    assert findings["provenance"] == {
        "procedure": from_case,
        "tumour_size_mm": from_case,
        "fna_malignancy_probability": [
            {
                "kind": "model",
                "node": "fna",
                "run": "run-1",
                "endpoint": "breast-fna",
                "model_name": "fna-rf",
                "model_version": "4",
            }
        ],
        "specimen_laterality": from_case,
        "comment": from_case,
    }
    assert outcome.results["fields"].outputs["result"] == findings["values"]


async def test_a_transform_leaves_fields_unfilled_when_they_read_a_skipped_node(
    context: RunContext, model_server: ModelServer
) -> None:
    model_server.script("flag", Reply(body=oip_answer({"positive": ([1], [0])})))
    spec = valid_spec(
        [trigger(), model_call("flag"), condition("positive", "nodes.flag.result.positive"),
         model_call("ihc"),
         transform("fields", {"ki67_index": "nodes.ihc.result.p * 100",
                              "flagged": "nodes.flag.result.positive"})],
        [edge("case", "flag", source_port="case"), edge("flag", "positive"),
         edge("positive", "ihc", source_port="true"), edge("flag", "fields"),
         edge("ihc", "fields")],
    )  # fmt: skip

    outcome = await run(spec, context)

    assert outcome.results["ihc"].status == "skipped"
    assert outcome.results["fields"].outputs["result"] == {"flagged": 0}
    assert model_server.calls_to("ihc") == []


async def test_a_transform_records_a_non_model_node_as_the_source(
    context: RunContext,
) -> None:
    context.node_outputs["urgent"] = {"true": True}
    config = {"mapping": {"priority": "'high' if nodes.urgent.true else 'normal'"}}

    outputs = await node_type("transform").run(context, {}, config)

    assert outputs["findings"] == {
        "values": {"priority": "high"},
        "provenance": {"priority": [{"kind": "node", "node": "urgent", "run": "run-1"}]},
    }


def test_a_transform_fills_its_mapping_keys_and_the_base_fields_it_declares() -> None:
    transform_type = node_type("transform")
    config = {
        "base": "case.findings",
        "base_fields": ["procedure", "tumour_size_mm"],
        "mapping": {"ki67_index": "nodes.ihc.result.positive_fraction * 100"},
    }

    assert transform_type.fills(config) == {"procedure", "tumour_size_mm", "ki67_index"}
    assert transform_type.fills({"mapping": {"a": "1"}}) == {"a"}
    assert transform_type.config_problems(
        {"base_fields": ["procedure"], "mapping": {"a": "1"}}
    ) == ["config: 'base' is a dependency of 'base_fields'"]


async def test_a_transform_refuses_a_base_that_is_not_a_set_of_fields(
    context: RunContext,
) -> None:
    config = {"base": "case.accession", "mapping": {"a": "1"}}

    with pytest.raises(NodeError, match=r"^base 'case.accession' is not a set of fields$"):
        await node_type("transform").run(context, {}, config)


# --- model_call -------------------------------------------------------------------------------


async def test_a_model_call_refuses_an_endpoint_that_speaks_another_protocol(
    context: RunContext, services: FakeServices, model_server: ModelServer
) -> None:
    services.add("legacy", protocol="kserve_v1")
    config = model_call("legacy")["config"]

    with pytest.raises(NodeError) as raised:
        await node_type("model_call").run(context, {}, config)

    assert str(raised.value) == "endpoint 'legacy' speaks kserve_v1, not open_inference_v2"
    assert raised.value.permanent
    assert model_server.calls == []


async def test_a_model_call_returns_outputs_and_the_model_it_used(
    context: RunContext, model_server: ModelServer
) -> None:
    model_server.script(
        "breast-fna",
        Reply(body=oip_answer({"p": ([1], [0.9])}, model_name="rf", model_version="5")),
    )
    context.node_id = "fna"

    outputs = await node_type("model_call").run(
        context, {}, model_call("x", "breast-fna")["config"]
    )

    assert outputs == {
        "result": {"p": 0.9},
        "model": {"endpoint": "breast-fna", "model_name": "rf", "model_version": "5"},
    }
    [call] = model_server.calls
    assert call.headers["idempotency-key"] == "run-1:fna"


async def test_a_model_call_fails_for_an_endpoint_missing_from_the_catalog(
    context: RunContext,
) -> None:
    spec = valid_spec(
        [trigger(), model_call("fna", "missing-model")], [edge("case", "fna", source_port="case")]
    )

    outcome = await run(spec, context)

    assert outcome.error == (
        "node 'fna' (fna) failed: endpoint 'missing-model' is not in the catalog"
    )


# --- render_report ----------------------------------------------------------------------------


async def test_render_report_merges_findings_and_provenance_from_every_input(
    context: RunContext, services: FakeServices
) -> None:
    findings: list[dict[str, Any]] = [
        {"values": {"a": 1, "b": 2}, "provenance": {"a": ["first"]}},
        {"values": {"b": 3}, "provenance": {"b": ["second"]}},
    ]

    outputs = await node_type("render_report").run(
        context, {"findings": findings}, render(language="en")["config"]
    )

    assert services.rendered == [({"a": 1, "b": 3}, {"a": ["first"], "b": ["second"]}, "en")]
    assert outputs["report"]["report_id"] == 1
    assert outputs["report"]["pages"] == 1


async def test_render_report_refuses_an_input_that_is_not_findings(
    context: RunContext, services: FakeServices
) -> None:
    with pytest.raises(NodeError, match="input 'findings' is not a findings value"):
        await node_type("render_report").run(
            context, {"findings": [{"p": 0.9}]}, render()["config"]
        )

    assert services.rendered == []


async def test_render_report_prints_the_case_tiles_its_figures_name(
    context: RunContext, services: FakeServices
) -> None:
    config = {
        "language": "zh",
        "figures": [
            {"tile": "case.specimens[0].tiles[0]", "caption": "Ki-67 (DAB)"},
            # A specimen without tiles: the figure is left out, the report still renders.
            {"tile": "case.specimens[0].tiles[5]", "caption": "absent"},
        ],
    }
    findings = [{"values": {"a": 1}, "provenance": {}}]

    await node_type("render_report").run(context, {"findings": findings}, config)

    [figure] = services.figures
    assert figure.reference == context.case["specimens"][0]["tiles"][0]
    assert figure.caption == "Ki-67 (DAB)"


async def test_render_report_refuses_a_figure_that_is_not_a_tile(
    context: RunContext, services: FakeServices
) -> None:
    config = {"language": "zh", "figures": [{"tile": "case.accession"}]}

    with pytest.raises(NodeError, match=r"figures\[0\]: 'case.accession' is not a tile reference"):
        await node_type("render_report").run(
            context, {"findings": [{"values": {}, "provenance": {}}]}, config
        )

    assert services.rendered == []


def test_a_figure_expression_that_does_not_compile_fails_validation() -> None:
    config = {"language": "zh", "figures": [{"tile": "case.specimens[0].tiles[", "caption": ""}]}

    [problem] = node_type("render_report").config_problems(config)

    assert problem.startswith("figures[0].tile: expression 'case.specimens[0].tiles[' does not")
