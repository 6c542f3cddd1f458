"""MLLP ingestion benchmark: orders in, each stored and committed before its ACK.

Prints `name=value` lines:
  mllp_msgs_per_s         sustained ORM^O01 ingestion: messages acknowledged AA per second by a
                          real `manage.py mllp_listener` process, over --connections (8) concurrent
                          MLLP connections each sending its next order when the last ACK came
                          (python-hl7's client); goal >= 500
  mllp_ack_p99_ms         99th percentile of send → ACK received over those messages; goal <= 50
  mllp_ack_p50_ms         median of the same
  mllp_single_msgs_per_s  the same with one connection (what one LIS interface gets)
  mllp_single_ack_p99_ms
  mllp_cases_per_s        acknowledged orders made into cases with a queued run per second by
                          the listener's processor, from the first ACK until the last case
  mllp_listener_cpu_ms_per_msg  CPU time (user + system) of the listener process per message
                          of the concurrent phase, its processor's work during it included:
                          what the machine's load cannot hide

  load_avg_1m             the machine's 1-minute load average when the concurrent phase ended
                          (the figures above depend on it: they are CPU-bound)

Everything runs against a fresh SQLite database (WAL; the listener's default
PATHFLOW_MLLP_SQLITE_SYNCHRONOUS=NORMAL: each commit is in the WAL file before its ACK, so it
survives a kill of the listener; set FULL to sync every commit to disk) and an embedded Redis
in a temporary PATHFLOW_VAR_DIR, with the demo department, workflow and routing rule. Every
order is checked afterwards: stored once, answered AA, raw bytes identical.

Usage: .venv/bin/python bench/mllp.py [--messages N] [--connections C]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")

ORDER = (
    "MSH|^~\\&|LIS|HOSPITAL|PATHFLOW|PATHOLOGY|20260301120000||ORM^O01^ORM_O01|{cid}|P|2.5.1"
    "||||||UNICODE UTF-8\r"
    "PID|1||MRN{n:07d}^^^HOSPITAL^MR||张^三{n}||19710602|F\r"
    "PV1|1|O|PATH^^^HOSPITAL\r"
    "ORC|NW|PL{n}|B{n:07d}||||||20260301115900|||^王^医生\r"
    "OBR|1|PL{n}|B{n:07d}|BREAST^Breast excision|||20260301110000||||||左乳肿物|"
    "^^^LB&Left breast\r"
    "OBX|1|NM|fna_features||{features}\r"
    "OBX|2|RP|ki67^Ki-67 (DAB)||sample:immunohistochemistry\r"
)
FEATURES = "~".join(["1.25"] * 30)


def order(n: int, run: str) -> bytes:
    return ORDER.format(cid=f"{run}-{n}", n=n, features=FEATURES).encode("utf-8")


async def _connection(port: int, frames: list[bytes], latencies: list[float]) -> list[str]:
    from hl7.mllp import open_hl7_connection

    reader, writer = await open_hl7_connection("127.0.0.1", port)
    codes = []
    try:
        for frame in frames:
            sent = time.perf_counter()
            writer.writeblock(frame)
            await writer.drain()
            ack: bytes = await reader.readblock()
            latencies.append(time.perf_counter() - sent)
            codes.append(ack.split(b"\rMSA|", 1)[1][:2].decode())
    finally:
        writer.close()
    return codes


async def _send(port: int, frames: list[bytes], connections: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    shares = [frames[i::connections] for i in range(connections)]
    started = time.perf_counter()
    results = await asyncio.gather(*(_connection(port, s, latencies) for s in shares))
    elapsed = time.perf_counter() - started
    codes = [c for r in results for c in r]
    if codes.count("AA") != len(frames):
        sys.exit(f"expected {len(frames)} AA, got {sorted(set(codes))}")
    return elapsed, latencies


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_processed() -> None:
    from orchestrator.integrations.models import InboundMessage

    deadline = time.monotonic() + 900
    while InboundMessage.objects.filter(status="received").exists():
        if time.monotonic() > deadline:
            sys.exit("the processor did not make every case within 900 s")
        time.sleep(0.2)


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def measure(messages: int, connections: int) -> dict[str, float]:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from orchestrator import devstack
    from orchestrator.demo_data import load_demo_data
    from orchestrator.integrations.models import InboundMessage

    call_command("migrate", verbosity=0)
    load_demo_data("bench-password", "http://127.0.0.1:9")  # with its rule: BREAST orders
    logs = settings.VAR_DIR / "logs"
    broker = devstack.start_embedded_broker(settings.EMBEDDED_BROKER_SOCKET, logs)
    listener, port = devstack.start_mllp_listener(0, logs)
    try:
        asyncio.run(_send(port, [order(i, "warm") for i in range(50)], 1))  # warm-up
        single = [order(i, "one") for i in range(min(1000, messages))]
        single_s, single_lat = asyncio.run(_send(port, single, 1))
        _wait_processed()
        frames = [order(i, "many") for i in range(messages)]
        pid = listener.process.pid if listener.process else 0
        cpu_before = _cpu_seconds(pid)
        first_ack = time.monotonic()
        elapsed, latencies = asyncio.run(_send(port, frames, connections))
        cpu = _cpu_seconds(pid) - cpu_before
        load = os.getloadavg()[0]
        _wait_processed()
        cases_s = time.monotonic() - first_ack
        stored = InboundMessage.objects.filter(control_id__startswith="many-")
        if stored.count() != messages or stored.exclude(status="processed").exists():
            sys.exit("not every order was stored once and processed")
        sample = stored.order_by("?").first()
        assert sample is not None
        if bytes(sample.raw) != order(int(sample.control_id.split("-")[1]), "many"):
            sys.exit("a stored message differs from the bytes sent")
    finally:
        listener.stop()
        broker.stop()
    return {
        "mllp_msgs_per_s": messages / elapsed,
        "mllp_ack_p99_ms": _p(latencies, 0.99),
        "mllp_ack_p50_ms": statistics.median(latencies) * 1000,
        "mllp_single_msgs_per_s": len(single) / single_s,
        "mllp_single_ack_p99_ms": _p(single_lat, 0.99),
        "mllp_cases_per_s": messages / cases_s,
        "mllp_listener_cpu_ms_per_msg": cpu / messages * 1000,
        "load_avg_1m": load,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pathflow-bench-mllp-") as var_dir:
        os.environ["PATHFLOW_VAR_DIR"] = var_dir
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("CELERY_BROKER_URL", None)
        os.environ.setdefault("PATHFLOW_LOG_LEVEL", "WARNING")
        figures = measure(args.messages, args.connections)
    for name, value in figures.items():
        print(f"{name}={value:.1f}")


if __name__ == "__main__":
    main()
