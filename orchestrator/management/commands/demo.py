"""`make demo`: start every process on 127.0.0.1, run the demo case end to end, then serve."""

from __future__ import annotations

import json
import signal
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orchestrator import devstack
from orchestrator.cases.models import Case
from orchestrator.cases.services import create_case
from orchestrator.demo_data import (
    DEMO_CASE,
    DEMO_DIR,
    FNA_CASE,
    DemoData,
    load_demo_data,
    with_demo_slide,
)
from orchestrator.designs.models import WorkflowVersion
from orchestrator.env import env_str
from orchestrator.runs.models import Run, RunStatus
from orchestrator.runs.services import start_run


class Command(BaseCommand):
    help = (
        "Start the embedded broker, model services, a Celery worker and the web server; "
        "run the demo case through the worker; serve until Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-serve", action="store_true", help="stop after the demo case instead of serving"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ports = {
            "web": settings.WEB_PORT,
            "model services": settings.MODEL_SERVICES_HTTP_PORT,
            "model services gRPC": settings.MODEL_SERVICES_GRPC_PORT,
            "model services metrics": settings.MODEL_SERVICES_METRICS_PORT,
            "MLLP listener": settings.MLLP_PORT,
        }
        busy = [
            f"{name} port {port}" for name, port in ports.items() if not devstack.port_is_free(port)
        ]
        if busy:
            raise CommandError(
                f"already in use: {', '.join(busy)}. Stop what holds them or set "
                "the PATHFLOW_*_PORT variables (see .env.example)."
            )
        password = env_str("PATHFLOW_DEMO_PASSWORD", "pathflow-demo")
        data = load_demo_data(password, settings.MODEL_SERVICES_URL)
        stack = devstack.Stack()
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            self._start(stack)
            report_path = self._run_demo_case(data, DEMO_CASE, data.workflow_version)
            fna_path = self._run_demo_case(data, FNA_CASE, data.fna_workflow_version)
            self._announce(data, report_path, fna_path)
            while not stopping and not options["no_serve"]:
                if dead := stack.dead():
                    raise CommandError(
                        f"{dead[0].name} stopped; its log ends:\n{dead[0].log_tail()}"
                    )
                time.sleep(0.5)
        finally:
            self.stdout.write("Stopping every process the demo started…")
            stack.stop()

    def _start(self, stack: devstack.Stack) -> None:
        log_dir = settings.VAR_DIR / "log"
        self.stdout.write(f"Starting processes (logs in {log_dir})…")
        if settings.EMBEDDED_BROKER:
            stack.add(devstack.start_embedded_broker(settings.EMBEDDED_BROKER_SOCKET, log_dir))
        stack.add(
            devstack.start_model_services(
                settings.MODEL_SERVICES_HTTP_PORT,
                settings.MODEL_SERVICES_GRPC_PORT,
                settings.MODEL_SERVICES_METRICS_PORT,
                settings.VAR_DIR / "model_services",
                log_dir,
            )
        )
        stack.add(devstack.start_worker(log_dir, concurrency=settings.WORKER_CONCURRENCY))
        stack.add(devstack.start_web(settings.WEB_PORT, log_dir))
        listener, _port = devstack.start_mllp_listener(settings.MLLP_PORT, log_dir)
        stack.add(listener)

    def _run_demo_case(self, data: DemoData, name: str, version: WorkflowVersion) -> str:
        # The resection case's IHC tile is read from the demo whole-slide image (the viewer
        # shows the slide); with_demo_slide leaves cases without that tile as they are.
        document = with_demo_slide(json.loads((DEMO_DIR / "cases" / f"{name}.json").read_text()))
        case = Case.objects.filter(
            department=data.department, accession=document["accession"]
        ).first() or create_case(data.department, document, source="demo")
        run = start_run(case, version)
        self.stdout.write(f"Demo case {case.accession}: run {run.pk} queued for the worker…")
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            run = Run.objects.get(pk=run.pk)
            if run.is_terminal or run.status == RunStatus.WAITING_REVIEW:
                break
            time.sleep(0.5)
        # The demo workflows end at their review node: the run parks with the AI draft in the
        # pathologist's queue, and signing it out resumes the run.
        if run.status != RunStatus.WAITING_REVIEW:
            raise CommandError(
                f"the demo run ended as {run.status} instead of waiting for the pathologist's "
                f"sign-out: {run.error or 'timed out'}"
            )
        report = run.reports.order_by("-version_no").first()
        if report is None:
            raise CommandError("the demo run produced no draft report")
        self.stdout.write(
            f"Demo case {case.accession}: draft ready, waiting for the pathologist's sign-out."
        )
        return str(report.pdf.path)

    def _announce(self, data: DemoData, report_path: str, fna_path: str) -> None:
        url = f"http://127.0.0.1:{settings.WEB_PORT}/"
        lines = [
            "",
            "Pathflow demo is running.",
            f"  URL:          {url}",
            f"  Django admin: {url}admin/",
            "  Logins (user / password, role):",
        ]
        lines += [f"    {user} / {password}  ({role})" for user, password, role in data.logins]
        lines += [
            f"  Demo draft report PDF (awaiting sign-out): {report_path}",
            f"  Demo FNA cytology draft PDF (awaiting sign-out): {fna_path}",
            f"  HL7 MLLP listener: 127.0.0.1:{settings.MLLP_PORT} (send an order: .venv/bin/python"
            f" manage.py mllp_send demo/hl7/orm-breast.hl7 --port {settings.MLLP_PORT})",
            "",
            "Press Ctrl-C to stop.",
        ]
        self.stdout.write("\n".join(lines))
