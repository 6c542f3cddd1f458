"""Cross-field rules of a dataset (``"rules": [...]`` in dataset.json): parsing and checking.

Each rule has an ``id`` (``[a-z0-9_]+``, unique), a ``kind`` and a zh/en ``message``:

- ``constraint`` — ``elements`` and a ``check`` expression over them (the same sandbox and
  variables as ``visible_if``): checked only when every listed element has a valid value and
  applies; violated when the check is false (or cannot be evaluated).
- ``derived`` — the ``element`` whose value the ``value`` expression computes from the source
  ``elements``. When every source is valid, an empty target is filled in with the computed value
  (the report prints it); an entered value that differs is a violation unless the findings
  record an override with a reason: ``"_overrides": {"<element>": {"reason": "..."}}``.
- ``exclusive`` — answers of a multi-select ``element`` that may only be chosen alone.
- ``requires`` — when the ``when`` condition holds, the ``elements`` must be filled (checked for
  a report to be signed, like ``required``).

Expressions may read only the elements the rule lists (``when`` may read any element): a check
that reads an element it does not wait for would see it missing and mean something else.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from typing import Any

from workflows.datasets.conditions import condition_holds
from workflows.datasets.findings import Assessment, assess, value_problem
from workflows.datasets.model import (
    OVERRIDES,
    RULE_KINDS,
    Dataset,
    Element,
    FieldProblem,
    Rule,
    finite,
    labels,
    short,
)
from workflows.errors import ExpressionError
from workflows.expressions import (
    check_expression,
    evaluate,
    is_number,
    is_undefined,
    referenced_variables,
)

_RULE_ID = re.compile(r"[a-z0-9_]+\Z")
_KIND_FIELDS = {
    "constraint": {"elements", "check"},
    "derived": {"element", "elements", "value"},
    "exclusive": {"element", "answers"},
    "requires": {"when", "elements"},
}
_COMMON_FIELDS = {"id", "kind", "message", "description"}


# --- parsing ------------------------------------------------------------------------------------


def _ids(
    raw: Any, field: str, where: str, known: dict[str, Element], problems: list[str]
) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(i, str) for i in raw):
        problems.append(f"{where}: {field} must be a non-empty list of element ids")
        return ()
    for element_id in raw:
        if element_id not in known:
            problems.append(f"{where}: {field} names {element_id!r}, which is not an element")
    return tuple(dict.fromkeys(raw))


def _target(raw: Any, where: str, known: dict[str, Element], problems: list[str]) -> str:
    if not isinstance(raw, str) or not raw:
        problems.append(f"{where}: element must be an element id")
        return ""
    if raw not in known:
        problems.append(f"{where}: element {raw!r} is not an element")
    return raw


def _expression(
    raw: Any,
    field: str,
    where: str,
    reads: tuple[str, ...] | None,
    known: dict[str, Element],
    problems: list[str],
) -> str:
    """A compiled-checked expression; ``reads`` limits the elements it may read (None: any)."""
    if not isinstance(raw, str) or not raw.strip():
        problems.append(f"{where}: {field} must be an expression in text")
        return ""
    if reason := check_expression(raw):
        problems.append(f"{where}: {field} {raw!r} does not compile: {reason}")
        return ""
    for name in sorted(referenced_variables(raw)):
        if name not in known:
            problems.append(f"{where}: {field} {raw!r} names {name!r}, which is not an element")
        elif reads is not None and name not in reads:
            problems.append(
                f"{where}: {field} {raw!r} reads {name!r}, which the rule does not list in "
                "elements (it is checked only when its listed elements are filled)"
            )
    return raw


def _exclusive_answers(
    raw: dict[str, Any], target: str, where: str, known: dict[str, Element], problems: list[str]
) -> tuple[str, ...]:
    element = known.get(target)
    if element is not None and element.type != "multi_select":
        problems.append(
            f"{where}: element {target!r} is a {element.type}; exclusive answers only apply to "
            "a multi_select"
        )
    answers = raw.get("answers")
    if not isinstance(answers, list) or not answers or not all(isinstance(a, str) for a in answers):
        problems.append(f"{where}: answers must be a non-empty list of answer codes")
        return ()
    if element is not None and element.answers:
        unknown = [a for a in answers if element.answer(a) is None]
        if unknown:
            problems.append(f"{where}: answers {unknown!r} are not answers of {target!r}")
    return tuple(answers)


def _rule(raw: Any, index: int, known: dict[str, Element], problems: list[str]) -> Rule | None:
    if not isinstance(raw, dict):
        problems.append(f"rules[{index}]: must be an object")
        return None
    rule_id = raw.get("id")
    where = f"rule {rule_id!r}" if isinstance(rule_id, str) and rule_id else f"rules[{index}]"
    if not isinstance(rule_id, str) or not _RULE_ID.match(rule_id):
        problems.append(f"{where}: id must be lower-case letters, digits and underscores")
    kind = raw.get("kind")
    if kind not in RULE_KINDS:
        problems.append(f"{where}: kind {kind!r} is not one of {', '.join(RULE_KINDS)}")
        return None
    message = labels(raw.get("message"), where, problems, "a message")
    unexpected = sorted(set(raw) - _COMMON_FIELDS - _KIND_FIELDS[kind])
    if unexpected:
        problems.append(f"{where}: {', '.join(unexpected)} do not apply to a {kind} rule")
    rule = Rule(id=str(rule_id), kind=str(kind), message=message)
    if kind == "constraint":
        elements = _ids(raw.get("elements"), "elements", where, known, problems)
        check = _expression(raw.get("check"), "check", where, elements, known, problems)
        return Rule(rule.id, rule.kind, message, elements=elements, check=check)
    if kind == "derived":
        target = _target(raw.get("element"), where, known, problems)
        elements = _ids(raw.get("elements"), "elements", where, known, problems)
        if target and target in elements:
            problems.append(f"{where}: {target!r} cannot be derived from itself")
        value = _expression(raw.get("value"), "value", where, elements, known, problems)
        return Rule(rule.id, rule.kind, message, elements=elements, element=target, value=value)
    if kind == "exclusive":
        target = _target(raw.get("element"), where, known, problems)
        answers = _exclusive_answers(raw, target, where, known, problems)
        return Rule(rule.id, rule.kind, message, element=target, answers=answers)
    when = _expression(raw.get("when"), "when", where, None, known, problems)
    elements = _ids(raw.get("elements"), "elements", where, known, problems)
    return Rule(rule.id, rule.kind, message, elements=elements, when=when)


def parse_rules(raw: Any, known: dict[str, Element], problems: list[str]) -> tuple[Rule, ...]:
    """The rules of a definition; appends every problem to ``problems``."""
    if not isinstance(raw, list):
        problems.append("rules must be a list")
        return ()
    rules = [rule for i, item in enumerate(raw) if (rule := _rule(item, i, known, problems))]
    for rule_id, count in Counter(r.id for r in rules).items():
        if count > 1 and rule_id:
            problems.append(f"rule {rule_id!r}: {count} rules share this id")
    for rule in rules:
        if rule.kind == "requires" and rule.when:
            problems.extend(_unreachable_requirements(rule, known))
    targets = Counter(r.element for r in rules if r.kind == "derived" and r.element)
    for target, count in targets.items():
        if count > 1:
            problems.append(
                f"element {target!r} is the target of {count} derived rules; one value, one rule"
            )
    return tuple(rules)


def _domain(element: Element | None) -> list[Any] | None:
    if element is not None and element.type == "single_select":
        return [a.code for a in element.answers]
    if element is not None and element.type == "boolean":
        return [True, False]
    return None  # numbers, text, multi-selects: too many answers to try them all


def _true(expression: str, variables: dict[str, Any]) -> bool:
    try:
        result = evaluate(expression, variables)
    except ExpressionError:
        return False
    return bool(result) and not is_undefined(result)


def _unreachable_requirements(rule: Rule, known: dict[str, Element]) -> list[str]:
    """A requires rule asking for an element whose ``visible_if`` can never hold when the
    rule's condition does, so no case could ever satisfy it. Decided by trying every answer
    when both conditions read only single-selects and booleans (few enough combinations);
    otherwise left to the check of filled data, which names it there."""
    problems = []
    for element_id in rule.elements:
        element = known.get(element_id)
        if element is None or not element.visible_if:
            continue
        names = sorted(referenced_variables(rule.when) | referenced_variables(element.visible_if))
        domains = [_domain(known.get(name)) for name in names]
        if any(d is None for d in domains) or math.prod(len(d or ()) for d in domains) > 4096:
            continue
        holding = [
            dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(d or () for d in domains))
            if _true(rule.when, dict(zip(names, combo, strict=True)))
        ]
        if holding and not any(_true(element.visible_if, answers) for answers in holding):
            problems.append(
                f"rule {rule.id!r}: requires {element_id!r} when {rule.when}, but "
                f"{element_id!r} applies only when {element.visible_if}, which never holds then"
            )
    return problems


# --- derived values -----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Jinja may hand back tuples or markup; answers are plain JSON values."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _computed(rule: Rule, valid: dict[str, Any], element: Element) -> tuple[Any, str]:
    """The derived value (or None) and, when it cannot be computed, why. A number is rounded
    to the target's precision (a ratio of 2.1666… is entered and printed as 2.17)."""
    try:
        result = evaluate(rule.value, {k: valid[k] for k in rule.elements})
    except ExpressionError as exc:
        return None, f"could not compute {rule.element!r}: {exc.reason}"
    if is_undefined(result) or result is None:
        return None, f"{rule.value!r} gives no value for {rule.element!r}"
    if element.type == "number" and is_number(result) and finite(result):
        rounded = round(result, element.precision)
        return (int(rounded) if element.precision == 0 else rounded), ""
    return _plain(result), ""


