"""Run schemathesis (all checks, every phase including the stateful one) against a running
server as one persona, and answer its JSON run report."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

HOOKS = "tests.orchestrator.schemathesis_hooks"
REPO = Path(__file__).resolve().parents[2]


def config_text(credentials: dict[str, str], phases: str = "") -> str:
    """schemathesis.toml for a persona: its API token, or its session cookie and CSRF header;
    then ``phases`` (TOML tables that configure the phases)."""
    if "token" in credentials:
        auth = f'[auth.openapi.apiToken]\nbearer = "{credentials["token"]}"\n'
    else:
        auth = (
            f'headers = {{ "X-CSRFToken" = "{credentials["csrf"]}" }}\n\n'
            f'[auth.openapi.cookieAuth]\napi_key = "{credentials["session"]}"\n'
        )
    return f"{auth}\n{ACCEPTANCE}\n{phases}"


# Valid data is accepted, or refused for what a schema cannot know: schemathesis' default
# statuses, plus 422 — the body names an object (a destination, a workflow) that does not exist
# in the department (orchestrator.reports.errors).
ACCEPTANCE = (
    "[checks.positive_data_acceptance]\n"
    'expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]\n'
)


# "API Links:    12 covered / 162 selected / 162 total": the stateful phase's link coverage.
_LINKS = re.compile(r"API Links:\s+(\d+) covered / (\d+) selected / (\d+) total")


def links_covered(output: str) -> tuple[int, int]:
    """The links the stateful phase followed and those it could follow (0, 0 without it)."""
    found = _LINKS.findall(output)
    if not found:
        return 0, 0
    covered, selected, _ = found[-1]
    return int(covered), int(selected)


def run_schemathesis(
    base_url: str,
    persona: str,
    credentials: dict[str, str],
    workdir: Path,
    *,
    max_examples: int | None = None,
    workers: int = 1,
    extra: tuple[str, ...] = (),
    phases: str = "",
) -> dict[str, Any]:
    """Run ``st run`` and answer its JSON report plus the text output (``output``).
    Without ``max_examples`` each phase's own (in ``phases``) applies."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / f"{persona}.toml"
    config.write_text(config_text(credentials, phases))
    report = workdir / f"{persona}.json"
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": HOOKS,
        "PATHFLOW_SCHEMA_CSRF": credentials.get("csrf", ""),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "NO_COLOR": "1",
    }
    argv = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        f"{base_url}/api/v1/schema",
        "--checks",
        "all",
        *(("--max-examples", str(max_examples)) if max_examples is not None else ()),
        "--seed",
        "1",
        "--workers",
        str(workers),
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--output-truncate",
        "false",
        *extra,
    ]
    # In the work folder: schemathesis keeps a cache (.schemathesis/) where it runs.
    done = subprocess.run(argv, env=env, cwd=workdir, capture_output=True, text=True, check=False)
    result: dict[str, Any] = json.loads(report.read_text())
    result["output"] = done.stdout + done.stderr
    return result
