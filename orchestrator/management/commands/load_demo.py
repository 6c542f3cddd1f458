from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from orchestrator.demo_data import load_demo_data
from orchestrator.env import env_str


class Command(BaseCommand):
    help = "Create (or refresh) the demo department, users, endpoints, template and workflow."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password", default=env_str("PATHFLOW_DEMO_PASSWORD", "pathflow-demo")
        )
        parser.add_argument("--model-services-url", default=settings.MODEL_SERVICES_URL)

    def handle(self, *args: Any, **options: Any) -> None:
        data = load_demo_data(options["password"], options["model_services_url"])
        self.stdout.write(f"demo workflow: {data.workflow_version}")
        for username, password, role in data.logins:
            self.stdout.write(f"  {username} / {password}  ({role})")
