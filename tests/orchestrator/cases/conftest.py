"""A pyramidal slide in the test slide store, built once per session (a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cases.slide_pyramid import ensure_demo_slide


@pytest.fixture(scope="session")
def demo_slide(_isolated_files: Path) -> str:
    """The demo slide's name (``demo/ihc-ki67.tiff``), written below the test MEDIA_ROOT."""
    return ensure_demo_slide()
