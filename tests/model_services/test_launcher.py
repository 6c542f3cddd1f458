"""The ``python -m model_services`` launcher, its settings files and the package helpers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import model_services
from model_services.cli import REPO_ROOT, main, mlserver_environment
from model_services.config import ServerConfig, write_settings
from tests.conftest import launch_model_services


def test_it_shuts_down_cleanly_on_sigint(tmp_path: Path) -> None:
    server = launch_model_services(tmp_path).process
    assert server.process is not None

    server.process.send_signal(signal.SIGINT)
    exit_code = server.process.wait(timeout=20)

    assert exit_code == 0, server.log_tail()


def test_it_writes_a_model_repository_mlserver_can_start_from(tmp_path: Path) -> None:
    config = ServerConfig(workdir=tmp_path, http_port=18080, grpc_port=18081, metrics_port=18082)

    write_settings(config)

    settings = json.loads((tmp_path / "settings.json").read_text())
    assert settings["parallel_workers"] == 0
    assert settings["debug"] is False
    assert (settings["host"], settings["http_port"], settings["grpc_port"]) == (
        "127.0.0.1",
        18080,
        18081,
    )
    assert settings["metrics_port"] == 18082
    for name in model_services.MODEL_NAMES:
        model_settings = json.loads((tmp_path / name / "model-settings.json").read_text())
        assert model_settings["name"] == name
        assert model_settings["parameters"]["version"] == "1"


def test_it_refuses_to_share_one_port_between_servers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A regression must fail this test, not replace the pytest process with MLServer.
    monkeypatch.setattr(os, "execve", _refuse_exec)
    ports = ["--http-port=18080", "--grpc-port=18080", "--metrics-port=18082"]

    assert main(["serve", f"--workdir={tmp_path}", *ports]) == 2
    assert not (tmp_path / "settings.json").exists()


def test_it_rejects_a_port_outside_the_valid_range(tmp_path: Path) -> None:
    ports = ["--http-port=70000", "--grpc-port=18081", "--metrics-port=18082"]

    with pytest.raises(SystemExit) as exit_info:
        main(["serve", f"--workdir={tmp_path}", *ports])

    assert exit_info.value.code == 2


def test_it_puts_the_repository_root_first_on_the_server_pythonpath() -> None:
    env = mlserver_environment({"PYTHONPATH": "/elsewhere", "HOME": "/root"})

    assert env["PYTHONPATH"].split(":") == [str(REPO_ROOT), "/elsewhere"]
    assert env["HOME"] == "/root"


def test_it_imports_the_package_without_loading_the_model_stack() -> None:
    probe = (
        "import sys, model_services; "
        "print(sorted({'sklearn', 'skimage', 'mlserver'} & set(sys.modules)))"
    )

    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"


def test_it_lists_the_thirty_fna_features_in_model_order() -> None:
    names = model_services.feature_names()

    assert len(names) == 30
    assert names[0] == "mean radius"
    assert names[-1] == "worst fractal dimension"


def test_it_provides_demo_cases_with_ground_truth() -> None:
    features = model_services.sample_features(0)

    assert len(features) == 30
    assert all(isinstance(value, float) for value in features)
    assert model_services.sample_is_malignant(0)
    assert not model_services.sample_is_malignant(19)
    assert model_services.sample_count() == 569


def _refuse_exec(*args: object) -> None:
    pytest.fail(f"launcher tried to exec {args!r}")


@pytest.mark.parametrize("index", [-1, 569])
def test_it_rejects_a_demo_case_index_out_of_range(index: int) -> None:
    with pytest.raises(IndexError):
        model_services.sample_features(index)
