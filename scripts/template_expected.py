"""Write a library template's expected rendered text from its dataset and sample findings.

Usage: .venv/bin/python scripts/template_expected.py templates/<slug> [...]
Writes expected_zh.txt and expected_en.txt next to dataset.json; the library test checks that
the rendered report still says exactly this (review the diff before committing a change).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workflows.datasets import LANGUAGES, findings_problems, parse_dataset, synoptic_text


def write_expected(folder: Path) -> None:
    dataset = parse_dataset(json.loads((folder / "dataset.json").read_text(encoding="utf-8")))
    values = json.loads((folder / "sample_findings.json").read_text(encoding="utf-8"))
    problems = findings_problems(dataset, values, complete=True)
    if problems:
        listed = "\n".join(map(str, problems))
        sys.exit(f"{folder}: the sample findings do not validate:\n{listed}")
    for language in LANGUAGES:
        (folder / f"expected_{language}.txt").write_text(
            synoptic_text(dataset, values, language), encoding="utf-8"
        )


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        write_expected(Path(argument))
