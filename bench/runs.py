"""`--runs N` for the bench scripts: the whole script run N times, each in a fresh process (its
own temporary database, worker and renderer child), and every figure's median over the runs
printed under its own name, after each run's lines (prefixed ``run<i>_``).

Each run still measures both sides of its ratios itself, in one run; the median is taken of
the ratios the runs printed, never recomputed from medians of their parts.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path


def _figures(output: str) -> dict[str, float]:
    figures: dict[str, float] = {}
    for line in output.splitlines():
        name, sep, value = line.partition("=")
        if not sep:
            continue
        try:
            figures[name.strip()] = float(value)
        except ValueError:
            continue
    return figures


def median_of_runs(script: Path, runs: int, argv: list[str]) -> None:
    """Run ``script`` with ``argv`` ``runs`` times and print the medians (see the module)."""
    results: list[dict[str, float]] = []
    for index in range(1, runs + 1):
        done = subprocess.run(
            [sys.executable, str(script), *argv], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
            sys.exit(f"run {index} of {script.name} failed (exit {done.returncode})")
        figures = _figures(done.stdout)
        results.append(figures)
        for name, value in figures.items():
            print(f"run{index}_{name}={value:g}", flush=True)
    names = [name for name in results[0] if all(name in r for r in results)]
    print(f"runs={runs}")
    for name in names:
        print(f"{name}={statistics.median(r[name] for r in results):g}")
