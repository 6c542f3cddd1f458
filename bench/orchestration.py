"""Orchestration benchmark: what the engine and Celery add to a case, measured in one run.

Prints `name=value` lines:
  overhead_ratio      median latency of the demo case (breast FNA + Ki-67, Chinese report;
                      the demo graph up to its draft, without the sign-out review that parks
                      a real run for the pathologist) through a real Celery worker with model
                      endpoints that answer at once, render included, over the median time to
                      render the same report directly (same code path, warm, in this process);
                      goal ≤ 1.10
  parallel_ratio      median latency of a case whose graph makes 5 parallel model calls to an
                      endpoint that answers after 200 ms, over 200 ms; goal ≤ 1.10
  case_ms             median demo case latency (run created → run finished, worker's clock)
  render_ms           median direct render of the same report
  queue_ms            median run created → run started by the worker (broker + pick-up)
  parallel_case_ms    median latency of the parallel case
  demo_*_ms           where the demo case's time goes (medians): queue (created → a worker
                      took the run's lease), startup (→ first node started: loading the run,
                      the case and checkpoints), nodes (node work other than the render, the
                      zero-latency model calls included), gaps (between nodes: checkpoint
                      commits and scheduling), render (the render node), finish (→ run stored)

Everything runs against a fresh SQLite database and an embedded Redis in a temporary
PATHFLOW_VAR_DIR, with one worker process (concurrency 1) and a model server in this
process on a free loopback port. Usage: .venv/bin/python bench/orchestration.py [--repeats N]
[--runs 3] (the whole bench 3 times in fresh processes, each run's lines prefixed ``run<i>_``,
then every figure's median over the runs under its own name: issue 13's "median of 3 runs")
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")

SLOW_S = 0.2
OIP = "open_inference_v2"


def parallel_graph() -> dict[str, Any]:
    calls = [
        {
            "id": f"call{i}",
            "type": "model_call",
            "config": {
                "endpoint": "slow",
                "protocol": OIP,
                "inputs": [{"name": "x", "datatype": "FP64", "value": "[1, 2]"}],
            },
        }
        for i in range(1, 6)
    ]
    return {
        "schema_version": 1,
        "name": "five parallel calls",
        "nodes": [{"id": "case", "type": "case_trigger", "config": {}}, *calls],
        "edges": [
            {"id": f"e{i}", "source": "case", "source_port": "case", "target": c["id"]}
            for i, c in enumerate(calls)
        ],
    }


def breakdown(run_id: int) -> dict[str, float]:
    """Where one run's time went, in seconds, from the run's and its nodes' timestamps:
    queue (created → a worker took the lease), startup (→ the first node started), render
    (the render node), nodes (the other nodes, model calls included), gaps (between nodes:
    checkpoints and scheduling), finish (last node finished → run finished)."""
    from orchestrator.runs.models import NodeRun, Run

    run = Run.objects.get(pk=run_id)
    assert run.started_at is not None
    assert run.finished_at is not None
    spans = [
        (r.started_at, r.finished_at, r.node_type)
        for r in NodeRun.objects.filter(run=run).order_by("started_at")
        if r.started_at is not None and r.finished_at is not None
    ]
    total = (run.finished_at - run.created_at).total_seconds()
    render = sum((stop - begin).total_seconds() for begin, stop, t in spans if t == "render_report")
    parts = {
        "queue": (run.started_at - run.created_at).total_seconds(),
        "startup": (spans[0][0] - run.started_at).total_seconds() if spans else 0.0,
        "render": render,
        "finish": (run.finished_at - max(stop for _, stop, _ in spans)).total_seconds(),
    }
    covered, end = 0.0, None
    for begin, stop, _ in spans:
        if end is None or begin > end:
            covered += (stop - begin).total_seconds()
            end = stop
        elif stop > end:
            covered += (stop - end).total_seconds()
            end = stop
    parts["nodes"] = covered - parts["render"]
    parts["gaps"] = total - sum(parts.values())
    return parts


def run_latency(start: Callable[[], Any]) -> tuple[float, float]:
    """(created → finished, created → started) of one run, in seconds, by the DB timestamps."""
    from orchestrator.runs.models import Run

    run = start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        row = Run.objects.filter(pk=run.pk).values("status", "started_at", "finished_at").get()
        if row["finished_at"] is not None:
            if row["status"] != "succeeded":
                run.refresh_from_db()
                sys.exit(f"run {run.pk} ended {run.status}: {run.error}")
            created = Run.objects.filter(pk=run.pk).values_list("created_at", flat=True).get()
            finished: datetime = row["finished_at"]
            started: datetime = row["started_at"] or finished
            return (finished - created).total_seconds(), (started - created).total_seconds()
        time.sleep(0.02)
    sys.exit(f"run {run.pk} did not finish within 120 s")


def measure(repeats: int, var_dir: Path) -> dict[str, float]:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from orchestrator import devstack
    from orchestrator.cases.services import create_case
    from orchestrator.catalog.models import ModelEndpoint
    from orchestrator.demo_data import DEMO_DIR, drafting_graph, load_demo_data
    from orchestrator.designs.services import import_workflow
    from orchestrator.reports.services import create_draft_report
    from orchestrator.runs.models import Run
    from orchestrator.runs.services import start_run

    call_command("migrate", verbosity=0)
    logs = var_dir / "logs"
    broker = devstack.start_embedded_broker(settings.EMBEDDED_BROKER_SOCKET, logs)
    worker: devstack.ManagedProcess | None = None
    try:
        from oip_server import model_server  # bench/oip_server.py, beside this script

        with model_server(lambda model: SLOW_S if model.startswith("slow") else 0.0) as url:
            data = load_demo_data("bench-password", url)
            ModelEndpoint.objects.create(
                department=data.department,
                slug="slow",
                name="200 ms model",
                protocol=OIP,
                base_url=url,
                model_name="slow",
                timeout_s=10,
            )
            parallel = import_workflow(
                data.department,
                parallel_graph(),
                data.workflow_version.template_version,
                slug="parallel-bench",
                case_type="breast-resection",
            )
            drafting = import_workflow(
                data.department,
                drafting_graph(data.workflow_version.spec),
                data.workflow_version.template_version,
                slug="demo-drafting-bench",
                case_type="breast-resection",
            )
            document = json.loads((DEMO_DIR / "cases" / "breast-resection.json").read_text())
            case = create_case(data.department, document)
            worker = devstack.start_worker(logs, concurrency=1)

            def demo_case() -> Run:
                return start_run(case, drafting)

            def parallel_case() -> Run:
                return start_run(case, parallel)

            def render_directly() -> float:
                """The same report rendered (and stored) directly, through the same code
                path the render node uses, in this process."""
                latest = Run.objects.filter(workflow_version=drafting).first()
                assert latest is not None
                drafted = latest.reports.order_by("-version_no").first()
                assert drafted is not None
                values, provenance = drafted.data, drafted.provenance
                started = time.perf_counter()
                create_draft_report(latest, values, provenance, drafted.language)
                return time.perf_counter() - started

            for _ in range(2):  # warm-up: imports, fonts, compiled layout, connections
                run_latency(demo_case)
                run_latency(parallel_case)
                render_directly()
            # Interleaved, so that both sides of each ratio see the same load on the machine.
            cases, queues, parallels, renders = [], [], [], []
            parts: dict[str, list[float]] = {}
            for _ in range(repeats):
                total, queued = run_latency(demo_case)
                cases.append(total)
                queues.append(queued)
                latest = Run.objects.filter(workflow_version=drafting).first()
                assert latest is not None
                for name, value in breakdown(latest.pk).items():
                    parts.setdefault(name, []).append(value)
                renders.append(render_directly())
                parallels.append(run_latency(parallel_case)[0])
    finally:
        if worker is not None:
            worker.stop()
        broker.stop()
    return {
        **{f"demo_{name}": statistics.median(values) for name, values in parts.items()},
        "case": statistics.median(cases),
        "render": statistics.median(renders),
        "queue": statistics.median(queues),
        "parallel": statistics.median(parallels),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats",
        type=int,
        default=15,
        help="cases (and direct renders) per run; single renders vary by ±20 ms, more than "
        "the whole engine share, so a median needs this many",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="run the whole bench this many times (fresh processes) and print each figure's "
        "median under its own name (issue 13: the median of 3 runs)",
    )
    args = parser.parse_args()
    if args.runs > 1:
        from runs import median_of_runs  # bench/runs.py, beside this script

        median_of_runs(Path(__file__), args.runs, ["--repeats", str(args.repeats)])
        return
    with tempfile.TemporaryDirectory(prefix="pathflow-bench-") as tmp:
        var_dir = Path(tmp)
        os.environ["PATHFLOW_VAR_DIR"] = str(var_dir)
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("CELERY_BROKER_URL", None)
        figures = measure(args.repeats, var_dir)
    print(f"overhead_ratio={figures['case'] / figures['render']:.3f}")
    print(f"parallel_ratio={figures['parallel'] / SLOW_S:.3f}")
    print(f"case_ms={figures['case'] * 1000:.1f}")
    print(f"render_ms={figures['render'] * 1000:.1f}")
    print(f"queue_ms={figures['queue'] * 1000:.1f}")
    print(f"parallel_case_ms={figures['parallel'] * 1000:.1f}")
    for name in ("queue", "startup", "nodes", "gaps", "render", "finish"):
        print(f"demo_{name}_ms={figures[f'demo_{name}'] * 1000:.1f}")


if __name__ == "__main__":
    main()
