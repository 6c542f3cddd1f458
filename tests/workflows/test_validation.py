"""Graph validation: each rule on its own, then many problems in one graph, all listed."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest

from workflows.context import RunContext
from workflows.datasets import parse_dataset
from workflows.errors import GraphInvalid, GraphProblem
from workflows.ports import PortType
from workflows.registry import REGISTRY, NodeRegistry, NodeType, Port
from workflows.spec import upgrade_graph
from workflows.validation import ElementProblem, check_graph, graph_problems, validate_graph

from .conftest import ROOT, demo_graph, shipped_demo_graph


def node(document: dict[str, Any], node_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(n for n in document["nodes"] if n["id"] == node_id)
    return found


def by_code(problems: list[GraphProblem], code: str) -> list[GraphProblem]:
    return [p for p in problems if p.code == code]


def only(problems: list[GraphProblem], code: str) -> GraphProblem:
    """The single problem of ``code``; also checks nothing else went wrong."""
    assert [p.code for p in problems] == [code], problems
    return problems[0]


def test_the_demo_graph_validates_clean() -> None:
    spec = validate_graph(demo_graph())

    assert [n.id for n in spec.nodes] == ["case", "fna", "malignant", "ihc", "fields", "report"]
    assert spec.node("fna").retry.max_attempts == 2
    assert spec.node("ihc").timeout_s == 60


def test_the_shipped_demo_graph_fills_every_element_of_its_template() -> None:
    dataset = parse_dataset(
        json.loads((ROOT / "templates" / "breast-carcinoma" / "dataset.json").read_text())
    )

    check = check_graph(shipped_demo_graph(), dataset=dataset)

    assert check.problems == []
    # Any warning left is a conditional element the demo does not declare guarded (its Ki-67
    # runs behind the malignancy switch); the demo workflow declares it in its rework.
    assert {w.code for w in check.warnings} <= {"unguarded_conditional_element"}
    types = {n.id: n.type for n in check.spec.nodes} if check.spec else {}
    assert {"switch", "map", "join", "transform"} <= set(types.values())


def test_the_shipped_fna_graph_fills_every_element_of_the_cytology_template() -> None:
    dataset = parse_dataset(
        json.loads((ROOT / "templates" / "breast-fna-cytology" / "dataset.json").read_text())
    )

    check = check_graph(shipped_demo_graph("breast-fna-cytology"), dataset=dataset)

    assert (check.problems, check.warnings) == ([], [])
    assert check.spec is not None
    assert [n.type for n in check.spec.nodes if n.id == "fna"] == ["model_call"]


def test_it_rejects_a_duplicate_node_id() -> None:
    document = demo_graph()
    document["nodes"].append(dict(node(document, "fields")))

    problem = only(graph_problems(document), "duplicate_node")

    assert problem.node_id == "fields"
    assert str(problem) == "node 'fields': 2 nodes share this id"


def test_it_rejects_an_unknown_node_type() -> None:
    document = demo_graph()
    node(document, "report")["type"] = "send_fax"

    problems = graph_problems(document)

    problem = by_code(problems, "unknown_node_type")[0]
    assert problem.node_id == "report"
    assert problem.message == "unknown node type 'send_fax'"


def test_it_rejects_an_unknown_type_version_and_names_the_known_ones() -> None:
    document = demo_graph()
    node(document, "malignant")["type_version"] = 2

    problem = only(graph_problems(document), "unknown_node_type")

    assert problem.node_id == "malignant"
    assert problem.message == "version 2 of 'condition' is unknown (known: 1)"


def test_it_rejects_a_type_version_that_is_not_a_number() -> None:
    document = demo_graph()
    node(document, "malignant")["type_version"] = "latest"

    problems = graph_problems(document)

    assert [(p.code, p.node_id) for p in problems] == [("type_version_invalid", "malignant")]
    assert "'type_version' must be a whole number" in problems[0].message


@pytest.mark.parametrize(
    ("node_id", "config", "field"),
    [
        ("report", {"language": "fr"}, "config['language']"),
        (
            "fna",
            {
                "endpoint": "breast-fna",
                "protocol": "open_inference_v2",
                "inputs": [{"name": "features", "datatype": "FLOAT128", "value": "case.x"}],
            },
            "config['inputs'][0]['datatype']",
        ),
        ("malignant", {}, "config: 'expression' is a required property"),
    ],
)
def test_it_rejects_config_that_does_not_match_the_schema_and_names_the_field(
    node_id: str, config: dict[str, Any], field: str
) -> None:
    document = demo_graph()
    node(document, node_id)["config"] = config

    problem = only(graph_problems(document), "config_invalid")

    assert problem.node_id == node_id
    assert problem.message.startswith(field)


@pytest.mark.parametrize(
    ("node_id", "path", "source", "where"),
    [
        ("malignant", ("expression",), "nodes.fna.result.predict_proba[0][1] >=", "expression"),
        ("fields", ("mapping", "ki67_index"), "(nodes.ihc.result", "mapping.ki67_index"),
        ("fna", ("inputs", 0, "value"), "case.specimens[0].data.|", "inputs[0].value"),
    ],
)
def test_it_rejects_an_expression_that_does_not_compile_and_names_it(
    node_id: str, path: tuple[str | int, ...], source: str, where: str
) -> None:
    document = demo_graph()
    target = node(document, node_id)["config"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = source

    problem = only(graph_problems(document), "config_invalid")

    assert problem.node_id == node_id
    assert problem.message.startswith(f"{where}: expression {source!r} does not compile: ")


def test_it_rejects_an_edge_to_a_node_that_does_not_exist() -> None:
    document = demo_graph()
    document["edges"].append(
        {"id": "e7", "source": "report", "source_port": "report", "target": "archive"}
    )

    problem = only(graph_problems(document), "dangling_edge")

    assert problem.edge_id == "e7"
    assert problem.message == "target node 'archive' does not exist"


def test_it_rejects_a_second_edge_between_the_same_ports() -> None:
    document = demo_graph()
    document["edges"].append({**document["edges"][-1], "id": "e7"})

    problem = only(graph_problems(document), "duplicate_edge")

    assert problem.edge_id == "e7"


def test_it_rejects_two_edges_with_the_same_id() -> None:
    document = demo_graph()
    document["edges"][4]["id"] = "e4"

    problem = only(graph_problems(document), "duplicate_edge_id")

    assert problem.edge_id == "e4"
    assert problem.message == "2 edges share this id"


@pytest.mark.parametrize(
    ("change", "message", "port"),
    [
        ({"source_port": "values"}, "node 'fields' has no output port 'values'", "values"),
        ({"target_port": "fields"}, "node 'report' has no input port 'fields'", "fields"),
    ],
)
def test_it_rejects_an_edge_on_a_port_the_node_does_not_have(
    change: dict[str, str], message: str, port: str
) -> None:
    document = demo_graph()
    document["edges"][5].update(change)  # e6: fields.findings -> report.findings

    problems = graph_problems(document)

    problem = by_code(problems, "unknown_port")[0]
    assert (problem.edge_id, problem.port, problem.message) == ("e6", port, message)


def test_it_allows_the_error_port_only_on_a_node_with_an_error_branch() -> None:
    document = demo_graph()
    document["nodes"].append(
        {"id": "notes", "type": "transform", "config": {"mapping": {"note": "'model failed'"}}}
    )
    document["edges"].append(
        {"id": "e7", "source": "ihc", "source_port": "error", "target": "notes"}
    )

    problem = only(graph_problems(document), "unknown_port")
    assert (problem.edge_id, problem.port) == ("e7", "error")

    node(document, "ihc")["on_error"] = "error_branch"
    assert graph_problems(document) == []


@pytest.mark.parametrize(
    ("source", "source_port", "given"),
    [("malignant", "true", "boolean"), ("fields", "result", "json")],
)
def test_it_rejects_an_edge_between_ports_of_incompatible_types(
    source: str, source_port: str, given: str
) -> None:
    document = demo_graph()
    document["edges"].append(
        {
            "id": "e7",
            "source": source,
            "source_port": source_port,
            "target": "report",
            "target_port": "findings",
        }
    )

    problem = only(graph_problems(document), "port_type_mismatch")

    assert (problem.edge_id, problem.port) == ("e7", "findings")
    assert problem.message == (
        f"{source}.{source_port} gives {given} but report.findings takes findings"
    )


def test_it_rejects_a_required_input_left_unconnected() -> None:
    document = demo_graph()
    document["edges"] = [e for e in document["edges"] if e["id"] != "e6"]

    problems = graph_problems(document)

    missing = by_code(problems, "missing_input")
    assert [(p.node_id, p.port) for p in missing] == [("report", "findings")]
    assert str(missing[0]) == "node 'report', port 'findings': required input is not connected"


class Archive(NodeType):
    """A node type with a single-edge input, as a third-party type might declare."""

    name = "archive"
    title = "Archive the report"
    inputs: ClassVar[tuple[Port, ...]] = (Port("report", PortType.REPORT, required=True),)

    async def run(
        self, context: RunContext, inputs: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        return {}


def registry_with_archive() -> NodeRegistry:
    registry = NodeRegistry()
    for entry in REGISTRY.describe():
        built_in = REGISTRY.get(entry["name"], entry["version"])
        assert built_in is not None
        registry.register(type(built_in))
    registry.register(Archive)
    return registry


def test_it_rejects_several_edges_into_an_input_that_takes_one() -> None:
    document = demo_graph()
    document["nodes"] += [
        {"id": "report_en", "type": "render_report", "config": {"language": "en"}},
        {"id": "archive", "type": "archive", "config": {}},
    ]
    document["edges"] += [
        {"id": "e7", "source": "fields", "source_port": "findings", "target": "report_en",
         "target_port": "findings"},
        {"id": "e8", "source": "report", "source_port": "report", "target": "archive",
         "target_port": "report"},
        {"id": "e9", "source": "report_en", "source_port": "report", "target": "archive",
         "target_port": "report"},
    ]  # fmt: skip
    registry = registry_with_archive()

    problem = only(graph_problems(document, registry), "too_many_inputs")

    assert (problem.node_id, problem.port) == ("archive", "report")
    assert problem.message == "2 edges feed an input that takes one"
    document["edges"].pop()
    assert graph_problems(document, registry) == []


def test_it_rejects_a_cycle_and_shows_its_path() -> None:
    document = demo_graph()
    document["edges"].append(
        {"id": "e7", "source": "ihc", "source_port": "result", "target": "fna"}
    )

    problem = only(graph_problems(document), "cycle")

    path = problem.message.removeprefix("is part of a cycle: ").split(" → ")
    assert path[0] == path[-1] == problem.node_id
    assert sorted(path[:-1]) == ["fna", "ihc", "malignant"]
    # The path follows the edges: fna → malignant → ihc → fna, from wherever it starts.
    order = ["fna", "malignant", "ihc"]
    start = order.index(path[0])
    assert path[:-1] == order[start:] + order[:start]


def test_it_rejects_a_graph_without_a_trigger() -> None:
    document = demo_graph()
    document["nodes"] = [n for n in document["nodes"] if n["id"] != "case"]
    document["edges"] = [e for e in document["edges"] if e["id"] != "e1"]

    problem = only(graph_problems(document), "no_trigger")

    assert problem.message == "the graph has no trigger node"


def test_it_rejects_a_node_no_path_leads_to() -> None:
    document = demo_graph()
    document["nodes"].append(
        {
            "id": "orphan",
            "type": "model_call",
            "config": {
                "endpoint": "ihc-dab",
                "protocol": "open_inference_v2",
                "inputs": [{"name": "x", "datatype": "FP64", "value": "[1]"}],
            },
        }
    )

    problem = only(graph_problems(document), "unreachable")

    assert problem.node_id == "orphan"


@pytest.mark.parametrize("version", [2, None, "1"])
def test_it_rejects_a_schema_version_it_does_not_read(version: Any) -> None:
    document = demo_graph()
    document["schema_version"] = version

    problem = only(graph_problems(document), "schema_version")

    assert problem.message == (f"schema_version {version!r} is not supported (this engine reads 1)")


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        ({"retry": {"max_attempts": 0}}, "retry_invalid", "max_attempts ≥ 1"),
        ({"retry": {"backoff_s": -1}}, "retry_invalid", "backoff_s ≥ 0"),
        ({"retry": {"max_attempts": "three"}}, "retry_invalid", "max_attempts ≥ 1"),
        ({"retry": [3]}, "retry_invalid", "max_attempts ≥ 1"),
        ({"timeout_s": 0}, "timeout_invalid", "'timeout_s' must be > 0"),
        ({"timeout_s": "30"}, "timeout_invalid", "'timeout_s' must be > 0"),
        (
            {"on_error": "ignore"},
            "on_error_invalid",
            "'on_error' must be one of stop, continue, error_branch, default_value",
        ),
        (
            {"on_error": "default_value", "default_outputs": "0.5"},
            "default_outputs_invalid",
            "'default_outputs' must be an object",
        ),
    ],
)
def test_it_rejects_bad_retry_timeout_and_error_handling(
    change: dict[str, Any], code: str, message: str
) -> None:
    document = demo_graph()
    node(document, "ihc").update(change)

    problem = only(graph_problems(document), code)

    assert problem.node_id == "ihc"
    assert message in problem.message


def test_it_lists_every_problem_at_once_each_naming_where_it_is() -> None:
    document = demo_graph()
    node(document, "fna")["retry"] = {"max_attempts": 0}
    node(document, "ihc")["on_error"] = "shrug"
    node(document, "malignant")["config"]["expression"] = "nodes.fna.result >"
    node(document, "report")["config"]["language"] = "fr"
    document["edges"][4]["target_port"] = "inp"  # e5 into fields
    document["edges"].append({"id": "e5", "source": "fna", "target": "nowhere"})
    document["nodes"].append(dict(node(document, "fields")))
    document["nodes"].append({"id": "stray", "type": "case_reader", "config": {}})

    with pytest.raises(GraphInvalid) as raised:
        validate_graph(document)

    found = {(p.code, p.node_id, p.edge_id, p.port) for p in raised.value.problems}
    assert found == {
        ("retry_invalid", "fna", None, None),
        ("on_error_invalid", "ihc", None, None),
        ("duplicate_node", "fields", None, None),
        ("config_invalid", "malignant", None, None),
        ("config_invalid", "report", None, None),
        ("unknown_port", None, "e5", "inp"),
        ("duplicate_edge_id", None, "e5", None),
        ("dangling_edge", None, "e5", None),
        ("unknown_node_type", "stray", None, None),
        ("unreachable", "stray", None, None),
    }
    message = str(raised.value)
    assert "node 'fna': 'retry' needs max_attempts ≥ 1" in message
    assert "edge 'e5', port 'inp': node 'fields' has no input port 'inp'" in message
    assert "edge 'e5': target node 'nowhere' does not exist" in message
    assert "node 'report': config['language']: 'fr' is not one of ['zh', 'en']" in message


def test_it_rejects_a_document_that_is_not_a_graph() -> None:
    assert [p.code for p in graph_problems(["not", "a", "graph"])] == ["graph_not_object"]
    problems = graph_problems({"schema_version": 1, "nodes": [], "edges": {}})
    assert [p.code for p in problems] == ["no_nodes", "edges_not_list"]


# --- the template-first contract and config-dependent ports -----------------------------------


class EnterFields(NodeType):
    """Stands for any node that fills report elements named in its config (e.g. a review)."""

    name = "enter_fields"
    title = "Enter fields"
    config_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"fields": {"type": "array", "items": {"type": "string"}}},
    }
    inputs: ClassVar[tuple[Port, ...]] = (Port("in", PortType.ANY, required=True, multiple=True),)
    outputs: ClassVar[tuple[Port, ...]] = (Port("findings", PortType.FINDINGS),)

    def fills(self, config: dict[str, Any]) -> frozenset[str]:
        return frozenset(config.get("fields", []))

    async def run(
        self, context: RunContext, inputs: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        return {}


class Route(NodeType):
    """Output ports named by its config, as a switch declares one port per case."""

    name = "route"
    title = "Route"
    config_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["ports"],
        "properties": {"ports": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
    }
    inputs: ClassVar[tuple[Port, ...]] = (Port("in", PortType.ANY, required=True, multiple=True),)

    def output_ports(self, config: dict[str, Any]) -> tuple[Port, ...]:
        return tuple(Port(name, PortType.BOOLEAN) for name in config["ports"])

    async def run(
        self, context: RunContext, inputs: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        return {}


def registry_with_test_types() -> NodeRegistry:
    registry = registry_with_archive()
    registry.register(EnterFields)
    registry.register(Route)
    return registry


def label(text: str) -> dict[str, str]:
    return {"en": text, "zh": text + "（中文）"}


SMALL_DATASET = parse_dataset(
    {
        "slug": "small",
        "title": label("Small"),
        "sections": [
            {
                "id": "main",
                "title": label("Main"),
                "elements": [
                    {"id": "procedure", "type": "text", "label": label("Procedure"),
                     "required": True},
                    {"id": "grade", "type": "number", "label": label("Grade"), "required": True},
                    {"id": "comment", "type": "text", "label": label("Comment")},
                    {"id": "grade_note", "type": "text", "label": label("Grade note"),
                     "required": True, "visible_if": "grade >= 3"},
                ],
            }
        ],
    }
)  # fmt: skip


def entry_graph(*branches: tuple[str, list[str], bool]) -> dict[str, Any]:
    """case → one enter_fields node per branch (id, fields, feeds the render?) → report."""
    nodes: list[dict[str, Any]] = [
        {"id": "case", "type": "case_trigger", "config": {}},
        {"id": "report", "type": "render_report", "config": {"language": "en"}},
    ]
    edges: list[dict[str, Any]] = []
    for node_id, fields, feeds in branches:
        nodes.append({"id": node_id, "type": "enter_fields", "config": {"fields": fields}})
        edges.append({"id": f"to-{node_id}", "source": "case", "source_port": "case",
                      "target": node_id})  # fmt: skip
        if feeds:
            edges.append({"id": f"{node_id}-report", "source": node_id,
                          "source_port": "findings", "target": "report",
                          "target_port": "findings"})  # fmt: skip
    return {"schema_version": 1, "name": "entry", "nodes": nodes, "edges": edges}


def test_it_names_each_required_element_that_no_path_to_the_render_fills() -> None:
    document = entry_graph(("lab", ["procedure"], True))

    check = check_graph(document, registry_with_test_types(), dataset=SMALL_DATASET)

    problem = only(check.problems, "required_element_unfilled")
    assert isinstance(problem, ElementProblem)
    assert (problem.node_id, problem.element_id) == ("report", "grade")
    assert str(problem) == (
        "node 'report': required element 'grade' (Grade / Grade（中文）) is filled by no node "
        "on a path to this render"
    )
    assert problem.as_dict()["element_id"] == "grade"


def test_a_conditionally_required_element_left_unfilled_is_a_warning_not_a_problem() -> None:
    document = entry_graph(("lab", ["procedure", "grade"], True))

    check = check_graph(document, registry_with_test_types(), dataset=SMALL_DATASET)

    assert check.problems == []
    assert check.valid
    warning = only(check.warnings, "conditional_element_unfilled")
    assert (warning.node_id, getattr(warning, "element_id", None)) == ("report", "grade_note")
    assert "is required when grade >= 3" in warning.message


def test_elements_filled_on_several_paths_add_up_but_only_paths_to_the_render_count() -> None:
    joined = entry_graph(("lab", ["procedure"], True), ("ai", ["grade", "grade_note"], True))
    assert check_graph(joined, registry_with_test_types(), dataset=SMALL_DATASET).problems == []

    aside = entry_graph(("lab", ["procedure"], True), ("ai", ["grade", "grade_note"], False))
    problems = graph_problems(aside, registry_with_test_types(), dataset=SMALL_DATASET)
    assert [(p.code, p.element_id) for p in problems if isinstance(p, ElementProblem)] == [
        ("required_element_unfilled", "grade")
    ]


def test_each_render_node_is_checked_on_its_own() -> None:
    document = entry_graph(("lab", ["procedure", "grade"], True), ("partial", ["grade"], False))
    document["nodes"].append({"id": "report_en", "type": "render_report",
                              "config": {"language": "en"}})  # fmt: skip
    document["edges"].append({"id": "partial-en", "source": "partial", "source_port": "findings",
                              "target": "report_en", "target_port": "findings"})  # fmt: skip

    problems = graph_problems(document, registry_with_test_types(), dataset=SMALL_DATASET)

    assert [(p.node_id, p.element_id) for p in problems if isinstance(p, ElementProblem)] == [
        ("report_en", "procedure")
    ]


def test_it_rejects_a_node_that_fills_an_element_the_template_does_not_have() -> None:
    document = entry_graph(("lab", ["procedure", "grade", "grde"], True))

    problem = only(graph_problems(document, registry_with_test_types(), dataset=SMALL_DATASET),
                   "unknown_element")  # fmt: skip

    assert (problem.node_id, getattr(problem, "element_id", None)) == ("lab", "grde")
    assert problem.message == "fills 'grde', which is not an element of template 'small'"


def test_without_a_dataset_the_template_contract_is_not_checked() -> None:
    assert graph_problems(entry_graph(("lab", [], True)), registry_with_test_types()) == []


def test_the_demo_graph_against_the_breast_template_lists_what_it_does_not_fill() -> None:
    dataset = parse_dataset(json.loads((ROOT / "templates" / "breast-carcinoma" /
                                        "dataset.json").read_text()))  # fmt: skip
    document = demo_graph()
    node(document, "fields")["config"] = {"mapping": {
        "ki67_index": "nodes.ihc.result.positive_fraction * 100"}}  # fmt: skip

    check = check_graph(document, dataset=dataset)

    unconditional = {e.id for e in dataset.elements() if e.required and not e.visible_if}
    conditional = {e.id for e in dataset.elements() if e.required and e.visible_if}
    assert {p.element_id for p in check.problems if isinstance(p, ElementProblem)} == unconditional
    assert {p.node_id for p in check.problems} == {"report"}
    assert {getattr(w, "element_id", None) for w in check.warnings} == conditional


def test_ports_that_depend_on_config_are_checked_against_that_config() -> None:
    document = entry_graph(("lab", ["procedure", "grade"], True))
    document["nodes"] += [
        {"id": "route", "type": "route", "config": {"ports": ["high"]}},
        {"id": "archive", "type": "archive", "config": {}},
    ]
    document["edges"] += [
        {"id": "to-route", "source": "lab", "source_port": "findings", "target": "route"},
        {"id": "high", "source": "route", "source_port": "high", "target": "archive",
         "target_port": "report"},
    ]  # fmt: skip
    registry = registry_with_test_types()

    problems = graph_problems(document, registry)
    assert [p.code for p in problems] == ["port_type_mismatch"]  # boolean into a report port

    document["edges"][-1]["source_port"] = "low"
    problem = by_code(graph_problems(document, registry), "unknown_port")[0]
    assert (problem.edge_id, problem.port) == ("high", "low")
    assert problem.message == "node 'route' has no output port 'low'"


def test_a_node_with_invalid_config_gets_its_config_problem_not_guessed_port_problems() -> None:
    document = entry_graph(("lab", ["procedure", "grade"], True))
    document["nodes"].append({"id": "route", "type": "route", "config": {"ports": []}})
    document["edges"] += [
        {"id": "to-route", "source": "lab", "source_port": "findings", "target": "route"},
        {"id": "high", "source": "route", "source_port": "high", "target": "report",
         "target_port": "findings"},
    ]  # fmt: skip

    problems = graph_problems(document, registry_with_test_types())

    assert [(p.code, p.node_id) for p in problems] == [("config_invalid", "route")]


def test_it_lists_template_problems_together_with_graph_problems() -> None:
    document = entry_graph(("lab", ["procedure", "typo"], True), ("aside", ["grade"], False))
    document["nodes"].append({"id": "stray", "type": "case_reader", "config": {}})
    document["edges"].append({"id": "loose", "source": "lab", "target": "nowhere"})

    with pytest.raises(GraphInvalid) as raised:
        validate_graph(document, registry_with_test_types(), dataset=SMALL_DATASET)

    found = {(p.code, p.node_id, p.edge_id, getattr(p, "element_id", None))
             for p in raised.value.problems}  # fmt: skip
    assert found == {
        ("unknown_node_type", "stray", None, None),
        ("unreachable", "stray", None, None),
        ("dangling_edge", None, "loose", None),
        ("unknown_element", "lab", None, "typo"),
        ("required_element_unfilled", "report", None, "grade"),
    }


def test_the_palette_says_which_types_take_their_ports_from_config() -> None:
    palette = {e["name"]: e for e in registry_with_test_types().describe()}

    assert palette["route"]["ports_from_config"] is True
    assert palette["enter_fields"]["ports_from_config"] is False
    assert palette["case_trigger"]["ports_from_config"] is False


def test_a_graph_written_before_schema_version_existed_is_upgraded_then_validates() -> None:
    document = demo_graph()
    del document["schema_version"]
    for item in document["nodes"]:
        del item["type_version"]
    assert by_code(graph_problems(document), "schema_version")

    upgraded, notes = upgrade_graph(document)

    assert notes == ["the graph had schema_version 0; upgraded to 1"]
    assert graph_problems(upgraded) == []


def test_a_newer_graph_is_read_as_this_version_with_a_note_and_checked_as_usual() -> None:
    document = demo_graph()
    document["schema_version"] = 2
    node(document, "report")["type"] = "render_report_v2"

    upgraded, notes = upgrade_graph(document)

    assert "newer than this Pathflow reads (1)" in notes[0]
    assert [p.code for p in graph_problems(upgraded)] == ["unknown_node_type"]
    assert upgrade_graph({**demo_graph(), "schema_version": -1})[1] == [
        "no upgrade path from schema_version -1"
    ]


def test_it_rejects_a_node_id_that_could_not_name_a_checkpoint() -> None:
    document = demo_graph()
    node(document, "fields")["id"] = "fields/1"
    for edge_ in document["edges"]:
        for end in ("source", "target"):
            if edge_[end] == "fields":
                edge_[end] = "fields/1"

    problem = only(graph_problems(document), "node_id_invalid")

    assert problem.node_id == "fields/1"
    assert "may use only letters, digits, '_' and '-', at most 40 characters" in problem.message


def test_an_edge_from_a_review_port_no_decision_can_activate_is_refused() -> None:
    document = demo_graph()
    document["nodes"].append(
        {"id": "check", "type": "review",
         "config": {"title": "Check", "decisions": ["accept", "send_back"]}}
    )  # fmt: skip
    document["edges"] += [
        {"id": "r1", "source": "fields", "source_port": "result", "target": "check"},
        {"id": "r2", "source": "check", "source_port": "approved", "target": "report",
         "target_port": "findings"},
    ]  # fmt: skip

    problem = only(graph_problems(document), "unknown_port")

    assert (problem.edge_id, problem.port) == ("r2", "approved")
