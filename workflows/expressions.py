"""Sandboxed Jinja2: the one language for conditions, mappings and report layouts.

Expressions are compiled by a ``LimitedSandbox``, Jinja2's ``ImmutableSandboxedEnvironment`` (no
attribute starting with ``_``, no mutation of lists or dicts, no ``str.format`` routes) that also
refuses arithmetic building huge values, so a graph or a template can compute with case data and
model outputs but never reach the server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, meta, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from workflows.errors import ExpressionError

# How long a string or list one operator may build, and the largest exponent: an expression
# is evaluated synchronously in a worker's event loop, where a node timeout cannot stop it.
MAX_SEQUENCE_LENGTH = 100_000
MAX_EXPONENT = 64
MAX_INTEGER_BITS = 4096
TOO_DEEP = "it is too deeply nested (parentheses, brackets or operators) to be read"


class LimitedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with `*`, `**`, `+` and `%` refused when they would build huge
    values (and, being intercepted, never constant-folded at compile time)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and is_number(right):
            if abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is larger than {MAX_EXPONENT}")
            if isinstance(left, int) and left.bit_length() * abs(right) > MAX_INTEGER_BITS:
                raise SecurityError(f"the result would be larger than 2**{MAX_INTEGER_BITS}")
        if operator == "*":
            sequence, count = (left, right) if _is_sequence(left) else (right, left)
            if _is_sequence(sequence) and is_number(count):
                _check_length(len(sequence) * count)
        if operator == "+" and _is_sequence(left) and _is_sequence(right):
            _check_length(len(left) + len(right))
        if operator == "%" and isinstance(left, str):
            raise SecurityError("%-formatting is not allowed; use the format filter")
        return super().call_binop(context, operator, left, right)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, str | list | tuple)


def _check_length(length: float) -> None:
    if length > MAX_SEQUENCE_LENGTH:
        raise SecurityError(f"the result would be longer than {MAX_SEQUENCE_LENGTH}")


_ENVIRONMENT = LimitedSandbox(undefined=ChainableUndefined, autoescape=False)


@lru_cache(maxsize=1024)
def compile_expression(source: str) -> Callable[..., Any]:
    """Compile once; raises ExpressionError naming the expression when it does not parse."""
    try:
        return _ENVIRONMENT.compile_expression(source, undefined_to_none=False)
    except TemplateError as exc:
        raise ExpressionError(source, exc.message or str(exc)) from None
    except RecursionError:  # e.g. thousands of nested parentheses
        raise ExpressionError(source, TOO_DEEP) from None


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


def _parse(source: str) -> nodes.Template:
    try:
        return _ENVIRONMENT.parse("{{ " + source + " }}")
    except TemplateError as exc:
        raise ExpressionError(source, exc.message or str(exc)) from None
    except RecursionError:
        raise ExpressionError(source, TOO_DEEP) from None


@lru_cache(maxsize=1024)
def referenced_nodes(source: str) -> frozenset[str]:
    """Node ids an expression reads through ``nodes.<id>``: the basis of per-field provenance."""
    chains = _walk_getattr_chains(_parse(source))
    return frozenset(chain[1] for chain in chains if chain[0] == "nodes" and len(chain) > 1)


@lru_cache(maxsize=1024)
def referenced_paths(source: str) -> frozenset[tuple[str, ...]]:
    """Attribute chains an expression reads, e.g. ``("nodes", "ki67", "result", "index")``."""
    return frozenset(tuple(chain) for chain in _walk_getattr_chains(_parse(source)))


@lru_cache(maxsize=1024)
def referenced_variables(source: str) -> frozenset[str]:
    """Top-level variables an expression reads (e.g. ``case``, ``nodes``)."""
    return frozenset(meta.find_undeclared_variables(_parse(source)))
