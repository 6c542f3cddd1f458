"""Sandboxed Jinja2: the one language for conditions, mappings and report layouts.

Expressions are compiled by ``ImmutableSandboxedEnvironment`` (no attribute starting with ``_``,
no mutation of lists or dicts, no ``str.format`` routes), so a graph or a template can compute
with case data and model outputs but never reach the server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from workflows.errors import ExpressionError

_ENVIRONMENT = ImmutableSandboxedEnvironment(undefined=ChainableUndefined, autoescape=False)


def expression_environment() -> ImmutableSandboxedEnvironment:
    """The shared environment for expressions (layouts use their own, with autoescape)."""
    return _ENVIRONMENT


@lru_cache(maxsize=1024)
def compile_expression(source: str) -> Callable[..., Any]:
    """Compile once; raises ExpressionError naming the expression when it does not parse."""
    try:
        return _ENVIRONMENT.compile_expression(source, undefined_to_none=False)
    except TemplateError as exc:
        raise ExpressionError(source, exc.message or str(exc)) from None


def check_expression(source: str) -> str | None:
    """Return why ``source`` does not compile, or None when it does."""
    try:
        compile_expression(source)
    except ExpressionError as exc:
        return exc.reason
    return None


def is_undefined(value: Any) -> bool:
    return isinstance(value, ChainableUndefined)


def evaluate(source: str, variables: dict[str, Any]) -> Any:
    """Evaluate an expression; an undefined result (e.g. a skipped node's output) is returned as
    a jinja2 Undefined that callers test with ``is_undefined``."""
    expression = compile_expression(source)
    try:
        return expression(**variables)
    except SecurityError as exc:
        raise ExpressionError(source, f"not allowed: {exc}") from None
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise ExpressionError(source, f"{type(exc).__name__}: {exc}") from None


def _walk_getattr_chains(node: nodes.Node) -> Iterator[list[str]]:
    """Yield attribute chains like ['nodes', 'fna', 'result'] found in an expression AST."""
    for child in node.find_all((nodes.Getattr, nodes.Getitem)):
        chain: list[str] = []
        current: nodes.Node = child
        while isinstance(current, nodes.Getattr | nodes.Getitem):
            if isinstance(current, nodes.Getattr):
                chain.append(current.attr)
            elif isinstance(current.arg, nodes.Const) and isinstance(current.arg.value, str):
                chain.append(current.arg.value)
            else:
                chain.clear()
            current = current.node
        if isinstance(current, nodes.Name):
            yield [current.name, *reversed(chain)]


@lru_cache(maxsize=1024)
def referenced_nodes(source: str) -> frozenset[str]:
    """Node ids an expression reads through ``nodes.<id>``: the basis of per-field provenance."""
    try:
        parsed = _ENVIRONMENT.parse("{{ " + source + " }}")
    except TemplateError as exc:
        raise ExpressionError(source, exc.message or str(exc)) from None
    return frozenset(
        chain[1] for chain in _walk_getattr_chains(parsed) if chain[0] == "nodes" and len(chain) > 1
    )
