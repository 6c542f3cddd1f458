"""Conditions over filled answers (``visible_if``, a rule's ``when``): sandboxed expressions that
see only valid, applicable answers; an answer not given decides nothing (see the package
docstring)."""

from __future__ import annotations

from typing import Any

from jinja2 import ChainableUndefined

from workflows.errors import ExpressionError
from workflows.expressions import evaluate, is_undefined, referenced_variables


def condition_holds(
    condition: str, valid: dict[str, Any], doubtful: frozenset[str] | set[str] = frozenset()
) -> bool | None:
    """Whether ``condition`` holds over the ``valid`` answers; None (undecided) when it reads a
    ``doubtful`` one (given but invalid, or itself undecided). An empty condition holds."""
    if not condition:
        return True
    read = referenced_variables(condition)
    if read & doubtful:
        return None
    missing = read - valid.keys()
    if not missing:
        return _holds(condition, valid)
    # An answer not given, invalid or not applicable decides nothing: the condition holds only
    # if it holds whichever way every test of such an answer comes out (`a == 'x' or b == 'y'`
    # with `a` 'x' holds, `b != 'pos'` and `not b` do not; `b != 'pos'` used to hold).
    return all(
        _holds(condition, {**valid, **{name: unknown(name=name) for name in missing}})
        for unknown in (_Unknown, _UnknownTrue)
    )


class _Unknown(ChainableUndefined):
    """An answer a condition reads that it may not rely on: ``==``, ``!=``, ``in`` and truth
    tests all come out ``False`` (``_UnknownTrue``: all ``True``); ordering fails. Still an
    undefined value, so ``is defined`` is false and a bare unknown never makes a condition hold."""

    __slots__ = ()
    verdict = False

    def __eq__(self, other: object) -> bool:
        return self.verdict

    def __ne__(self, other: object) -> bool:
        return self.verdict

    def __bool__(self) -> bool:
        return self.verdict

    def __contains__(self, item: object) -> bool:
        return self.verdict

    __hash__ = ChainableUndefined.__hash__


class _UnknownTrue(_Unknown):
    __slots__ = ()
    verdict = True


def _holds(condition: str, variables: dict[str, Any]) -> bool:
    try:
        result = evaluate(condition, variables)
    except ExpressionError:
        return False  # e.g. an ordering comparison with an unknown answer: it does not apply
    return bool(result) and not is_undefined(result)
