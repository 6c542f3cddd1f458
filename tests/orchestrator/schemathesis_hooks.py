"""Schemathesis hooks for the schema conformance run (loaded through SCHEMATHESIS_HOOKS).

A session persona's unsafe requests need Django's CSRF cookie beside the session cookie that
schemathesis sends as the ``cookieAuth`` scheme; the matching header is in the config.

A case submission has two rules that JSON Schema cannot state and that its schema describes in
words (orchestrator.cases.document_schema): specimen labels are unique within a case, and every
``upload:<name>`` tile names one uploaded file (and every file is named). A request that
schemathesis generates as valid is made to keep them: its labels made unique, its upload
tiles pointed at the bundled sample image and its files left out (tests/orchestrator/
integrations cover uploads)."""

from __future__ import annotations

import os
from typing import Any

import schemathesis

SUBMIT = "/api/v1/integration/cases/submit"
SAMPLE_TILE = "sample:immunohistochemistry"


def _keep_cross_field_rules(body: dict[str, Any]) -> None:
    body.pop("files", None)
    document = body.get("document", body)
    specimens = document.get("specimens") if isinstance(document, dict) else None
    if not isinstance(specimens, list):
        return
    labels = [s.get("label") for s in specimens if isinstance(s, dict)]
    if len(set(map(str, labels))) != len(labels):
        for index, specimen in enumerate(specimens):
            if isinstance(specimen, dict):
                specimen["label"] = f"S{index}"
    for specimen in specimens:
        for tile in specimen.get("tiles") or [] if isinstance(specimen, dict) else []:
            if isinstance(tile, dict) and str(tile.get("uri", "")).startswith("upload:"):
                tile["uri"] = SAMPLE_TILE


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    csrf = os.environ.get("PATHFLOW_SCHEMA_CSRF", "")
    if csrf:
        case.cookies = {**(case.cookies or {}), "csrftoken": csrf}
    meta = getattr(case, "meta", None)
    positive = meta is not None and meta.generation.mode.is_positive
    if case.path == SUBMIT and positive and isinstance(case.body, dict):
        _keep_cross_field_rules(case.body)
