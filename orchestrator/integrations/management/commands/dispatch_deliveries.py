"""Run the outbox's dispatcher in this process, without Celery: for an operator draining a
queue by hand, and for tests that run several dispatchers side by side."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from orchestrator.integrations.dispatcher import dispatch_destination, due_destinations
from orchestrator.integrations.outbox import waiting
from orchestrator.integrations.outbox_models import Delivery, DeliveryStatus


class Command(BaseCommand):
    help = (
        "Send due deliveries (every destination, or --destination ID) until none is pending "
        "or --seconds have passed. Safe beside other dispatchers and Celery workers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--destination", type=int, action="append", default=[])
        parser.add_argument("--seconds", type=float, default=60.0)

    def handle(self, *args: Any, **options: Any) -> None:
        chosen: list[int] = options["destination"]
        deadline = time.monotonic() + options["seconds"]
        while time.monotonic() < deadline:
            for destination_id in chosen or due_destinations():
                dispatch_destination(destination_id)
            pending = waiting(Delivery.objects.all()).filter(
                status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING]
            )
            if chosen:
                pending = pending.filter(destination_id__in=chosen)
            if not pending.exists():
                break
            time.sleep(0.05)
        self.stdout.write(f"{waiting(Delivery.objects.all()).count()} undelivered")
