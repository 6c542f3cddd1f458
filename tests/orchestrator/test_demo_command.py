"""`make demo`'s last step, `manage.py demo`, as a user runs it: real processes end to end."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from orchestrator import devstack
from tests.conftest import pdf_text

REPO = Path(__file__).resolve().parents[2]


def demo_env(var_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    ports = [devstack.free_port() for _ in range(5)]
    env.update(
        {
            "PATHFLOW_VAR_DIR": str(var_dir),
            "PATHFLOW_WEB_PORT": str(ports[0]),
            "PATHFLOW_MODEL_SERVICES_HTTP_PORT": str(ports[1]),
            "PATHFLOW_MODEL_SERVICES_GRPC_PORT": str(ports[2]),
            "PATHFLOW_MODEL_SERVICES_METRICS_PORT": str(ports[3]),
            "PATHFLOW_MLLP_PORT": str(ports[4]),
            "PATHFLOW_DEMO_PASSWORD": "demo-pass-1",
        }
    )
    return env


def read_until(process: subprocess.Popen[bytes], log: Path, marker: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    output = ""
    while marker not in output:
        if time.monotonic() > deadline or process.poll() is not None:
            raise AssertionError(f"demo did not print {marker!r}; it printed:\n{output}")
        time.sleep(0.3)
        output = log.read_text(errors="replace")
    return output


def hl7_run_status(database: Path, accession: str, timeout: float = 180) -> str:
    """The status of the run of the case ``accession`` once it has finished or parked for
    the pathologist's sign-out."""
    deadline = time.monotonic() + timeout
    status = "no run"
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as db:
            row = db.execute(
                "select r.status from runs_run r join cases_case c on r.case_id = c.id "
                "where c.accession = ?",
                (accession,),
            ).fetchone()
        status = row[0] if row else "no run"
        if status in ("waiting_review", "succeeded", "failed", "cancelled"):
            return str(status)
        time.sleep(0.5)
    return status


def admin_login(url: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=10) as client:
        form = client.get("/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert token is not None
        return client.post(
            "/admin/login/?next=/admin/",
            data={
                "csrfmiddlewaretoken": token.group(1),
                "username": "admin",
                "password": password,
                "next": "/admin/",
            },
            follow_redirects=True,
        )


def test_the_demo_serves_a_url_logins_and_a_pdf_then_stops_everything_on_ctrl_c(
    tmp_path: Path,
) -> None:
    env = demo_env(tmp_path / "var")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=120,
    )
    log = tmp_path / "demo.out"
    with log.open("wb") as out:
        demo = subprocess.Popen(
            [sys.executable, "manage.py", "demo"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        output = read_until(demo, log, "Press Ctrl-C to stop.", timeout=300)

        url = re.search(r"URL:\s+(\S+)", output)
        pdf = re.search(r"Demo draft report PDF \(awaiting sign-out\):\s+(\S+)", output)
        assert url is not None, output
        assert pdf is not None, output
        fna = r"Demo FNA cytology draft PDF \(awaiting sign-out\):\s+\S+\.pdf"
        assert re.search(fna, output), output
        assert output.count("draft ready, waiting for the pathologist's sign-out") == 2, output
        assert url.group(1) == f"http://127.0.0.1:{env['PATHFLOW_WEB_PORT']}/"
        assert "admin / demo-pass-1" in output
        assert "pathologist / demo-pass-1" in output
        assert httpx.get(url.group(1), follow_redirects=True).status_code == 200
        signed_in = admin_login(url.group(1), "demo-pass-1")
        assert "Site administration" in signed_in.text
        with sqlite3.connect(tmp_path / "var" / "pathflow.sqlite3") as db:
            data = json.loads(db.execute("select data from reports_report").fetchone()[0])
            # Both demo cases' drafts wait in the pathologist's queue, their runs parked.
            parked = db.execute("select status, count(*) from runs_run group by status")
            assert dict(parked.fetchall()) == {"waiting_review": 2}
            drafts = db.execute("select status, count(*) from reports_report group by status")
            assert dict(drafts.fetchall()) == {"draft": 2}
        text = pdf_text(pdf.group(1))
        assert f"{data['ki67_index']:.1f}%" in text  # the AI Ki-67, in its own block
        assert "fna_malignancy_probability" not in data  # the FNA has its own report

        # An HL7 order to the demo's MLLP listener becomes a case whose draft awaits sign-out.
        mllp = env["PATHFLOW_MLLP_PORT"]
        assert f"HL7 MLLP listener: 127.0.0.1:{mllp}" in output
        sent = subprocess.run(
            [sys.executable, "manage.py", "mllp_send", "demo/hl7/orm-breast.hl7", "--port", mllp],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert "MSA|AA|DEMO-0001" in sent.stdout
        assert hl7_run_status(tmp_path / "var" / "pathflow.sqlite3", "S26-HL7-0001") == (
            "waiting_review"
        )

        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=60) == 0
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
    for name in ("PATHFLOW_WEB_PORT", "PATHFLOW_MODEL_SERVICES_HTTP_PORT", "PATHFLOW_MLLP_PORT"):
        assert devstack.port_is_free(int(env[name])), f"{name} still held after Ctrl-C"
