"""The schema tells the truth: schemathesis, with every check (status codes, content types,
response schemas, invalid data rejected, valid data accepted, no 5xx, authentication enforced,
resources available after creation and gone after deletion, …) and the stateful phase following
the schema's links (orchestrator.api_links: create → read → update → delete chains), finds no
failure against the running server as each persona — admin, pathologist, another department's
pathologist, clinician and the LIS's integration client with its API token — over a department
with data behind every operation.

The stateful phase follows the links the schema declares only (schemathesis' own inference is
off), and each persona's line prints how many of them it followed (``links=covered/selected``)
and the figure over all personas (``schema_links_covered=``).

``make test`` runs a reduced form (one example per operation for every persona, a short
stateful phase for the admin); the full form (the coverage phase too, more examples, every
persona's stateful phase with longer scenarios) runs with ``PATHFLOW_SOAK=1`` or ``-m soak``,
for some personas only with ``PATHFLOW_SCHEMA_PERSONAS`` (comma-separated).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings

from tests.conftest import PASSWORD
from tests.orchestrator.schema_run import links_covered, run_schemathesis
from tests.orchestrator.schema_world import seed_world

pytestmark = [pytest.mark.django_db(transaction=True)]

# Personas that change least first: an admin's stateful phase disables and deletes things.
PERSONAS = ("outsider", "clinician", "integration", "pathologist", "admin")
# PATHFLOW_SCHEMA_PERSONAS=integration,admin runs only those (a soak of one persona takes
# about 2 minutes against gunicorn); by default every persona.
ORDER = tuple(
    p
    for p in PERSONAS
    if p in os.environ.get("PATHFLOW_SCHEMA_PERSONAS", ",".join(PERSONAS)).split(",")
)
SOAK = os.environ.get("PATHFLOW_SOAK") == "1"


def _phases(examples: int, stateful_examples: int, steps: int) -> str:
    """The phases' TOML: examples per operation, and the stateful phase's scenarios and steps
    over the declared links only."""
    return (
        f"[generation]\nmax-examples = {examples}\n\n"
        f"[phases.stateful]\nmax-steps = {steps}\n\n"
        f"[phases.stateful.generation]\nmax-examples = {stateful_examples}\n\n"
        "[phases.stateful.inference]\nalgorithms = []\n"
    )


FULL = {"phases": _phases(20, 100, 12), "extra": ()}
# Reduced: one example per operation for every persona, and a short stateful phase for the
# admin, who can create, read, change and delete the most (the soak runs every persona's).
REDUCED = {"phases": _phases(1, 12, 10), "extra": ("--phases", "examples,fuzzing")}
REDUCED_STATEFUL = {**REDUCED, "extra": ("--phases", "examples,fuzzing,stateful")}
STATEFUL_IN_REDUCED = ("admin",)


def _failures(report: dict[str, Any]) -> int:
    return sum(int(f["count"]) for f in report["failures"]) + len(report["errors"])


def _run(
    base_url: str, tmp_path: Path, persona: str, credentials: dict[str, str], soak: bool
) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    options: dict[str, Any] = (
        FULL if soak else REDUCED_STATEFUL if persona in STATEFUL_IN_REDUCED else REDUCED
    )
    report = run_schemathesis(
        # One worker: schemathesis' threads can trip CPython 3.11's parser ("AST constructor
        # recursion depth mismatch"), an error of the tool, not of the API.
        base_url,
        persona,
        credentials,
        tmp_path,
        workers=1,
        **options,
    )
    (tmp_path / f"{persona}.out").write_text(report["output"])
    return report, time.monotonic() - started


def _assert_signed_in(base_url: str, persona: str, credentials: dict[str, str]) -> None:
    """The server takes the persona's credentials: a persona refused everywhere would pass
    every check while testing nothing but refusals."""
    if "token" in credentials:
        headers = {"Authorization": f"Bearer {credentials['token']}"}
        answer = httpx.get(f"{base_url}/api/v1/integration/cases/", headers=headers)
    else:
        cookies = {settings.SESSION_COOKIE_NAME: credentials["session"]}
        answer = httpx.get(f"{base_url}/api/v1/me", cookies=cookies)
    assert answer.status_code == 200, (persona, answer.status_code, answer.text[:300])


def _check(base_url: str, tmp_path: Path, *, soak: bool) -> None:
    credentials = seed_world(PASSWORD, "http://127.0.0.1:9")
    summary, outputs = [], []
    selected = 0
    for persona in ORDER:
        _assert_signed_in(base_url, persona, credentials[persona])
        report, seconds = _run(base_url, tmp_path, persona, credentials[persona], soak)
        failures = _failures(report)
        covered, links = links_covered(report["output"])
        selected = max(selected, links)
        print(
            f"schema_conformance persona={persona} operations={report['operations']['tested']}"
            f" examples={report['test_cases']['generated']} links={covered}/{links}"
            f" failures={failures} seconds={seconds:.0f}"
        )
        summary.append((persona, failures, report, covered))
        if failures:
            output = report["output"]
            start = output.find("=== FAILURES ===")
            outputs.append(output[start if start >= 0 else 0 :][:20000])
    best = max(covered for *_, covered in summary)
    print(f"schema_links_covered={best}/{selected} (the most links one persona's phase followed)")
    failed = {persona: failures for persona, failures, *_ in summary if failures}
    assert failed == {}, "\n".join(outputs)
    for persona, _, report, _ in summary:
        assert report["operations"]["tested"] > 0, f"{persona} tested no operation"
    assert selected > 100, "the schema declares its links (orchestrator.api_links)"
    assert best > 0, "the stateful phase followed no link"


def test_schemathesis_finds_no_failure_for_any_persona(web_server: str, tmp_path: Path) -> None:
    _check(web_server, tmp_path, soak=SOAK)


@pytest.mark.soak
def test_schemathesis_soak_finds_no_failure_for_any_persona(
    web_server: str, tmp_path: Path
) -> None:
    _check(web_server, tmp_path, soak=True)
