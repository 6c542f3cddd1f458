from __future__ import annotations

import json
from typing import Any

import pytest

from tests.workflows.datasets.support import TEMPLATE, breast_dataset_document
from workflows.datasets import Dataset, parse_dataset


@pytest.fixture(scope="module")
def breast() -> Dataset:
    return parse_dataset(breast_dataset_document())


@pytest.fixture
def sample() -> dict[str, Any]:
    findings: dict[str, Any] = json.loads((TEMPLATE / "sample_findings.json").read_text())
    return findings
