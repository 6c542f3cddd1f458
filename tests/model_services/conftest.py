"""Fixtures for the model-service tests; the server itself is the session's shared one."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ModelServices


@pytest.fixture(scope="session")
def client(model_services: ModelServices) -> Iterator[httpx.Client]:
    """HTTP client bound to the session server; IHC tiles can take a second to analyse."""
    with httpx.Client(base_url=model_services.url, timeout=30.0) as http:
        yield http
