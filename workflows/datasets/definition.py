"""Parsing a dataset definition, listing every problem at once (see the package docstring)."""

from __future__ import annotations

from typing import Any

from workflows.datasets.model import (
    _IDENTIFIER,
    _SLUG,
    DATASET_SCHEMA_VERSION,
    ELEMENT_TYPES,
    MAX_PRECISION,
    MEASURE_KEYS,
    SELECT_TYPES,
    SOURCES,
    WHEN_HIDDEN,
    Answer,
    Dataset,
    DatasetInvalid,
    Element,
    Section,
    finite,
    labels,
    short,
)
from workflows.datasets.rules import parse_rules
from workflows.expressions import check_expression, is_number, referenced_variables


def _answers(raw: dict[str, Any], kind: Any, where: str, problems: list[str]) -> tuple[Answer, ...]:
    listed = raw.get("answers", [])
    if not isinstance(listed, list):
        problems.append(f"{where}: answers must be a list")
        return ()
    if listed and kind in ELEMENT_TYPES and kind not in SELECT_TYPES:
        problems.append(f"{where}: answers only apply to single_select and multi_select elements")
    answers: list[Answer] = []
    for index, item in enumerate(listed):
        if not isinstance(item, dict) or "code" not in item:
            problems.append(f"{where} answers[{index}]: needs a code")
            continue
        if not isinstance(item["code"], str) or not item["code"]:
            # A code 1 would be stored as "1": the answer 1 refused, `grade == 1` never true.
            problems.append(
                f"{where} answers[{index}]: code {item['code']!r} must be text in quotes "
                f'(e.g. "{item["code"]}")'
            )
            continue
        code = str(item["code"])
        label = labels(item.get("label"), f"{where} answer {code!r}", problems)
        if any(a.code == code for a in answers):
            problems.append(f"{where}: answer code {code!r} is listed twice")
        answers.append(Answer(str(item.get("system", "pathflow")), code, label))
    if kind in SELECT_TYPES and not answers:
        problems.append(f"{where}: a select element needs answers")
    return tuple(answers)


def _number_fields(
    raw: dict[str, Any], kind: Any, where: str, problems: list[str]
) -> tuple[float | None, float | None, int]:
    if kind != "number":
        given = [key for key in ("min", "max", "precision") if key in raw]
        if given and kind in ELEMENT_TYPES:  # an unknown type is reported once, by _element
            problems.append(f"{where}: {', '.join(given)} only apply to number elements")
        return None, None, 0
    bounds: list[float | None] = []
    for key in ("min", "max"):
        value = raw.get(key)
        if value is not None and (not is_number(value) or not finite(value)):
            problems.append(f"{where}: {key} must be a number, not {short(value)}")
            value = None
        bounds.append(value)
    minimum, maximum = bounds
    if minimum is not None and maximum is not None and minimum > maximum:
        problems.append(f"{where}: min {minimum} is greater than max {maximum}")
    precision = raw.get("precision", 0)
    if (
        isinstance(precision, bool)
        or not isinstance(precision, int)
        or not 0 <= precision <= MAX_PRECISION
    ):
        problems.append(
            f"{where}: precision (decimal places) must be 0 or more and at most {MAX_PRECISION}, "
            f"not {short(precision)}"
        )
        precision = 0
    return minimum, maximum, precision


def _element(raw: dict[str, Any], where: str, problems: list[str]) -> Element:
    kind = raw.get("type")
    if kind not in ELEMENT_TYPES:
        problems.append(f"{where}: type {kind!r} is not one of {', '.join(ELEMENT_TYPES)}")
    label = labels(raw.get("label"), where, problems)
    help_text = raw.get("help")
    if help_text is not None:
        help_text = labels(help_text, where, problems, "help text") or None
    required = raw.get("required", False)
    if not isinstance(required, bool):
        problems.append(f"{where}: required must be true or false, not {required!r}")
    unit = raw.get("unit", "")
    if not isinstance(unit, str):
        problems.append(f"{where}: unit must be text, not {unit!r}")
    minimum, maximum, precision = _number_fields(raw, kind, where, problems)
    visible_if = raw.get("visible_if") or ""
    if not isinstance(visible_if, str):
        problems.append(f"{where}: visible_if must be an expression in text, not {visible_if!r}")
        visible_if = ""
    elif visible_if and (reason := check_expression(visible_if)):
        problems.append(f"{where}: visible_if {visible_if!r} does not compile: {reason}")
        visible_if = ""  # the order check below only looks at conditions that compile
    when_hidden = raw.get("when_hidden", "omit")
    if when_hidden not in WHEN_HIDDEN:
        problems.append(f"{where}: when_hidden {when_hidden!r} is not one of omit, not_applicable")
    elif when_hidden != "omit" and not raw.get("visible_if"):
        problems.append(f"{where}: when_hidden only applies to an element with visible_if")
    source, measures = _source(raw, where, required is True, problems)
    return Element(
        id=str(raw.get("id", "")),
        type=str(kind),
        label=label,
        required=required is True,
        answers=_answers(raw, kind, where, problems),
        unit=unit if isinstance(unit, str) else "",
        minimum=minimum,
        maximum=maximum,
        precision=precision,
        visible_if=visible_if,
        help=help_text,
        when_hidden=str(when_hidden),
        source=source,
        measures=measures,
    )


