"""Helpers for the fault tests (crash recovery, tests/reliability/): Celery worker processes
with short leases and redelivery, MLServer's own request counter, a model server that kills the
worker process calling it, and a server that counts concurrent requests."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from orchestrator import devstack
from tests.conftest import ModelServices
from tests.loopback import Request
from tests.workflows.conftest import Call, ModelServer


def start_fault_worker(
    log_dir: Path,
    name: str,
    env: dict[str, str],
    *,
    queue: str,
    concurrency: int = 1,
    lease_s: int = 4,
    visibility_timeout_s: int = 3,
) -> devstack.ManagedProcess:
    """A real Celery worker on ``queue`` whose run leases and broker redelivery are short, so
    that recovery from a dead worker takes seconds, not minutes."""
    return devstack.start_worker(
        log_dir,
        name=name,
        concurrency=concurrency,
        env={
            **env,
            "PATHFLOW_TASK_QUEUE": queue,
            "PATHFLOW_RUN_LEASE_SECONDS": str(lease_s),
            "PATHFLOW_RUN_HEARTBEAT_SECONDS": "1",
            "PATHFLOW_BROKER_VISIBILITY_TIMEOUT": str(visibility_timeout_s),
            "PATHFLOW_BROKER_RESTORE_INTERVAL": "1",
        },
    )


def start_fault_workers(
    log_dir: Path, names: list[str], env: dict[str, str], **options: Any
) -> list[devstack.ManagedProcess]:
    """Several workers as ``start_fault_worker`` makes them, started side by side."""
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        started = [pool.submit(start_fault_worker, log_dir, name, env, **options) for name in names]
        return [future.result() for future in started]


def fna_requests(services: ModelServices) -> int:
    """How many inference requests MLServer answered for breast-fna, from its own counter."""
    argv = services.process.argv
    port = argv[argv.index("--metrics-port") + 1]
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    found = re.search(
        r'^model_infer_request_success_total\{model="breast-fna"[^}]*\} (\S+)$', text, re.M
    )
    return int(float(found.group(1))) if found else 0


def _socket_inodes(local_port: int) -> set[str]:
    """Inodes of the loopback TCP sockets bound to ``local_port`` (Linux's /proc/net)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == local_port:
                    inodes.add(fields[9])
    return inodes


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (a Celery worker's: its pool processes)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as listed:
                found.extend(int(child) for child in listed.read().split())
    return found


def family(root: int) -> list[int]:
    """``root`` and its descendants."""
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(children(pid))
    return found


def caller_pid(client_port: int, roots: list[int]) -> int | None:
    """The process (among ``roots`` and their descendants) whose TCP socket has local port
    ``client_port``: the worker process that sent a request."""
    wanted = {f"socket:[{inode}]" for inode in _socket_inodes(client_port)}
    for root in roots:
        for pid in family(root):
            with contextlib.suppress(OSError):
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    with contextlib.suppress(OSError):
                        if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                            return pid
    return None


class PoisonServer(ModelServer):
    """Model endpoints as in ModelServer; a call to the model ``poison`` SIGKILLs the worker
    process that sent it before any answer — what a model call or render that crashes its
    process or exhausts its memory does to the worker. ``workers`` are the worker process ids
    (their pool children are found by the caller's socket)."""

    def __init__(self) -> None:
        super().__init__()
        self.workers: list[int] = []
        self.killed: list[int] = []

    def post(self, request: Request) -> None:
        if request.path.rstrip("/").split("/")[-2:-1] == ["poison"]:
            self._record(Call("poison", request.header_map(), None, time.monotonic()))
            pid = caller_pid(request.client_address[1], self.workers)
            if pid is not None:
                self.killed.append(pid)
                os.kill(pid, signal.SIGKILL)
            request.hang(5)
            return
        super().post(request)


class ConcurrencyServer(ModelServer):
    """Counts how many calls are in progress at once (``peak``) while its scripts sleep."""

    def __init__(self) -> None:
        super().__init__()
        self.active = 0
        self.peak = 0
        self._count = threading.Lock()

    def post(self, request: Request) -> None:
        with self._count:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            super().post(request)
        finally:
            with self._count:
                self.active -= 1
