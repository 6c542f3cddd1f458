"""Schemathesis hooks for the schema conformance run (loaded through SCHEMATHESIS_HOOKS).

A session persona's unsafe requests need Django's CSRF cookie beside the session cookie that
schemathesis sends as the ``cookieAuth`` scheme; the matching header is in the config."""

from __future__ import annotations

import os
from typing import Any

import schemathesis


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    csrf = os.environ.get("PATHFLOW_SCHEMA_CSRF", "")
    if csrf:
        case.cookies = {**(case.cookies or {}), "csrftoken": csrf}