def _source(
    raw: dict[str, Any], where: str, required: bool, problems: list[str]
) -> tuple[str, dict[str, str] | None]:
    """Who determines the value, and what a model-filled element measures."""
    source = raw.get("source", "pathologist")
    if source not in SOURCES:
        problems.append(f"{where}: source {source!r} is not one of {', '.join(SOURCES)}")
        source = "pathologist"
    elif source == "model" and required:
        # A report must be completable by the pathologist alone: a model may be down, a
        # slide unscannable, and a resection report is never incomplete for want of AI.
        problems.append(
            f"{where}: an element with source 'model' cannot be required (a report never needs "
            "a model output to be complete); use source 'model_confirmed' or make it optional"
        )
    raw_measures = raw.get("measures")
    if raw_measures is None:
        return str(source), None
    if not isinstance(raw_measures, dict):
        problems.append(f"{where}: measures must be an object with marker, stain and/or unit")
        return str(source), None
    measures: dict[str, str] = {}
    for key, value in raw_measures.items():
        if key not in MEASURE_KEYS:
            problems.append(f"{where}: measures {key!r} is not one of {', '.join(MEASURE_KEYS)}")
        elif not isinstance(value, str) or not value.strip():
            problems.append(f"{where}: measures {key} must be text, not {short(value)}")
        else:
            measures[key] = value
    return str(source), measures or None


def _condition_problems(sections: list[Section], wheres: dict[str, str]) -> list[str]:
    """A condition may read only elements above it: this names unknown ids, self-reference and
    forward reads (which are what a cycle needs)."""
    ids = [e.id for s in sections for e in s.elements]
    problems = []
    for position, element in enumerate(e for s in sections for e in s.elements):
        if not element.visible_if:
            continue
        before = set(ids[:position])
        for name in sorted(referenced_variables(element.visible_if)):
            where = f"{wheres[element.id]}: visible_if {element.visible_if!r}"
            if name == element.id:
                problems.append(f"{where} reads the element itself")
            elif name not in ids:
                problems.append(f"{where} names {name!r}, which is not an element of this dataset")
            elif name not in before:
                problems.append(
                    f"{where} reads {name!r}, which comes after it; a condition may only read "
                    "elements above it (this also rules out cycles)"
                )
    return problems


def _section(
    raw_section: dict[str, Any],
    index: int,
    seen: set[str],
    wheres: dict[str, str],
    problems: list[str],
) -> Section:
    section_id = str(raw_section.get("id") or "")
    where = f"section {raw_section.get('id', index)!r}"
    if not section_id:
        problems.append(f"sections[{index}]: needs an id")
    raw_elements = raw_section.get("elements", [])
    if not isinstance(raw_elements, list) or not raw_elements:
        problems.append(f"{where}: needs a non-empty 'elements' list")
        raw_elements = []
    elements = []
    for e_index, raw in enumerate(raw_elements):
        if not isinstance(raw, dict):
            problems.append(f"{where} elements[{e_index}]: must be an object")
            continue
        element_where = f"{where} element {raw.get('id', e_index)!r}"
        element = _element(raw, element_where, problems)
        if element.id in seen or not element.id:
            problems.append(f"{where}: element id {element.id!r} is empty or repeated")
        elif not _IDENTIFIER.match(element.id):
            problems.append(
                f"{element_where}: an element id must be letters, digits and underscores, "
                "not starting with a digit, so that conditions can name it"
            )
        seen.add(element.id)
        wheres.setdefault(element.id, element_where)
        elements.append(element)
    title = labels(raw_section.get("title"), where, problems, "a title")
    return Section(section_id, title, tuple(elements))


def parse_dataset(data: Any) -> Dataset:
    """Parse a dataset definition; raises DatasetInvalid listing every problem."""
    if not isinstance(data, dict) or not isinstance(data.get("sections"), list):
        raise DatasetInvalid(["the dataset needs a 'sections' list"])
    problems: list[str] = []
    version = data.get("schema_version", DATASET_SCHEMA_VERSION)
    if version != DATASET_SCHEMA_VERSION:
        problems.append(
            f"schema_version {version!r} is not supported; this Pathflow reads dataset "
            f"schema_version {DATASET_SCHEMA_VERSION}"
        )
    slug = data.get("slug", "")
    if slug and (not isinstance(slug, str) or not _SLUG.match(slug)):
        problems.append(f"slug {slug!r}: use letters, digits, hyphens and underscores only")
    sections: list[Section] = []
    seen: set[str] = set()
    wheres: dict[str, str] = {}
    for s_index, raw_section in enumerate(data["sections"]):
        if not isinstance(raw_section, dict):
            problems.append(f"sections[{s_index}]: must be an object")
            continue
        section = _section(raw_section, s_index, seen, wheres, problems)
        if section.id and any(s.id == section.id for s in sections):
            problems.append(f"section {section.id!r}: section id is repeated")
        sections.append(section)
    if not sections:
        problems.append("the dataset needs at least one section")
    title = labels(data.get("title"), "title", problems)
    problems.extend(_condition_problems(sections, wheres))
    elements = {e.id: e for s in sections for e in s.elements}
    rules = parse_rules(data.get("rules", []), elements, problems)
    if problems:
        raise DatasetInvalid(problems)
    return Dataset(str(slug), title, tuple(sections), rules)


def definition_problems(data: Any) -> list[str]:
    """Every problem of a dataset definition; empty when it parses."""
    try:
        parse_dataset(data)
    except DatasetInvalid as exc:
        return exc.problems
    return []
