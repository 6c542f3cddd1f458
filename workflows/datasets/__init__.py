"""Report datasets: sections of typed elements, validation of filled data, synoptic rows.

(Differences between two versions of a dataset: ``workflows/dataset_diff.py``.)

A dataset is the *what* of a report template version (``dataset.json``)::

    {"schema_version": 1, "slug": "...", "title": {"zh": "...", "en": "..."},
     "sections": [{"id": "...", "title": {...}, "elements": [
        {"id": "tumour_size_mm", "type": "number", "label": {...}, "help": {...},
         "required": true, "unit": "mm", "min": 0, "max": 300, "precision": 0,
         "visible_if": "histologic_type != 'pTis'", "when_hidden": "omit"}, ...]}]}

Element types: ``single_select`` / ``multi_select`` (``answers``: ``system``, ``code``, zh/en
``label``), ``number`` (``unit``, ``min``, ``max``, ``precision`` = decimals allowed), ``text``,
``boolean`` and ``date`` (``YYYY-MM-DD``). Element ids are identifiers, because ``visible_if``
(a sandboxed Jinja2 expression) reads other answers by id; a condition may only read elements
that come *before* it, so conditions never form a cycle and one pass in dataset order decides
every element. ``parse_dataset`` lists every problem of a definition at once.

Filled data (``values``) maps element ids to answers. Validation lists every problem at once,
each naming its element; a draft may leave required elements empty, a report to sign may not.
Conditions see only *valid, applicable* answers: an invalid answer (``"no"`` for a boolean) never
decides whether another element applies. An element whose condition reads an invalid answer is
*undecided*: it is not required, not reported as "does not apply" (the reader fixes the answer it
depends on first) and not printed; so is an element whose condition reads an undecided one. An
answer not given or not applicable decides nothing either: a condition reading one holds only if
it holds whichever way each test of that answer comes out (``b != 'pos'`` and ``not b`` do not
hold while ``b`` is unanswered; ``a == 'x' or b == 'y'`` holds when ``a`` is ``'x'``).

An element may say where its value comes from: ``"source": "pathologist"`` (the default),
``"model"`` or ``"model_confirmed"`` (a model's value a person then accepts), and for a model
output what it ``"measures"`` (``marker``, ``stain``, ``unit``). A required element never has
source ``model``: a report is never incomplete for want of an AI output.

Cross-field rules (``"rules": [...]``: constraint, derived, exclusive, requires) are parsed and
checked in ``rules``; ``findings_problems`` lists violated rules after the element problems,
and ``_overrides`` in filled data records why a pathologist's value differs from a derived one.

Modules: ``model`` (the shapes), ``definition`` (parsing), ``conditions``, ``findings`` (what
applies, each answer's problem), ``rules``, ``problems`` (every problem at once), ``synoptic``.

Synoptic view ("Element: response" rows, in dataset order):
- an applicable element that is filled shows its formatted answer (labels, unit, precision);
- an applicable element left empty shows a dash "—", so the reviewer sees what is missing;
- an element whose ``visible_if`` is false is omitted by default (``"when_hidden": "omit"``),
  which keeps reports short; a template opts in with ``"when_hidden": "not_applicable"`` to print
  "Not applicable / 不适用" instead, for elements a reader expects to see answered either way;
- a section with no rows left is omitted.
"""

from workflows.datasets.definition import definition_problems, parse_dataset
from workflows.datasets.findings import (
    Assessment,
    Dropped,
    assess,
    decimal_places,
    drop_inapplicable_model_values,
    dropped_values,
    visibility,
)
from workflows.datasets.model import (
    DATASET_SCHEMA_VERSION,
    ELEMENT_TYPES,
    LANGUAGES,
    MAX_PRECISION,
    MEASURE_KEYS,
    MODEL_SOURCES,
    NOT_APPLICABLE,
    OVERRIDES,
    RULE_KINDS,
    SELECT_TYPES,
    SLUG_PATTERN,
    SOURCES,
    UNFILLED,
    WHEN_HIDDEN,
    Answer,
    Dataset,
    DatasetInvalid,
    Element,
    ElementType,
    FieldProblem,
    Rule,
    Section,
)
from workflows.datasets.problems import findings_problems
from workflows.datasets.rules import override_problems, override_reasons, with_derived
from workflows.datasets.synoptic import (
    AI_TITLE,
    SynopticRow,
    SynopticSection,
    ai_section,
    display_value,
    synoptic_sections,
    synoptic_text,
)

__all__ = [
    "AI_TITLE",
    "DATASET_SCHEMA_VERSION",
    "ELEMENT_TYPES",
    "LANGUAGES",
    "MAX_PRECISION",
    "MEASURE_KEYS",
    "MODEL_SOURCES",
    "NOT_APPLICABLE",
    "OVERRIDES",
    "RULE_KINDS",
    "SELECT_TYPES",
    "SLUG_PATTERN",
    "SOURCES",
    "UNFILLED",
    "WHEN_HIDDEN",
    "Answer",
    "Assessment",
    "Dataset",
    "DatasetInvalid",
    "Dropped",
    "Element",
    "ElementType",
    "FieldProblem",
    "Rule",
    "Section",
    "SynopticRow",
    "SynopticSection",
    "ai_section",
    "assess",
    "decimal_places",
    "definition_problems",
    "display_value",
    "drop_inapplicable_model_values",
    "dropped_values",
    "findings_problems",
    "override_problems",
    "override_reasons",
    "parse_dataset",
    "synoptic_sections",
    "synoptic_text",
    "visibility",
    "with_derived",
]
