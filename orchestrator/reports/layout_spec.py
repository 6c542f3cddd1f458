"""Declarative report layouts: the template designer's blocks, arranged in rows of one or two
columns with page breaks, turned into the sandboxed Jinja2 layout the renderer prints.

A layout spec (stored with a template version as ``layout_spec``)::

    {"schema_version": 1,
     "rows": [{"columns": [[{"type": "letterhead"}]]},
              {"columns": [[{"type": "patient"}], [{"type": "specimens"}]]},
              {"page_break": true},
              {"columns": [[{"type": "section", "section": "tumour"}]]}, ...]}

Block types (``BLOCK_TYPES``): ``letterhead``, ``patient``, ``specimens``, ``diagnosis`` (chosen
``elements`` in a summary box, optional ``title`` {zh, en}), ``section`` (one synoptic
section by id), ``figures`` (AI figures, e.g. the IHC tile), ``provenance`` (AI sources),
``comment`` (one text ``element`` as a paragraph), ``ai_values`` (the model-sourced values,
printed apart from the pathologist's determinations), ``signatures``.

Rules (``layout_spec_problems`` lists every broken one): the letterhead, patient block and
signatures appear exactly once — a report always names its patient and who signed it — and
every section of the dataset is placed exactly once, so no element is silently left out of the
printed report; a dataset with model-sourced elements needs the ``ai_values`` block once (the
sections leave those elements out). The generated layout extends
``templates/_base/layout/page.html.j2`` and includes one partial per block from
``templates/_base/blocks/``; the spec's values enter it only as escaped string literals, so a
spec cannot inject template code. The
watermark of unsigned reports, the amendment banner and the running page header and footer are
the page's, not blocks: no layout can drop them.
"""

from __future__ import annotations

import json
from typing import Any

from workflows.datasets import Dataset

LAYOUT_SPEC_VERSION = 1
BLOCK_TYPES = (
    "letterhead",
    "patient",
    "specimens",
    "diagnosis",
    "section",
    "figures",
    "provenance",
    "comment",
    "ai_values",
    "signatures",
)
REQUIRED_ONCE = ("letterhead", "patient", "signatures")
MAX_ROWS = 200
TEXT_TYPES = frozenset({"text"})
LANGUAGES = ("zh", "en")
MAX_TITLE = 200


def default_layout_spec(dataset: Dataset) -> dict[str, Any]:
    """The generated synoptic layout as a spec: what the designer starts from."""
    blocks: list[dict[str, Any]] = [
        {"type": "letterhead"},
        {"type": "patient"},
        {"type": "specimens"},
        *({"type": "section", "section": section.id} for section in dataset.sections),
        {"type": "ai_values"},
        {"type": "figures"},
        {"type": "provenance"},
        {"type": "signatures"},
    ]
    return {
        "schema_version": LAYOUT_SPEC_VERSION,
        "rows": [{"columns": [[block]]} for block in blocks],
    }


# --- checks -----------------------------------------------------------------------------------


def _title_problems(title: Any, where: str) -> list[str]:
    if title is None:
        return []
    if not isinstance(title, dict) or set(title) - set(LANGUAGES):
        return [f"{where}: title must be an object with zh and/or en text"]
    return [
        f"{where}: title.{lang} must be text of at most {MAX_TITLE} characters"
        for lang, text in title.items()
        if not isinstance(text, str) or len(text) > MAX_TITLE
    ]


def _block_problems(block: Any, where: str, dataset: Dataset) -> list[str]:
    if not isinstance(block, dict):
        return [f"{where}: must be an object with a type"]
    kind = block.get("type")
    if kind not in BLOCK_TYPES:
        return [f"{where}: unknown block type {kind!r} (known: {', '.join(BLOCK_TYPES)})"]
    sections = {section.id for section in dataset.sections}
    elements = {element.id: element for element in dataset.elements()}
    allowed = {"type", *{"section": ["section"], "diagnosis": ["elements", "title"],
                         "comment": ["element"]}.get(kind, [])}  # fmt: skip
    problems = [f"{where}: {kind} block has no {key!r}" for key in sorted(set(block) - allowed)]
    if kind == "section" and block.get("section") not in sections:
        problems.append(
            f"{where}: section {block.get('section')!r} is not in the dataset "
            f"(its sections: {', '.join(sorted(sections))})"
        )
    if kind == "diagnosis":
        chosen = block.get("elements", [])
        if not isinstance(chosen, list) or not all(isinstance(e, str) for e in chosen):
            problems.append(f"{where}: elements must be a list of element ids")
        else:
            problems += [
                f"{where}: element {e!r} is not in the dataset" for e in chosen if e not in elements
            ]
        problems += _title_problems(block.get("title"), where)
    if kind == "comment":
        element = elements.get(block.get("element", ""))
        if element is None:
            problems.append(f"{where}: element {block.get('element')!r} is not in the dataset")
        elif element.type not in TEXT_TYPES:
            problems.append(f"{where}: element {element.id!r} is not a text element")
    return problems


