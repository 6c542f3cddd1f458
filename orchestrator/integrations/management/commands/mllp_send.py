"""`manage.py mllp_send FILE`: send an HL7 v2 message to an MLLP listener with python-hl7's
client and print the ACK (one segment a line). Lines of the file are segments."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from hl7.mllp import open_hl7_connection


class Command(BaseCommand):
    help = "Send an HL7 v2 message file (one segment a line, UTF-8) over MLLP; print the ACK."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.MLLP_PORT)
        parser.add_argument(
            "--new-control-id",
            action="store_true",
            help="replace MSH-10 with a fresh id (otherwise a resend gets the first answer)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        segments = [line for line in path.read_text(encoding="utf-8").splitlines() if line]
        if options["new_control_id"] and segments and segments[0].startswith("MSH"):
            fields = segments[0].split(segments[0][3])
            if len(fields) > 9:
                fields[9] = uuid.uuid4().hex[:20].upper()
                segments[0] = segments[0][3].join(fields)
        message = ("\r".join(segments) + "\r").encode("utf-8")
        try:
            ack = asyncio.run(self._send(options["host"], options["port"], message))
        except OSError as exc:
            raise CommandError(f"cannot reach {options['host']}:{options['port']}: {exc}") from None
        self.stdout.write(ack.decode("utf-8", errors="replace").replace("\r", "\n").strip())

    async def _send(self, host: str, port: int, message: bytes) -> bytes:
        reader, writer = await open_hl7_connection(host, port)
        try:
            writer.writeblock(message)
            await writer.drain()
            ack: bytes = await asyncio.wait_for(reader.readblock(), 30)
        finally:
            writer.close()
        return ack
