"""The renderer child: ``python -m orchestrator.reports.renderer.worker --base-dir DIR``.

Started by ``client.RendererProcess`` and fed requests on stdin; answers on stdout (see
``protocol``). It limits its own address space (``RLIMIT_AS``) before importing WeasyPrint,
warms up fonts, says ``ready``, then renders one request at a time. A layout mistake is
answered with ``{"ok": false, "kind": "template"}`` and the child lives on; running out of
memory is answered with ``kind: "memory"`` and the child exits, so the next render gets a fresh
process. The parent enforces the time limit by killing the child. The child exits when its
input closes or its parent goes away, and never logs report content.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import resource
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from orchestrator.reports.renderer.protocol import read_message, write_message


def _limit_resources(megabytes: int) -> None:
    if megabytes > 0:
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # A crash must not leave a core file holding report data on disk.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _exit_when_orphaned(parent: int) -> None:
    """A render that hangs must not outlive a parent that was killed before it could stop us."""

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(0)
            time.sleep(1.0)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def _quiet_logging() -> None:
    # WeasyPrint's warnings quote document text and URLs (patient data): keep them out of logs.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="renderer: %(message)s")
    for name in ("weasyprint", "fontTools", "PIL"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _tune_garbage_collector() -> None:
    """A render allocates hundreds of thousands of short-lived boxes; with the default
    thresholds the cyclic collector ran often enough to take ~20 % of a 20-page render.
    Objects alive after the warm-up (modules, fonts, caches) are frozen out of its scans."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def _problem(stdout: IO[bytes], request_id: Any, message: str) -> None:
    # A message quoting a lone surrogate must still be UTF-8 (it is printed as U+FFFD).
    message = message.encode("utf-8", "replace").decode("utf-8")
    write_message(stdout, {"id": request_id, "ok": False, "kind": "template", "message": message})


def serve(base_dir: Path, stdin: IO[bytes], stdout: IO[bytes]) -> None:
    from orchestrator.reports.renderer.engine import Engine, TemplateProblem, warm_up

    engine = Engine(base_dir)
    warm_up(engine)
    _tune_garbage_collector()
    write_message(stdout, {"ready": True, "pid": os.getpid()})
    while (message := read_message(stdin)) is not None:
        request, blobs = message
        # Every reply echoes its request's id: the parent never takes one reply for another.
        request_id = request.pop("id", None)
        reply: dict[str, Any]
        try:
            reply, content = engine.render(request, blobs)
        except TemplateProblem as exc:
            _problem(stdout, request_id, str(exc))
            continue
        except MemoryError:
            write_message(stdout, {"id": request_id, "ok": False, "kind": "memory"})
            os._exit(3)
        except Exception as exc:
            # A mistake the engine did not foresee is still the layout's or its data's: say
            # what failed, and keep the traceback (layout text, patient values) out of the log.
            _problem(stdout, request_id, f"the report layout failed: {type(exc).__name__}: {exc}")
            continue
        write_message(stdout, {**reply, "id": request_id}, [content])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-dir", type=Path, required=True)
    parser.add_argument("--memory-mb", type=int, default=1500)
    args = parser.parse_args()
    _limit_resources(args.memory_mb)
    _exit_when_orphaned(os.getppid())
    _quiet_logging()
    # The protocol owns stdout; anything printed by a library would corrupt it.
    stdout = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        serve(args.base_dir, sys.stdin.buffer, stdout)
    except MemoryError:
        os._exit(3)


if __name__ == "__main__":
    main()
