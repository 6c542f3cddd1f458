"""Shadow-run benchmark: how fast a workflow version is replayed over past cases.

Prints `name=value` lines:
  shadow_cases_per_min  signed FNA cases replayed per minute by a shadow run of the demo FNA
                        workflow (model call, transform, template check, comparison with the
                        signed values) through a real Celery worker (concurrency 2), with model
                        endpoints that answer at once; goal ≥ 600 on a 2-core machine
  agreement             fraction of the replayed cases agreeing with what was signed on every
                        element (the seeded history makes every tenth case differ: 0.9)
  shadow_case_ms        median engine time per case (model call to values, in the worker)
  shadow_seconds        shadow run created → its last case compared

Everything runs against a fresh SQLite database and an embedded Redis in a temporary
PATHFLOW_VAR_DIR, with a model server in this process on a free loopback port (the one of
bench/orchestration.py). Usage: .venv/bin/python bench/shadow.py [--cases N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")

# The benches' model server, answering at once (bench/oip_server.py, this script's neighbour).
from oip_server import model_server  # noqa: E402 - after the path is set

WARM_UP_CASES = 20
# Every tenth case was signed with another recommendation than the workflow gives.
DIFFERING_EVERY = 10


def measure(cases: int, var_dir: Path) -> dict[str, float]:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from orchestrator import devstack
    from orchestrator.accounts.models import User
    from orchestrator.cases.services import create_case
    from orchestrator.demo_data import DEMO_DIR, load_demo_data
    from orchestrator.quality.models import ShadowRun, ShadowSource, ShadowStatus
    from orchestrator.quality.services import start_shadow_run
    from orchestrator.reports.models import Report, ReportStatus

    call_command("migrate", verbosity=0)
    logs = var_dir / "logs"
    broker = devstack.start_embedded_broker(settings.EMBEDDED_BROKER_SOCKET, logs)
    worker: devstack.ManagedProcess | None = None
    try:
        with model_server() as url:
            data = load_demo_data("bench-password", url)
            version = data.fna_workflow_version
            signer = User.objects.get(username="pathologist")
            documents = [
                json.loads((DEMO_DIR / "cases" / f"{name}.json").read_text())
                for name in ("breast-fna-malignant", "breast-fna-benign")
            ]
            for i in range(cases + WARM_UP_CASES):
                document = {**documents[i % 2], "accession": f"B26-{i:05d}"}
                case = create_case(data.department, document)
                # The zero-latency model answers 0.93 for every case.
                values = {**case.findings, "fna_malignancy_probability": 93.0}
                if i % DIFFERING_EVERY == 0:
                    values["recommendation"] = "core_biopsy"
                Report.objects.create(
                    case=case,
                    template_version=version.template_version,
                    status=ReportStatus.FINAL,
                    data=values,
                    signed_by=signer,
                    signed_at=timezone.now(),
                )
            worker = devstack.start_worker(logs, concurrency=2)

            def replay(limit: int) -> tuple[ShadowRun, float]:
                started = time.perf_counter()
                shadow = start_shadow_run(
                    version, source=ShadowSource.RECENT, user=None, case_type="breast-fna",
                    limit=limit,
                )  # fmt: skip
                while shadow.status != ShadowStatus.FINISHED:
                    time.sleep(0.05)
                    shadow.refresh_from_db()
                    if time.perf_counter() - started > 600:
                        raise SystemExit(f"shadow run {shadow.pk} did not finish in 10 minutes")
                return shadow, time.perf_counter() - started

            replay(WARM_UP_CASES)  # warm-up: worker imports, connections, compiled templates
            shadow, seconds = replay(cases)
            durations = [
                d for d in shadow.cases.values_list("duration_ms", flat=True) if d is not None
            ]
            total = shadow.cases.count()
            return {
                "per_min": total / seconds * 60,
                "agreement": shadow.cases_agreeing / total,
                "case_ms": statistics.median(durations),
                "seconds": seconds,
            }
    finally:
        if worker is not None:
            worker.stop()
        broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pathflow-bench-") as tmp:
        var_dir = Path(tmp)
        os.environ["PATHFLOW_VAR_DIR"] = str(var_dir)
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("CELERY_BROKER_URL", None)
        figures = measure(args.cases, var_dir)
    print(f"shadow_cases_per_min={figures['per_min']:.0f}")
    print(f"agreement={figures['agreement']:.3f}")
    print(f"shadow_case_ms={figures['case_ms']:.1f}")
    print(f"shadow_seconds={figures['seconds']:.2f}")


if __name__ == "__main__":
    main()
