"""Engine-side channel tests: a channel, a destination and a message, against real servers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from workflows.channels import OutboundMessage
from workflows.http import new_client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with new_client() as client:
        yield client


def message(body: bytes = b'{"event":"report.final"}', **changes: str) -> OutboundMessage:
    values = {
        "content_type": "application/json",
        "idempotency_key": "report:7:destination:3",
        "control_id": "PF0123456789ABCDEF01",
        "event": "report.final",
        **changes,
    }
    return OutboundMessage(body=body, **values)
