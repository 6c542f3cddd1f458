"""Guarantee: every message the MLLP listener acknowledged is stored, byte for byte and once,
however often the listener process is killed (SIGKILL) mid-load. The sender resends what was
not acknowledged to the next listener (as a LIS does); a resend of a message stored before the
kill is answered again from its first row, not stored twice.

Reduced form: 3 kills during 1,000 messages. Full form (PATHFLOW_SOAK=1): 10 kills during
10,000."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from orchestrator.demo_data import DemoData
from orchestrator.integrations.models import InboundMessage
from tests.orchestrator.integrations.conftest import (  # noqa: F401 - fixtures
    Running,
    listener_factory,
    order,
    routed,
    send_acknowledged,
)

soak = pytest.mark.soak  # the full form: `make soak` (deselected otherwise, see tests/conftest.py)


def kill_during_load(
    start: Callable[..., Running], messages: int, kills: int, prefix: str
) -> dict[str, bytes]:
    """Send ``messages`` orders, SIGKILLing the listener ``kills`` times at even intervals of
    acknowledgements and resending the unacknowledged to a new one; returns the frames sent."""
    frames = {
        f"{prefix}{n}": order(f"{prefix}{n}", accession=f"S-{prefix}{n}", mrn=f"MRN-{n}")
        for n in range(messages)
    }
    acknowledged: set[str] = set()
    every = messages // (kills + 1)
    for round_no in range(kills + 1):
        running = start()
        remaining = {cid: frame for cid, frame in frames.items() if cid not in acknowledged}
        kill_at = every if round_no < kills else None

        def kill_mid_load(count: int, running: Running = running, at: int | None = kill_at) -> None:
            if at is not None and count == at:
                running.process.kill()  # SIGKILL, with frames in flight on every connection

        acked = send_acknowledged(running.port, remaining, on_ack=kill_mid_load)
        acknowledged |= acked
        if round_no < kills:
            assert not running.process.alive, "the listener outlived its SIGKILL"
            assert len(acked) < len(remaining), "the kill came after the last message"
        running.process.stop()
    assert acknowledged == set(frames), "the last listener did not acknowledge the rest"
    return frames


def assert_stored_once(frames: dict[str, bytes], kills: int) -> None:
    rows = list(InboundMessage.objects.values_list("control_id", "raw"))
    counts = Counter(cid for cid, _raw in rows)
    duplicated = sum(1 for n in counts.values() if n > 1)
    lost = len(set(frames) - set(counts))
    altered = sum(1 for cid, raw in rows if bytes(raw) != frames.get(cid))
    print(f"mllp_kills={kills}")
    print(f"mllp_messages_acknowledged={len(frames)}")
    print(f"mllp_acknowledged_lost={lost}")
    print(f"mllp_stored_twice={duplicated}")
    print(f"mllp_stored_altered={altered}")
    assert (lost, duplicated, altered) == (0, 0, 0)
    assert len(rows) == len(frames)


def test_killed_3_times_during_1000_messages_every_ack_is_stored_once(
    routed: DemoData,  # noqa: F811
    listener_factory: Callable[..., Running],  # noqa: F811
) -> None:
    frames = kill_during_load(listener_factory, 1000, 3, "K")
    assert_stored_once(frames, 3)


@soak
@pytest.mark.timeout(3600)
def test_soak_killed_10_times_during_10000_messages_every_ack_is_stored_once(
    routed: DemoData,  # noqa: F811
    listener_factory: Callable[..., Running],  # noqa: F811
) -> None:
    frames = kill_during_load(listener_factory, 10_000, 10, "Q")
    assert_stored_once(frames, 10)
