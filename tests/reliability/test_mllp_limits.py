"""Guarantee: hostile or broken senders cannot exhaust the MLLP listener. While oversized
frames, slow senders (a byte every 100 ms) and many idle connections are connected, the
listener's memory stays bounded and a valid order is still acknowledged in under 1 s.

What makes it hold are the listener's own limits, left at their defaults here
(orchestrator/integrations/hl7/listener.py): a frame over ``MLLP_MAX_FRAME_BYTES`` (1 MiB) is
answered AR and its connection closed; a frame not ended within ``MLLP_READ_TIMEOUT_S`` is cut
off; at ``MLLP_MAX_CONNECTIONS`` (32) a newcomer closes the quietest open connection (idle ones
first). asyncio stops reading a connection whose buffer passes twice the frame limit, so each
connection holds at most 2 MiB of buffer plus the 1 MiB head of an oversized frame being
stored: the memory bound is 32 × 3 MiB + 16 MiB for the objects of each connection and
stored row, whatever the number of connections tried.

Reduced form: 100 idle connections, 8 slow senders, 6 oversized frames. Full form
(PATHFLOW_SOAK=1): 500 idle connections, 20 slow senders, 20 oversized frames, for longer."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hl7.mllp import open_hl7_connection

from orchestrator.demo_data import DemoData
from tests.orchestrator.integrations.conftest import (  # noqa: F401 - fixtures
    Running,
    exchange,
    listener_factory,
    order,
    routed,
)

soak = pytest.mark.soak  # the full form: `make soak` (deselected otherwise, see tests/conftest.py)
MIB = 1024 * 1024
MAX_CONNECTIONS, MAX_FRAME = 32, MIB  # the listener's defaults (orchestrator/settings.py)
RSS_BOUND = MAX_CONNECTIONS * 3 * MAX_FRAME + 16 * MIB
VT, FS_CR = b"\x0b", b"\x1c\r"


def rss(pid: int) -> int:
    """The process's resident set size in bytes, from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


@dataclass
class Attack:
    idle: int
    slow: int
    oversized: int
    seconds: float


@dataclass
class Outcome:
    ack_seconds: list[float]
    peak_growth: int
    oversized_answers: list[bytes]


async def _attack(port: int, pid: int, attack: Attack, valid: list[bytes]) -> Outcome:
    baseline = rss(pid)
    peak = baseline
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, rss(pid))
            await asyncio.sleep(0.05)

    async def slow_sender(n: int) -> None:
        with contextlib.suppress(ConnectionError):
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            data = VT + order(f"SLOW{n}")
            for byte in data:
                if stop.is_set():
                    break
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.1)
            writer.close()

    async def oversized_sender(n: int) -> bytes:
        huge = order(f"BIG{n}", extra=(f"NTE|1||{'x' * (3 * MAX_FRAME)}",))
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(VT + huge + FS_CR)
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(65536), 30)
            writer.close()
            return answer
        except ConnectionError:
            return b""  # closed while the rest of the frame was still being written

    async def timed_order(frame: bytes) -> float:
        started = time.monotonic()
        reader, writer = await open_hl7_connection("127.0.0.1", port)
        writer.writeblock(frame)
        await writer.drain()
        ack: bytes = await asyncio.wait_for(reader.readblock(), 10)
        elapsed = time.monotonic() - started
        writer.close()
        assert b"MSA|AA|" in ack, ack
        return elapsed

    sampler = asyncio.create_task(sample())
    idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(attack.idle)]
    slow = [asyncio.create_task(slow_sender(n)) for n in range(attack.slow)]
    oversized = [asyncio.create_task(oversized_sender(n)) for n in range(attack.oversized)]
    ack_seconds = []
    deadline = time.monotonic() + attack.seconds
    for frame in valid:
        await asyncio.sleep(max(0.0, (deadline - time.monotonic()) / (len(valid) + 1)))
        ack_seconds.append(await timed_order(frame))
    answers = await asyncio.gather(*oversized)
    stop.set()
    await asyncio.gather(sampler, *slow)
    for _reader, writer in idle:
        writer.close()
    return Outcome(ack_seconds, peak - baseline, answers)


def check_bounded(start: Callable[..., Running], attack: Attack, prefix: str) -> None:
    running = start()
    assert running.process.process is not None
    pid = running.process.process.pid
    # Warm up: the first order loads what every later one uses.
    assert b"MSA|AA|" in (exchange(running.port, order(f"{prefix}W"))[0] or b"")
    valid = [order(f"{prefix}{n}") for n in range(5)]

    outcome = asyncio.run(_attack(running.port, pid, attack, valid))

    print(f"mllp_idle_connections={attack.idle}")
    print(f"mllp_slow_senders={attack.slow}")
    print(f"mllp_oversized_frames={attack.oversized}")
    print(f"mllp_ack_max_s={max(outcome.ack_seconds):.3f}")
    print(f"mllp_rss_growth_mib={outcome.peak_growth / MIB:.1f}")
    print(f"mllp_rss_bound_mib={RSS_BOUND / MIB:.0f}")
    assert running.process.alive
    assert max(outcome.ack_seconds) < 1.0
    assert outcome.peak_growth < RSS_BOUND
    # Each oversized frame got an AR naming the limit, or was closed while being written.
    for answer in outcome.oversized_answers:
        assert answer == b"" or (b"MSA|AR|" in answer and b"larger than" in answer), answer[:300]
    # And the listener answers as before once they are gone.
    assert b"MSA|AA|" in (exchange(running.port, order(f"{prefix}A"))[0] or b"")


def test_idle_slow_and_oversized_senders_leave_memory_bounded_and_acks_quick(
    routed: DemoData,  # noqa: F811
    listener_factory: Callable[..., Running],  # noqa: F811
) -> None:
    check_bounded(listener_factory, Attack(idle=100, slow=8, oversized=6, seconds=4), "LIM")


@soak
@pytest.mark.timeout(1200)
def test_soak_500_idle_connections_leave_memory_bounded_and_acks_quick(
    routed: DemoData,  # noqa: F811
    listener_factory: Callable[..., Running],  # noqa: F811
) -> None:
    check_bounded(listener_factory, Attack(idle=500, slow=20, oversized=20, seconds=30), "LIS")
