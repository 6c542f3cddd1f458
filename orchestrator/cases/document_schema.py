"""The case document's JSON Schema (demo/cases/*.json): what ``parse_case_document`` accepts,
stated once for the OpenAPI schema (``CaseDocument``) and for the unknown-key check.

Every object of the document refuses keys it does not name, except ``findings`` (keyed by the
template's element ids) and a specimen's ``data`` (measurements keyed by name). Two rules JSON
Schema cannot state are checked by the parser too: specimen labels are unique within a case,
and a submission's ``upload:<name>`` tiles each name one uploaded file.
"""

from __future__ import annotations

from typing import Any, Final

from orchestrator.cases.models import Case, Priority, Sex, Specimen

# Text the database stores: no NUL character (PostgreSQL refuses it).
NO_NUL: Final = "^[^\\u0000]*$"
# Required text: at least one character that is not white space, and no NUL.
NOT_BLANK: Final = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
# The slide store's names (orchestrator.cases.slides): folder segments of letters, digits,
# '.', '_' and '-', not starting with '.'.
SLIDE_NAME: Final = "[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*"
TILE_URI: Final = f"^(?:slide:{SLIDE_NAME}|(?!slide:)[^\\u0000]+)$"
# A case type is a slug (the Case model's SlugField), as the answers state.
SLUG: Final = "^[-a-zA-Z0-9_]+$"
DATE: Final = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _max(model: Any, field: str) -> int:
    return int(model._meta.get_field(field).max_length)


def _text(
    description: str, *, max_length: int | None = None, required: bool = True
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "string",
        "pattern": NOT_BLANK if required else NO_NUL,
        "description": description,
    }
    if required:
        schema["minLength"] = 1
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


TILE: Final[dict[str, Any]] = {
    "type": "object",
    "description": (
        "a slide or tile reference: sample:<name> (a bundled image), file:<path> below the "
        "tile store, slide:<name> (a whole-slide image in the slide store) or, in a multipart "
        "submission, upload:<file name> (one of the uploaded files)"
    ),
    "properties": {
        "uri": {"type": "string", "minLength": 1, "pattern": TILE_URI},
        "stain": {"type": "string", "pattern": NO_NUL, "description": "e.g. Ki-67 (DAB)"},
        "region": {
            "type": "array",
            "items": {"type": "integer", "minimum": 0},
            "minItems": 4,
            "maxItems": 4,
            "description": "[x, y, width, height] in level-0 pixels",
        },
        "level": {"type": "integer", "minimum": 0, "description": "pyramid level (default 0)"},
    },
    "required": ["uri"],
    "additionalProperties": False,
}

SPECIMEN: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "label": _text("unique within the case, e.g. A", max_length=_max(Specimen, "label")),
        "site": _text("anatomical site", max_length=_max(Specimen, "site")),
        "procedure": _text("procedure", max_length=_max(Specimen, "procedure"), required=False),
        "data": {
            "type": "object",
            "additionalProperties": True,
            "description": "measurements from the order or the lab, keyed by name",
        },
        "tiles": {"type": "array", "items": TILE},
    },
    "required": ["label", "site"],
    "additionalProperties": False,
}

PATIENT: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "name": _text("the patient's name", max_length=_max(Case, "patient_name")),
        "mrn": _text("medical record number", max_length=_max(Case, "patient_mrn")),
        "sex": {"type": "string", "enum": list(Sex.values), "default": Sex.UNKNOWN.value},
        "birth_date": {
            "type": "string",
            "nullable": True,
            "format": "date",
            "pattern": DATE,
            "description": "YYYY-MM-DD",
        },
    },
    "required": ["name", "mrn"],
    "additionalProperties": False,
}

CASE_DOCUMENT: Final[dict[str, Any]] = {
    "type": "object",
    "description": (
        "A case as the LIS orders it (demo/cases/*.json). Unknown keys are refused, except "
        "inside findings and a specimen's data; specimen labels must be unique."
    ),
    "properties": {
        "accession": _text("the case's accession number", max_length=_max(Case, "accession")),
        "case_type": {
            "type": "string",
            "pattern": SLUG,
            "maxLength": _max(Case, "case_type"),
            "description": "the kind of case (a workflow's case type, e.g. breast-fna)",
        },
        "patient": PATIENT,
        "clinical_info": _text("clinical information", required=False),
        "ordering_physician": _text(
            "who ordered the case", max_length=_max(Case, "ordering_physician"), required=False
        ),
        "priority": {
            "type": "string",
            "enum": list(Priority.values),
            "default": Priority.ROUTINE.value,
        },
        "findings": {
            "type": "object",
            "additionalProperties": True,
            "description": "answers the lab has entered, keyed by template element id",
        },
        "specimens": {"type": "array", "items": SPECIMEN, "minItems": 1},
    },
    "required": ["accession", "case_type", "patient", "specimens"],
    "additionalProperties": False,
}


def unknown_keys(value: dict[str, Any], schema: dict[str, Any], where: str = "") -> list[str]:
    """A problem for each key of ``value`` that ``schema`` (an object schema that refuses
    other keys) does not name, prefixed with where it is."""
    known = schema["properties"]
    return [f"{where}{key}: unknown field" for key in value if key not in known]