def _row_blocks(row: Any, where: str, problems: list[str]) -> list[tuple[str, Any]]:
    """The (where, block) pairs of one row; problems of its shape go to ``problems``."""
    if not isinstance(row, dict):
        problems.append(f"{where}: must be an object with columns, or a page break")
        return []
    if row.get("page_break") is True:
        if set(row) != {"page_break"}:
            problems.append(f"{where}: a page break holds nothing else")
        return []
    columns = row.get("columns")
    if set(row) != {"columns"} or not isinstance(columns, list) or not 1 <= len(columns) <= 2:
        problems.append(f"{where}: needs columns: a list of one or two columns of blocks")
        return []
    found = []
    for c, column in enumerate(columns):
        if not isinstance(column, list):
            problems.append(f"{where}.columns[{c}]: must be a list of blocks")
            continue
        found += [(f"{where}.columns[{c}][{b}]", block) for b, block in enumerate(column)]
    return found


def layout_spec_problems(spec: Any, dataset: Dataset) -> list[str]:
    """Every problem of a layout spec against the dataset it lays out, each naming its place
    (``rows[2].columns[1][0]``) and what to fix."""
    if not isinstance(spec, dict):
        return ["layout: must be an object with schema_version and rows"]
    problems = []
    if spec.get("schema_version") != LAYOUT_SPEC_VERSION:
        problems.append(f"layout: schema_version must be {LAYOUT_SPEC_VERSION}")
    problems += [
        f"layout: unknown key {key!r}" for key in sorted(set(spec) - {"schema_version", "rows"})
    ]
    rows = spec.get("rows")
    if not isinstance(rows, list) or len(rows) > MAX_ROWS:
        return [*problems, f"layout: rows must be a list of at most {MAX_ROWS} rows"]
    counts: dict[str, int] = {}
    for r, row in enumerate(rows):
        for where, block in _row_blocks(row, f"layout: rows[{r}]", problems):
            found = _block_problems(block, where, dataset)
            problems += found
            if not found:
                key = block["type"] if block["type"] != "section" else f"section:{block['section']}"
                counts[key] = counts.get(key, 0) + 1
    for kind in REQUIRED_ONCE:
        if counts.get(kind, 0) != 1:
            problems.append(
                f"layout: the {kind} block must appear once ({counts.get(kind, 0)} found)"
            )
    ai_values = counts.get("ai_values", 0)
    if any(element.model_sourced for element in dataset.elements()) and ai_values != 1:
        problems.append(
            f"layout: the ai_values block must appear once ({ai_values} found): the dataset "
            "has model-sourced elements, which print only there"
        )
    elif ai_values > 1:
        problems.append(f"layout: the ai_values block may appear once ({ai_values} found)")
    for section in dataset.sections:
        placed = counts.get(f"section:{section.id}", 0)
        if placed != 1:
            problems.append(
                f"layout: section {section.id!r} ({section.title['en']}) must be placed once "
                f"({placed} found), so that none of its elements is left out of the report"
            )
    return problems


# --- rendering --------------------------------------------------------------------------------


def _literal(value: Any) -> str:
    """A Jinja2 literal for a checked block's value. Strings escape every character that could
    open or close a Jinja2 tag (Jinja2 reads ``\\uXXXX`` escapes in string literals), so a
    title cannot smuggle template code into the layout."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=True)
        return "".join(f"\\u{ord(c):04x}" if c in "{}%#" else c for c in text)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{_literal(k)}: {_literal(v)}" for k, v in sorted(value.items()) if v is not None)
        return "{" + ", ".join(pairs) + "}"
    return "none"


def _block_source(block: dict[str, Any]) -> str:
    return (
        f"{{% with block = {_literal(block)} %}}"
        f'{{% include "blocks/{block["type"]}.html.j2" %}}{{% endwith %}}'
    )


def layout_html_from_spec(spec: dict[str, Any]) -> str:
    """The Jinja2 layout a checked spec stands for (see the module docstring)."""
    parts = ['{% extends "layout/page.html.j2" %}', "{% block body %}"]
    for row in spec["rows"]:
        if row.get("page_break"):
            parts.append('<div class="layout-page-break"></div>')
            continue
        columns = row["columns"]
        parts.append(f'<div class="layout-row layout-cols-{len(columns)}">')
        for column in columns:
            parts.append('<div class="layout-col">')
            parts += [_block_source(block) for block in column]
            parts.append("</div>")
        parts.append("</div>")
    parts.append("{% endblock %}")
    return "\n".join(parts) + "\n"


def effective_layout_html(layout_html: str, layout_spec: dict[str, Any] | None) -> str:
    """What the renderer gets: an expert's custom layout, else the spec's, else "" (the
    generated synoptic layout of ``templates/_base/report.html.j2``)."""
    if layout_html:
        return layout_html
    if layout_spec:
        return layout_html_from_spec(layout_spec)
    return ""
