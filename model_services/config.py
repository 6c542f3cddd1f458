"""MLServer settings files for the Pathflow model repository.

The launcher writes these into a fresh work directory on every start so the served
configuration always matches this code; nothing in the work directory is hand-edited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from model_services import BREAST_FNA, IHC_DAB, MODEL_VERSION
from model_services.breast_fna import FEATURE_COUNT, MODEL_FILENAME

SETTINGS_FILENAME: Final = "settings.json"
MODEL_SETTINGS_FILENAME: Final = "model-settings.json"
IHC_RUNTIME: Final = "model_services.ihc_dab.IHCDabModel"
SKLEARN_RUNTIME: Final = "mlserver_sklearn.SKLearnModel"

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class ServerConfig:
    """Where MLServer listens and where it keeps its files."""

    workdir: Path
    http_port: int
    grpc_port: int
    metrics_port: int
    host: str = "127.0.0.1"


def server_settings(config: ServerConfig) -> JsonDict:
    """Return the content of ``settings.json``.

    ``parallel_workers`` is 0 because MLServer 1.7.1's worker pool crashes at start-up under
    the current uvloop; metrics and environment directories are pinned inside the work
    directory because MLServer otherwise creates them in the current working directory.
    """
    workdir = config.workdir.resolve()
    return {
        "debug": False,
        "parallel_workers": 0,
        "host": config.host,
        "http_port": config.http_port,
        "grpc_port": config.grpc_port,
        "metrics_port": config.metrics_port,
        "model_repository_root": str(workdir),
        "load_models_at_startup": True,
        "metrics_dir": str(workdir / ".metrics"),
        "environments_dir": str(workdir / ".envs"),
        "server_name": "pathflow-model-services",
    }


def breast_fna_settings() -> JsonDict:
    """Return ``breast-fna/model-settings.json`` for the stock scikit-learn runtime."""
    return {
        "name": BREAST_FNA,
        "implementation": SKLEARN_RUNTIME,
        "versions": [MODEL_VERSION],
        "parameters": {"uri": f"./{MODEL_FILENAME}", "version": MODEL_VERSION},
        "inputs": [{"name": "features", "datatype": "FP64", "shape": [-1, FEATURE_COUNT]}],
        "outputs": [{"name": "predict_proba", "datatype": "FP64", "shape": [-1, 2]}],
    }


def ihc_dab_settings() -> JsonDict:
    """Return ``ihc-dab/model-settings.json`` for the custom colour-deconvolution runtime."""
    return {
        "name": IHC_DAB,
        "implementation": IHC_RUNTIME,
        "versions": [MODEL_VERSION],
        "parameters": {"version": MODEL_VERSION},
        "inputs": [
            {
                "name": "tile",
                "datatype": "BYTES",
                "shape": [1],
                "parameters": {"content_type": "base64"},
            }
        ],
        "outputs": [
            {"name": "positive_fraction", "datatype": "FP64", "shape": [1]},
            {"name": "positive_nuclei", "datatype": "INT64", "shape": [1]},
            {"name": "total_nuclei", "datatype": "INT64", "shape": [1]},
        ],
    }


def write_settings(config: ServerConfig) -> None:
    """Write ``settings.json`` and one ``model-settings.json`` per model into the work dir."""
    documents = {
        config.workdir / SETTINGS_FILENAME: server_settings(config),
        config.workdir / BREAST_FNA / MODEL_SETTINGS_FILENAME: breast_fna_settings(),
        config.workdir / IHC_DAB / MODEL_SETTINGS_FILENAME: ihc_dab_settings(),
    }
    for path, document in documents.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
