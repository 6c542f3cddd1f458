"""Run schemathesis (all checks, every phase including the stateful one) against a running
server as one persona, and answer its JSON run report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HOOKS = "tests.orchestrator.schemathesis_hooks"
REPO = Path(__file__).resolve().parents[2]


def config_text(credentials: dict[str, str]) -> str:
    """schemathesis.toml for a persona: its API token, or its session cookie and CSRF header."""
    if "token" in credentials:
        return f'[auth.openapi.apiToken]\nbearer = "{credentials["token"]}"\n'
    return (
        f'headers = {{ "X-CSRFToken" = "{credentials["csrf"]}" }}\n\n'
        f'[auth.openapi.cookieAuth]\napi_key = "{credentials["session"]}"\n'
    )


def run_schemathesis(
    base_url: str,
    persona: str,
    credentials: dict[str, str],
    workdir: Path,
    *,
    max_examples: int,
    workers: int = 1,
    extra: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Run ``st run`` and answer its JSON report plus the text output (``output``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / f"{persona}.toml"
    config.write_text(config_text(credentials))
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
        "--max-examples",
        str(max_examples),
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
