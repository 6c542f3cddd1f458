"""``manage.py verify_audit``: check the audit hash chain; exit 1 naming the first broken event."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from orchestrator.audit.verify import verify_chain


class Command(BaseCommand):
    help = "Check that no audit event was changed, removed or inserted (exit 1 if one was)."

    def handle(self, *args: Any, **options: Any) -> None:
        checked, broken = verify_chain()
        if broken is not None:
            raise CommandError(f"audit chain broken at {broken} ({checked} events read)")
        self.stdout.write(f"audit chain intact: {checked} events")
