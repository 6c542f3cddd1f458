"""The systemd units of deploy/systemd/ (docs/deployment.md) start what they say: each role's
``ExecStart=`` is run as systemd would run it — the unit's ``Environment=``, the shared
/etc/pathflow/pathflow.env (deploy/pathflow.env.example) and the role's own env file, a clean
environment otherwise, ``${VAR}`` expanded — with /opt/pathflow and /var/lib/pathflow moved to
this checkout and a temporary folder, against the test database and broker. Each comes up (port
answering, Celery worker answering a ping on exactly its queue, MLLP acknowledging an order) and
stops cleanly on SIGTERM within its ``TimeoutStopSec=``."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from orchestrator import devstack
from orchestrator.celery import app as celery_app
from tests.conftest import REPO
from tests.deploy.units import (
    Unit,
    command_line,
    parse_unit,
    read_environment_file,
    unit_environment,
)
from tests.orchestrator.integrations.conftest import ack_fields, exchange, order

UNIT_DIR = REPO / "deploy" / "systemd"
SHARED_ENV = "/etc/pathflow/pathflow.env"
INSTALL_DIR, VENV_BIN, STATE_DIR = "/opt/pathflow", "/opt/pathflow/.venv/bin/", "/var/lib/pathflow"
ROLES = ("web", "worker", "render", "dispatcher", "mllp")

pytestmark = pytest.mark.django_db(transaction=True)


def unit_of(role: str) -> Unit:
    return parse_unit(UNIT_DIR / f"pathflow-{role}.service")


def test_every_role_has_a_unit_and_nothing_else_is_there() -> None:
    assert sorted(p.name for p in UNIT_DIR.glob("*")) == sorted(
        f"pathflow-{role}.service" for role in ROLES
    )


@pytest.mark.parametrize("role", ROLES)
def test_a_unit_runs_unprivileged_from_the_install_with_the_shared_settings(role: str) -> None:
    unit = unit_of(role)
    assert unit.value("Unit", "Description")
    assert unit.value("Service", "User") == "pathflow"
    assert unit.value("Service", "WorkingDirectory") == INSTALL_DIR
    assert unit.value("Service", "ExecStart").startswith(VENV_BIN)
    assert unit.values("Service", "EnvironmentFile") == [SHARED_ENV, f"-/etc/pathflow/{role}.env"]
    assert unit.value("Service", "NoNewPrivileges") == "yes"
    assert unit.value("Service", "ReadWritePaths") == STATE_DIR
    assert "PATHFLOW_ENV=production" in unit.values("Service", "Environment")
    assert unit.value("Install", "WantedBy") == "multi-user.target"


# --- starting each role as systemd would ------------------------------------------------------


@dataclass
class Started:
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str]
    stop_timeout: float

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, check: Callable[[], bool], what: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"exited before {what}:\n{self.log_text()[-3000:]}"
            try:
                if check():
                    return
            except (OSError, httpx.HTTPError):
                pass
            time.sleep(0.3)
        raise AssertionError(f"not {what} within {timeout:g} s:\n{self.log_text()[-3000:]}")

    def stop(self) -> int:
        """SIGTERM to the main process (KillMode=mixed); its children must go with it."""
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(self.stop_timeout)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        return code


def moved(value: str, state: Path) -> str:
    return (
        value.replace(VENV_BIN, f"{Path(sys.executable).parent}/")
        .replace(INSTALL_DIR, str(REPO))
        .replace(STATE_DIR, str(state))
    )


def seconds(value: str) -> float:
    return float(value.removesuffix("s"))


@pytest.fixture
def start_role(
    process_env: dict[str, str], broker_url: str, tmp_path: Path
) -> Iterator[Callable[[str, dict[str, str]], Started]]:
    started: list[Started] = []
    shared = tmp_path / "pathflow.env"
    example = (REPO / "deploy" / "pathflow.env.example").read_text()
    overrides = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "pathflow.hospital.example,127.0.0.1",
        "DATABASE_URL": process_env["DATABASE_URL"],
        "CELERY_BROKER_URL": broker_url,
        "PATHFLOW_MEDIA_ROOT": str(tmp_path / "media"),
        "PATHFLOW_TILE_ROOT": str(tmp_path / "tiles"),
        "PATHFLOW_METRICS_ALLOWED_NETWORKS": "127.0.0.1/32",
    }
    lines = [
        f"{key}={overrides.pop(key)}" if key in overrides else line
        for line in example.splitlines()
        for key in [line.partition("=")[0]]
    ]
    assert overrides == {}, f"the example env file lacks {sorted(overrides)}"
    shared.write_text("\n".join(lines) + "\n")

    def start(role: str, role_env: dict[str, str]) -> Started:
        unit = unit_of(role)
        state = tmp_path / role
        state.mkdir()
        (role_file := tmp_path / f"{role}.env").write_text(
            "".join(f"{key}={value}\n" for key, value in role_env.items())
        )
        files = {SHARED_ENV: shared, f"/etc/pathflow/{role}.env": role_file}
        env = {key: moved(value, state) for key, value in unit_environment(unit, files).items()}
        # What systemd adds for a system service: a PATH, and HOME for User=.
        env |= {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(state), "LANG": "C.UTF-8"}
        argv = [moved(word, state) for word in command_line(unit, env)]
        log = tmp_path / f"{role}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                argv,
                cwd=moved(unit.value("Service", "WorkingDirectory"), state),
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        run = Started(process, log, env, seconds(unit.value("Service", "TimeoutStopSec")))
        started.append(run)
        return run

    yield start
    for run in started:
        if run.process.poll() is None:
            os.killpg(run.process.pid, signal.SIGKILL)
            run.process.wait(5)


def test_the_web_unit_serves_production_pages(
    start_role: Callable[[str, dict[str, str]], Started],
) -> None:
    port = devstack.free_port()
    web = start_role("web", {"PATHFLOW_WEB_BIND": f"127.0.0.1:{port}", "PATHFLOW_WEB_WORKERS": "2"})
    base = f"http://127.0.0.1:{port}"
    web.wait_for(lambda: httpx.get(f"{base}/healthz").status_code == 200, "answering /healthz")

    page = httpx.get(f"{base}/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    assert page.status_code == 200
    assert page.headers["strict-transport-security"].startswith("max-age=31536000")
    assert httpx.get(f"{base}/app/").status_code == 301  # plain HTTP goes to HTTPS
    assert httpx.get(f"{base}/metrics").status_code == 200

    assert web.stop() == 0
    assert devstack.port_is_free(port)


@pytest.mark.parametrize(
    ("role", "queue", "hostname"),
    [
        ("worker", "pathflow", "runs"),
        ("render", "render", "render"),
        ("dispatcher", "delivery", "delivery"),
    ],
)
def test_a_celery_unit_consumes_exactly_its_queue(
    start_role: Callable[[str, dict[str, str]], Started], role: str, queue: str, hostname: str
) -> None:
    # The queue each role consumes is the one every role sends its tasks to.
    shared = read_environment_file(REPO / "deploy" / "pathflow.env.example")
    assert (
        queue
        == {
            "worker": settings.CELERY_TASK_DEFAULT_QUEUE,
            "render": shared["PATHFLOW_RENDER_QUEUE"],
            "dispatcher": settings.DELIVERY_QUEUE,
        }[role]
    )
    worker = start_role(role, {})
    name = f"{hostname}@{socket.gethostname()}"
    worker.wait_for(lambda: " ready." in worker.log_text(), "ready")
    worker.wait_for(
        lambda: bool(celery_app.control.ping(destination=[name], timeout=2)), "answering a ping"
    )
    queues = celery_app.control.inspect(destination=[name], timeout=5).active_queues() or {}
    assert [q["name"] for q in queues[name]] == [queue]

    assert worker.stop() == 0
    assert "Warm shutdown" in worker.log_text() or "warm shutdown" in worker.log_text()


def test_the_mllp_unit_acknowledges_an_order_and_stops_cleanly(
    start_role: Callable[[str, dict[str, str]], Started],
) -> None:
    port = devstack.free_port()
    listener = start_role(
        "mllp", {"PATHFLOW_MLLP_HOST": "127.0.0.1", "PATHFLOW_MLLP_PORT": str(port)}
    )
    listener.wait_for(lambda: f"MLLP listener on 127.0.0.1:{port}" in listener.log_text(), "up")

    (answer,) = exchange(port, order("DEPLOY-1"))
    msa = ack_fields(answer)["MSA"]
    assert msa[2] == "DEPLOY-1"
    assert msa[1] in ("AA", "AE", "AR")

    assert listener.stop() == 0
    assert "MLLP listener stopped" in listener.log_text()
    assert devstack.port_is_free(port)
