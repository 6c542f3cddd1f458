"""What the listener acknowledged is never lost: a listener process killed with SIGKILL in the
middle of a burst has stored every message it acknowledged, and a new listener turns the ones
it had not processed yet into cases."""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.cases.models import Case
from orchestrator.demo_data import DemoData
from orchestrator.integrations.models import InboundMessage
from tests.orchestrator.integrations.conftest import (
    Running,
    exchange,
    order,
    send_acknowledged,
    wait_processed,
)

MESSAGES = 1000
CONNECTIONS = 4
KILL_AFTER = 300


def test_a_killed_listener_loses_no_acknowledged_message(
    routed: DemoData, listener_factory: Callable[..., Running]
) -> None:
    frames = {f"K{n}": order(f"K{n}", accession=f"S-K{n}", mrn=f"MRN-{n}") for n in range(MESSAGES)}
    first = listener_factory()

    def kill_mid_burst(count: int) -> None:
        if count == KILL_AFTER:
            first.process.kill()  # SIGKILL, mid-burst

    acknowledged = send_acknowledged(
        first.port, frames, connections=CONNECTIONS, on_ack=kill_mid_burst
    )

    assert not first.process.alive
    assert KILL_AFTER <= len(acknowledged) < MESSAGES
    stored = dict(InboundMessage.objects.values_list("control_id", "raw"))
    assert acknowledged <= set(stored)
    assert all(bytes(stored[cid]) == frames[cid] for cid in acknowledged)

    # A new listener makes the cases of what was acknowledged, then takes the resends.
    second = listener_factory()
    wait_processed(len(acknowledged), timeout=300)
    assert set(
        Case.objects.filter(accession__in=[f"S-{cid}" for cid in acknowledged]).values_list(
            "accession", flat=True
        )
    ) == {f"S-{cid}" for cid in acknowledged}
    missing = [frames[cid] for cid in frames if cid not in acknowledged]
    answers = exchange(second.port, *missing)
    assert all(a is not None and b"MSA|AA|" in a for a in answers)
    wait_processed(MESSAGES, timeout=300)
    assert InboundMessage.objects.count() == MESSAGES
    assert Case.objects.count() == MESSAGES
