"""Scale-out benchmark: the same load through 1 and then 2 worker processes per queue.

Prints `name=value` lines:
  cases               cases per configuration (--cases)
  model_ms            latency of the model server's answer (--model-ms)
  throughput_1        cases per second, one worker process on each of the run, render and
                      delivery queues (3 processes): first run queued → last ORU received
  throughput_2        the same with two worker processes on each queue (6 processes)
  scale_ratio         throughput_2 / throughput_1; goal ≥ 1.8
  lost                cases of the measured configurations whose run did not succeed or
                      whose ORU never reached the receiving LIS; goal 0
  duplicated          ORUs the LIS received more than once, plus reports rendered more than
                      once for a run; goal 0
  cpu_s_per_case_N    CPU seconds the N-process configuration's workers (their renderer
                      children included) spent per case, from /proc: what each case costs
  busy_cores_N        those CPU seconds per second of the measurement: how much of the
                      machine's cores the workers used (the database, the broker and this
                      process, which plays the LIS and the model server, come on top)

The load is the demo breast FNA workflow with a deliver node: one model call to a model server
that answers after --model-ms (a GPU inference server on another machine: the worker waits, it
does not compute), the transform, the report rendered on the render queue (CPU in the render
worker's renderer process) and an HL7 ORU delivered over MLLP to a receiver in this process that
acknowledges every message. All runs of a configuration are queued at once, after a warm-up.

It runs against PostgreSQL and Redis as a multi-machine deployment would, on this machine:
database `pathflow_scale_bench` at 127.0.0.1:5432 (user postgres, trust; dropped and created
afresh) and Redis 127.0.0.1:6379 db 13 (flushed), overridable with --database-url and
--broker-url. Runs, renders and deliveries each have a queue of their own (PATHFLOW_RENDER_QUEUE
set), and each worker process is a Celery worker with one pool process consuming one queue.

Usage: .venv/bin/python bench/scale.py [--cases N] [--workers 1,2] [--model-ms MS]
With a single --workers value (e.g. `--cases 10000 --workers 2`) only lost= and throughput are
printed: the loss check over a long load.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pathflow_scale_bench"
BROKER_URL = "redis://127.0.0.1:6379/13"
QUEUES = {"runs": "scale-runs", "render": "scale-render", "delivery": "scale-delivery"}
WARMUP_PER_WORKER = 3
# Waiting for the last case gives up after this long without one finishing.
STALL_S = 180.0
MODEL_S = 0.3


def fresh_database(url: str) -> None:
    """Drop and create the benchmark's database (only that one)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def flush_broker(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def delivering_graph() -> dict[str, Any]:
    """The demo FNA workflow up to its draft (without the sign-out review, where a real run
    parks for the pathologist), its report delivered to the LIS as an HL7 ORU."""
    from orchestrator.demo_data import drafting_graph, with_delivery, workflow_file

    return with_delivery(
        drafting_graph(workflow_file("breast-fna-cytology")["graph"]), "hl7_mllp", "lis"
    )


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of ``pids`` and their descendants (living ones, and the reaped
    children they waited for), from /proc."""
    from tests.faults import children

    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    seen: set[int] = set()
    stack = list(pids)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime: fields 14-17 of stat (index 11-14 after the name).
        total += sum(int(v) for v in fields[11:15]) / tick
        stack.extend(children(pid))
    return total


@dataclass
class Measured:
    workers: int
    cases: int
    seconds: float
    cpu_s: float
    lost: int
    duplicated: int

    @property
    def throughput(self) -> float:
        return self.cases / self.seconds


class Load:
    def __init__(self, receiver: Any, version: Any, department: Any, logs: Path) -> None:
        self.receiver = receiver
        self.version = version
        self.department = department
        self.logs = logs
        self.serial = 0

    def received(self) -> int:
        """Messages the LIS has acknowledged so far (cheap: no parsing)."""
        with self.receiver._lock:
            return len(self.receiver.messages)

    def new_runs(self, count: int) -> list[int]:
        """``count`` cases, each with a run created but not queued yet."""
        from orchestrator.cases.services import create_case
        from orchestrator.demo_data import DEMO_DIR
        from orchestrator.runs.services import start_run

        document = json.loads((DEMO_DIR / "cases" / "breast-fna-malignant.json").read_text())
        ids = []
        for _ in range(count):
            self.serial += 1
            case = create_case(self.department, {**document, "accession": f"B26-{self.serial:06d}"})
            ids.append(start_run(case, self.version, enqueue=False).pk)
        return ids

    def through(self, run_ids: list[int]) -> tuple[float, int, int]:
        """Queue the runs; wait until each case's ORU reached the LIS (or nothing moved for
        STALL_S). Returns (seconds from the first queued to the last received, lost,
        duplicated)."""
        from orchestrator.integrations.outbox_models import Delivery
        from orchestrator.reports.models import Report
        from orchestrator.runs.models import Run, RunStatus
        from orchestrator.runs.services import hand_to_worker

        before = self.received()
        started = time.monotonic()
        for run_id in run_ids:
            hand_to_worker(run_id)
        last, seen = started, before
        while True:
            received = self.received()
            if received != seen:
                last, seen = time.monotonic(), received
            if received - before >= len(run_ids) or time.monotonic() - last > STALL_S:
                break
            time.sleep(0.1)
        elapsed = last - started
        ids = set(Delivery.objects.filter(run_id__in=run_ids).values_list("control_id", flat=True))
        arrived = self.receiver.received_ids()
        got = [i for i in arrived[before:] if i in ids]
        succeeded = Run.objects.filter(pk__in=run_ids, status=RunStatus.SUCCEEDED).count()
        lost = max(len(run_ids) - succeeded, len(run_ids) - len(set(got)))
        reports = Report.objects.filter(run_id__in=run_ids).count()
        duplicated = len(got) - len(set(got)) + max(0, reports - len(run_ids))
        return elapsed, lost, duplicated

    def measure(self, workers: int, cases: int, env: dict[str, str]) -> Measured:
        from orchestrator import devstack

        print(f"# {workers} worker process(es) per queue: starting", file=sys.stderr, flush=True)
        started = []
        try:
            for role, queue in QUEUES.items():
                for n in range(workers):
                    started.append(
                        devstack.start_worker(
                            self.logs,
                            name=f"{role}{workers}-{n}",
                            concurrency=1,
                            env=env,
                            queues=[queue],
                        )
                    )
            # Warm-up: imports, renderer processes and fonts, connections, in every process.
            self.through(self.new_runs(WARMUP_PER_WORKER * workers))
            run_ids = self.new_runs(cases)
            pids = [p.process.pid for p in started if p.process is not None]
            cpu_before = cpu_seconds(pids)
            print(f"# {workers}: {cases} cases queued", file=sys.stderr, flush=True)
            seconds, lost, duplicated = self.through(run_ids)
            cpu = cpu_seconds(pids) - cpu_before
        finally:
            for process in started:
                process.stop()
        return Measured(workers, cases, seconds, cpu, lost, duplicated)


def run(cases: int, counts: list[int], var_dir: Path, database: str, broker: str) -> None:
    import django

    env = {
        "DATABASE_URL": database,
        "CELERY_BROKER_URL": broker,
        "PATHFLOW_VAR_DIR": str(var_dir),
        "PATHFLOW_TASK_QUEUE": QUEUES["runs"],
        "PATHFLOW_RENDER_QUEUE": QUEUES["render"],
        "PATHFLOW_DELIVERY_QUEUE": QUEUES["delivery"],
        "PATHFLOW_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    os.environ.pop("PATHFLOW_MEDIA_ROOT", None)
    fresh_database(database)
    flush_broker(broker)
    django.setup()
    from django.core.management import call_command

    from orchestrator.catalog.models import ModelEndpoint
    from orchestrator.demo_data import load_demo_data
    from orchestrator.designs.services import import_workflow
    from tests.mllp import MllpReceiver

    call_command("migrate", verbosity=0)
    logs = var_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    from oip_server import model_server  # bench/oip_server.py, beside this script

    with model_server(lambda model: MODEL_S) as url, MllpReceiver() as receiver:
        data = load_demo_data("bench-password", url)
        ModelEndpoint.objects.create(
            department=data.department,
            slug="lis",
            name="LIS",
            protocol="hl7_mllp",
            base_url=receiver.address,
            timeout_s=30,
        )
        version = import_workflow(
            data.department,
            delivering_graph(),
            data.fna_workflow_version.template_version,
            slug="fna-to-lis",
            case_type="breast-fna",
        )
        load = Load(receiver, version, data.department, logs)
        results = [load.measure(n, cases, env) for n in counts]
    print(f"cases={cases}")
    print(f"model_ms={MODEL_S * 1000:.0f}")
    for r in results:
        print(f"throughput_{r.workers}={r.throughput:.3f}")
    if len(results) == 2:
        print(f"scale_ratio={results[1].throughput / results[0].throughput:.3f}")
    print(f"lost={sum(r.lost for r in results)}")
    print(f"duplicated={sum(r.duplicated for r in results)}")
    for r in results:
        print(f"seconds_{r.workers}={r.seconds:.1f}")
        print(f"cpu_s_per_case_{r.workers}={r.cpu_s / r.cases:.3f}")
        print(f"busy_cores_{r.workers}={r.cpu_s / r.seconds:.2f}")


def main() -> None:
    global MODEL_S
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=150)
    parser.add_argument("--workers", default="1,2", help="worker processes per queue, e.g. 1,2")
    parser.add_argument("--model-ms", type=float, default=MODEL_S * 1000)
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--broker-url", default=BROKER_URL)
    args = parser.parse_args()
    MODEL_S = args.model_ms / 1000
    counts = [int(n) for n in args.workers.split(",")]
    with tempfile.TemporaryDirectory(prefix="pathflow-scale-") as tmp:
        run(args.cases, counts, Path(tmp), args.database_url, args.broker_url)


if __name__ == "__main__":
    main()
