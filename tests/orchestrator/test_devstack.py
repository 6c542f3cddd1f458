"""The process supervisor behind `make demo` and the test fixtures."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from orchestrator import devstack


def test_readiness_ignores_lines_a_previous_start_left_in_the_log(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    log.write_text("celery@host ready.\n")  # from yesterday's demo
    slow = devstack.ManagedProcess(
        "slow worker",
        [
            sys.executable,
            "-c",
            "import time; time.sleep(1); print('celery@host ready.', flush=True); time.sleep(30)",
        ],
        log,
    ).start()
    try:
        started = time.monotonic()
        slow.wait_ready(devstack.log_contains(slow, " ready."), timeout=20)
        assert time.monotonic() - started >= 0.9
    finally:
        slow.stop(grace=2)
    assert not slow.alive