def with_derived(dataset: Dataset, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with every empty derived element filled in from its valid, applicable sources
    (repeated, so a value derived from a derived one is filled too). Values derived to something
    the target does not accept, or for a target that does not apply, are left out (the rule
    check names them)."""
    derived_rules = [r for r in dataset.rules if r.kind == "derived"]
    if not derived_rules:
        return values
    filled = dict(values)
    for _ in range(len(derived_rules)):
        judged = assess(dataset, filled)
        added = False
        for rule in derived_rules:
            element = dataset.element(rule.element)
            if (
                element is None
                or rule.element in filled
                or judged.applies[rule.element] is not True
            ):
                continue
            if not all(k in judged.valid for k in rule.elements):
                continue
            value, _reason = _computed(rule, judged.valid, element)
            if value is not None and value_problem(element, value) is None:
                filled[rule.element] = value
                added = True
        if not added:
            break
    return filled


def _same(element: Element, entered: Any, derived: Any) -> bool:
    if element.type == "number" and is_number(entered) and is_number(derived):
        return bool(derived == entered)  # both at the element's precision
    if element.type == "multi_select" and isinstance(entered, list) and isinstance(derived, list):
        return sorted(map(str, entered)) == sorted(map(str, derived))
    return bool(entered == derived)


def _display(element: Element, value: Any) -> str:
    answer = element.answer(value) if element.type == "single_select" else None
    return f"{answer.label['en']} ({value!r})" if answer else short(value)


def overridden(dataset: Dataset, values: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    """Derived elements whose entered value differs from the computed one with a recorded
    reason: element id → (computed value, reason), for the report to say so."""
    reasons = override_reasons(values)
    if not reasons:
        return {}
    judged = assess(dataset, values)
    found = {}
    for rule in dataset.rules:
        element = dataset.element(rule.element)
        if rule.kind != "derived" or element is None or not reasons.get(rule.element):
            continue
        if rule.element not in judged.valid or not all(k in judged.valid for k in rule.elements):
            continue
        computed, reason = _computed(rule, judged.valid, element)
        if not reason and not _same(element, judged.valid[rule.element], computed):
            found[rule.element] = (computed, reasons[rule.element])
    return found


# --- checking filled data -----------------------------------------------------------------------


def override_reasons(values: dict[str, Any]) -> dict[str, str]:
    """Element id → the override reason recorded in the findings (empty when none is given)."""
    overrides = values.get(OVERRIDES)
    if not isinstance(overrides, dict):
        return {}
    return {
        str(k): str(v["reason"]).strip()
        for k, v in overrides.items()
        if isinstance(v, dict) and isinstance(v.get("reason"), str)
    }


def override_problems(dataset: Dataset, values: dict[str, Any]) -> list[FieldProblem]:
    """An override must name a derived element and give a reason."""
    if OVERRIDES not in values:
        return []
    overrides = values[OVERRIDES]
    if not isinstance(overrides, dict):
        return [FieldProblem(OVERRIDES, 'must map element ids to {"reason": text}')]
    derived = {r.element for r in dataset.rules if r.kind == "derived"}
    reasons = override_reasons(values)
    problems = []
    for element_id in overrides:
        if element_id not in derived:
            problems.append(
                FieldProblem(
                    str(element_id), "is overridden, but no derived rule computes this element"
                )
            )
        elif not reasons.get(element_id):
            problems.append(FieldProblem(str(element_id), "an override needs a reason"))
    return problems


def _violation(rule: Rule, detail: str = "", elements: tuple[str, ...] = ()) -> FieldProblem:
    concerned = elements or rule.concerns()
    reason = rule.message.get("en", rule.id) + (f" ({detail})" if detail else "")
    return FieldProblem(concerned[0] if concerned else "", reason, rule.id, concerned, rule.message)


def _constraint(rule: Rule, judged: Assessment) -> FieldProblem | None:
    if not rule.check or not all(k in judged.valid for k in rule.elements):
        return None
    try:
        result = evaluate(rule.check, {k: judged.valid[k] for k in rule.elements})
    except ExpressionError as exc:
        return _violation(rule, f"the check could not be evaluated: {exc.reason}")
    return None if result and not is_undefined(result) else _violation(rule)


def _derived(
    dataset: Dataset, rule: Rule, values: dict[str, Any], judged: Assessment
) -> FieldProblem | None:
    element = dataset.element(rule.element)
    if element is None or not rule.value or not all(k in judged.valid for k in rule.elements):
        return None
    computed, reason = _computed(rule, judged.valid, element)
    if reason:
        return _violation(rule, reason)
    if problem := value_problem(element, computed):
        return _violation(rule, f"the computed value is not a valid answer: {problem}")
    if rule.element not in judged.valid:
        return (
            None  # empty (filled in from the sources), invalid or not applicable: named elsewhere
        )
    entered = judged.valid[rule.element]
    if _same(element, entered, computed) or override_reasons(values).get(rule.element):
        return None
    return _violation(
        rule,
        f"{rule.element} is {_display(element, entered)}, the rule gives "
        f"{_display(element, computed)}; record an override with a reason to keep it",
    )


def _exclusive(rule: Rule, judged: Assessment) -> FieldProblem | None:
    chosen = judged.valid.get(rule.element)
    if not isinstance(chosen, list) or len(chosen) < 2:
        return None
    alone = [code for code in chosen if code in rule.answers]
    return _violation(rule, f"{', '.join(alone)} chosen with other answers") if alone else None


def _requires(rule: Rule, values: dict[str, Any], judged: Assessment) -> FieldProblem | None:
    if condition_holds(rule.when, judged.valid) is not True:
        return None
    missing = tuple(k for k in rule.elements if k not in values)
    if not missing:
        return None
    hidden = [k for k in missing if judged.applies.get(k) is False]
    detail = f"{', '.join(missing)} not filled"
    if hidden:
        detail += f"; {', '.join(hidden)} does not apply here, so the template cannot be completed"
    return _violation(rule, detail, missing)


def rule_problems(
    dataset: Dataset, values: dict[str, Any], judged: Assessment, *, complete: bool
) -> list[FieldProblem]:
    """Every violated rule, in dataset order of the rules; ``judged`` assesses ``values`` (with
    derived values filled in). ``requires`` rules are checked only for a complete report."""
    problems: list[FieldProblem | None] = []
    for rule in dataset.rules:
        if rule.kind == "constraint":
            problems.append(_constraint(rule, judged))
        elif rule.kind == "derived":
            problems.append(_derived(dataset, rule, values, judged))
        elif rule.kind == "exclusive":
            problems.append(_exclusive(rule, judged))
        elif complete:
            problems.append(_requires(rule, values, judged))
    return [p for p in problems if p is not None]
