"""Validation warns before publishing about conditions and meaning: a conditional element
filled without a guard, and a model output that measures something else than its element."""

from __future__ import annotations

from typing import Any

import pytest

from tests.workflows.datasets.support_rules import ai_document
from workflows.datasets import Dataset, parse_dataset
from workflows.validation import GraphCheck, check_graph

from .conftest import edge, graph, model_call, render, transform, trigger

LAB_FIELDS = [
    "tubules", "nuclei", "mitoses", "grade", "margin", "margin_distance_mm",
    "nodal_procedure", "ln_examined", "ln_involved",
]  # fmt: skip
KI67_OUTPUT = {"ki67_index": {"marker": "Ki-67", "stain": "IHC", "unit": "%"}}


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return parse_dataset(ai_document())


def ai_graph(mapping: dict[str, str], **ai_config: Any) -> dict[str, Any]:
    """Lab fields from the case, AI fields from one model call, both into the render."""
    return graph(
        [
            trigger(),
            model_call("scorer", endpoint="ihc-scorer"),
            transform(
                "fields",
                {"grade": "case.findings.grade"},
                base="case.findings",
                base_fields=LAB_FIELDS,
            ),
            transform("ai", mapping, **ai_config),
            render(),
        ],
        [
            edge("case", "scorer", "case"),
            edge("case", "fields", "case"),
            edge("scorer", "ai"),
            edge("fields", "report", "findings", "findings"),
            edge("ai", "report", "findings", "findings"),
        ],
    )


def warnings(check: GraphCheck, code: str) -> list[tuple[str | None, str | None, str]]:
    return [
        (w.node_id, getattr(w, "element_id", None), w.message)
        for w in check.warnings
        if w.code == code
    ]


def test_it_warns_about_a_model_filling_a_conditional_element_without_a_guard(
    dataset: Dataset,
) -> None:
    document = ai_graph({"pdl1_ai": "nodes.scorer.result.tps", "ki67_ai": "1"})

    check = check_graph(document, dataset=dataset)

    assert check.problems == []
    assert warnings(check, "unguarded_conditional_element") == [
        (
            "ai",
            "pdl1_ai",
            "fills 'pdl1_ai' (PD-L1 TPS (AI) / PD-L1 TPS（AI）), which applies only when "
            "margin == 'positive'; on other cases its value is dropped from the report. Run this "
            "node behind a condition testing the same thing and list the element in 'guarded'",
        )
    ]


def test_a_declared_guard_the_lab_and_a_person_fill_conditional_elements_without_warning(
    dataset: Dataset,
) -> None:
    guarded = ai_graph({"pdl1_ai": "nodes.scorer.result.tps"}, guarded=["pdl1_ai"])
    unmapped = ai_graph({"ki67_ai": "1"}, guarded=["pdl1_ai"])

    assert warnings(check_graph(guarded, dataset=dataset), "unguarded_conditional_element") == []
    assert [p.message for p in check_graph(unmapped, dataset=dataset).problems] == [
        "config['guarded']: 'pdl1_ai' is not a field of the mapping"
    ]


def test_a_model_output_measuring_another_marker_than_its_element_is_a_warning(
    dataset: Dataset,
) -> None:
    document = ai_graph(
        {
            "pdl1_ai": "nodes.scorer.result.ki67_index * 1",
            "ki67_ai": "nodes.scorer.result.ki67_index",
        },
        guarded=["pdl1_ai"],
    )

    check = check_graph(document, dataset=dataset, endpoint_outputs={"ihc-scorer": KI67_OUTPUT})

    assert warnings(check, "measure_mismatch") == [
        (
            "ai",
            "pdl1_ai",
            "fills 'pdl1_ai' (PD-L1 TPS (AI) / PD-L1 TPS（AI）), which measures PD-L1 IHC %, from "
            "output 'ki67_index' of endpoint 'ihc-scorer', which measures Ki-67 IHC %",
        )
    ]


@pytest.mark.parametrize(
    "declared",
    [
        {"ki67_index": {"marker": "ki67", "unit": "%"}},  # spelled differently, same marker
        {"ki67_index": {"stain": "IHC"}},  # nothing to disagree on
        {"other_output": {"marker": "PD-L1"}},  # not the output the element reads
        {},
    ],
)
def test_matching_or_undeclared_measures_are_not_warned_about(
    dataset: Dataset, declared: dict[str, Any]
) -> None:
    document = ai_graph({"ki67_ai": "nodes.scorer.result.ki67_index"})

    check = check_graph(document, dataset=dataset, endpoint_outputs={"ihc-scorer": declared})

    assert warnings(check, "measure_mismatch") == []


def test_a_map_over_tiles_feeding_an_element_is_checked_by_the_output_it_aggregates(
    dataset: Dataset,
) -> None:
    tiles = {
        "id": "tiles",
        "type": "map",
        "config": {
            "items": "case.specimens[0].tiles",
            "call": {"endpoint": "ihc-scorer", "protocol": "open_inference_v2",
                     "inputs": [{"name": "tile", "datatype": "BYTES", "tile": "item"}]},
        },
    }  # fmt: skip
    mean = "(nodes.tiles.results | sum(attribute='ki67_index')) / (nodes.tiles.results | length)"
    document = ai_graph({"pdl1_ai": mean, "ki67_ai": mean}, guarded=["pdl1_ai"])
    document["nodes"][1] = tiles
    for item in document["edges"]:
        item["source"] = "tiles" if item["source"] == "scorer" else item["source"]
        item["target"] = "tiles" if item["target"] == "scorer" else item["target"]
        item["source_port"] = "results" if item["source"] == "tiles" else item["source_port"]

    check = check_graph(document, dataset=dataset, endpoint_outputs={"ihc-scorer": KI67_OUTPUT})

    assert check.problems == []
    assert [(n, e) for n, e, _ in warnings(check, "measure_mismatch")] == [("ai", "pdl1_ai")]
