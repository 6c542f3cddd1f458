"""`manage.py mllp_listener`: receive HL7 v2 orders over MLLP until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from orchestrator.integrations.hl7.listener import Listener, Processor, Store

READY_LINE = "MLLP listener on {host}:{port}"


class Command(BaseCommand):
    help = "Receive HL7 v2 orders (ORM^O01, OML^O21) over MLLP; see docs/hl7-conformance.md."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.MLLP_HOST)
        parser.add_argument(
            "--port", type=int, default=settings.MLLP_PORT, help="0: any free port (printed)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The event loop stores frames itself, blocking on the database on purpose for the
        # length of one short commit (hl7/listener.py): Django must let it.
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        asyncio.run(self._serve(options["host"], options["port"]))

    async def _serve(self, host: str, port: int) -> None:
        processor = Processor(sweep_seconds=settings.MLLP_SWEEP_SECONDS)
        store = Store(processor)
        store.open()
        processor.start()
        server = await Listener(store).start(host, port)
        bound = server.sockets[0].getsockname()[1]
        self.stdout.write(READY_LINE.format(host=host, port=bound), ending="\n")
        self.stdout.flush()
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        await stopping.wait()
        server.close()
        await server.wait_closed()
        processor.stop()
        await loop.run_in_executor(None, processor.join, 30)
        store.close()
        self.stdout.write(
            f"MLLP listener stopped: {store.stats.stored} messages stored in "
            f"{store.stats.batches} commits, {processor.processed} made into cases"
        )
