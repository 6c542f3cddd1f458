"""Expressions: the sandbox holds, compile errors name the expression, node references are found."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from workflows.errors import ExpressionError
from workflows.expressions import (
    check_expression,
    compile_expression,
    evaluate,
    is_undefined,
    referenced_nodes,
)

ESCAPES = [
    "''.__class__.__mro__",
    "''.__class__.__mro__[1].__subclasses__()",
    "().__class__.__bases__[0].__subclasses__()",
    "x|attr('__class__')",
    "(x|attr('__class__')|attr('__subclasses__'))()",
    "cycler.__init__.__globals__",
    "cycler.__init__.__globals__.os.system(command)",
    "joiner.__init__.__globals__['os'].popen(command).read()",
    "lipsum.__globals__['os'].system(command)",
    "namespace.__init__.__globals__.__builtins__['open'](marker, 'w')",
    "range.__self__.open(marker, 'w')",
    "x.__class__.__base__.__subclasses__()",
    "case.__class__.__mro__[1].__subclasses__()",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_it_refuses_to_reach_python_internals(source: str, tmp_path: Path) -> None:
    marker = tmp_path / "escaped"
    variables: dict[str, Any] = {
        "x": 1,
        "case": {"accession": "S26-1"},
        "marker": str(marker),
        "command": f"touch {marker}",
    }

    result: Any
    try:
        result = evaluate(source, variables)
    except ExpressionError as exc:
        result = exc

    if isinstance(result, ExpressionError):
        assert result.permanent
        assert result.expression == source
    else:
        # What is not an error is undefined: nothing of the object graph comes back.
        assert is_undefined(result), f"{source!r} gave {result!r}"

    assert not marker.exists()


@pytest.mark.parametrize(
    "source",
    [
        '"{0.__class__}".format(x)',
        '"{a.__class__}".format_map(values)',
        '"{0.__class__.__init__.__globals__}".format(x)',
        "template.format(x)",
    ],
)
def test_it_refuses_str_format_routes_to_attributes(source: str) -> None:
    variables = {"x": 1, "values": {"a": 1}, "template": "{0.__class__}"}

    result = evaluate(source, variables)

    # The sandbox formats unsafe fields as undefined (empty), never as the object they name.
    assert result == ""


@pytest.mark.parametrize(
    "source",
    ["items.append(2)", "[1].append(2)", "values.update(a=1)", "items.pop()", "values.clear()"],
)
def test_it_refuses_to_mutate_lists_and_dicts(source: str) -> None:
    items, values = [1], {"b": 2}

    with pytest.raises(ExpressionError, match="not allowed: access to attribute"):
        evaluate(source, {"items": items, "values": values})

    assert items == [1]
    assert values == {"b": 2}


def test_it_computes_with_case_data_and_node_outputs() -> None:
    variables = {
        "case": {"findings": {"er_percent": 90}},
        "nodes": {"fna": {"result": {"predict_proba": [[0.1, 0.9]]}}},
    }

    assert evaluate("nodes.fna.result.predict_proba[0][1] >= 0.5", variables) is True
    assert evaluate("(nodes.fna.result.predict_proba[0][1] * 100) | round(1)", variables) == 90.0
    assert evaluate("case.findings.er_percent ~ '%'", variables) == "90%"
    assert is_undefined(evaluate("nodes.ihc.result.positive_fraction", variables))


def test_an_error_while_evaluating_names_the_expression() -> None:
    with pytest.raises(ExpressionError) as raised:
        evaluate("1 / n", {"n": 0})

    assert str(raised.value) == "expression '1 / n': ZeroDivisionError: division by zero"


@pytest.mark.parametrize("source", ["nodes.fna.result >", "(1 + 2", "a b", "{{ x }}"])
def test_a_compile_error_names_the_expression(source: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        compile_expression(source)

    assert raised.value.expression == source
    assert str(raised.value).startswith(f"expression {source!r}: ")
    assert check_expression(source) == raised.value.reason
    assert check_expression("nodes.fna.result") is None


def test_it_finds_the_nodes_an_expression_reads() -> None:
    source = "nodes.fna.result.predict_proba[0][1] * nodes['ihc'].result.positive_fraction"

    assert referenced_nodes(source) == {"fna", "ihc"}


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("case.findings.er_percent", set()),
        ("case.nodes.fna", set()),
        ("nodes", set()),
        ("nodes[name].result", set()),
        ("[nodes.a.x, nodes.b] | length", {"a", "b"}),
        ("nodes.fna.result if nodes.malignant.true else 0", {"fna", "malignant"}),
    ],
)
def test_it_finds_only_direct_node_references(source: str, found: set[str]) -> None:
    assert referenced_nodes(source) == found


def test_referenced_nodes_refuses_an_expression_that_does_not_parse() -> None:
    with pytest.raises(ExpressionError) as raised:
        referenced_nodes("nodes.fna.result[")

    assert raised.value.expression == "nodes.fna.result["


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("'a' * 10**9", "longer than"),
        ("[0] * 10**8", "longer than"),
        ("9 ** 99", "exponent 99"),
        ("((2 ** 64) ** 64) ** 64", "larger than 2**4096"),
        ("'%0999999999d' % 1", "%-formatting is not allowed"),
    ],
)
def test_it_refuses_arithmetic_that_would_build_huge_values(source: str, reason: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(reason)):
        evaluate(source, {})


def test_ordinary_arithmetic_still_works() -> None:
    assert evaluate("(0.934 * 100) | round(1)", {}) == 93.4
    assert evaluate("'ab' * 3 + 'c'", {}) == "abababc"
    assert evaluate("2 ** 10 + 10 % 3", {}) == 1025
