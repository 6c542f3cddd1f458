"""``python -m model_services serve``: train, write the model repository, hand over to MLServer.

The launcher replaces itself with MLServer (``os.execve``) instead of supervising a child: the
process id the caller started is then MLServer itself, so SIGTERM/SIGINT reach MLServer's own
graceful shutdown directly and no signal forwarding or orphaned child is possible.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

# Runs inside the exec'd interpreter; MLServer ships no ``__main__`` module to use with -m.
_MLSERVER_BOOTSTRAP: Final = (
    "import sys; from mlserver.cli.main import main; "
    "sys.argv = ['mlserver', 'start', sys.argv[1]]; main()"
)
REPO_ROOT: Final = Path(__file__).resolve().parent.parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m model_services",
        description="Pathflow reference model services (breast-fna, ihc-dab) on MLServer.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="train the models and run MLServer until signalled")
    serve.add_argument("--workdir", type=Path, required=True, help="model repository to create")
    serve.add_argument("--http-port", type=_port, required=True)
    serve.add_argument("--grpc-port", type=_port, required=True)
    serve.add_argument("--metrics-port", type=_port, required=True)
    serve.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; on success ``serve`` never returns because the process becomes MLServer."""
    args = build_parser().parse_args(argv)
    ports = {args.http_port, args.grpc_port, args.metrics_port}
    if len(ports) != 3:
        print("error: --http-port, --grpc-port and --metrics-port must differ", file=sys.stderr)
        return 2
    return serve(
        workdir=args.workdir,
        http_port=args.http_port,
        grpc_port=args.grpc_port,
        metrics_port=args.metrics_port,
        host=args.host,
    )


def serve(*, workdir: Path, http_port: int, grpc_port: int, metrics_port: int, host: str) -> int:
    """Prepare ``workdir`` then exec MLServer on it (returns only if the exec fails)."""
    # Imported here so ``--help`` and argument errors stay fast (scikit-learn is slow to load).
    from model_services import BREAST_FNA
    from model_services.breast_fna import save_model
    from model_services.config import ServerConfig, write_settings

    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    save_model(workdir / BREAST_FNA)
    write_settings(
        ServerConfig(
            workdir=workdir,
            http_port=http_port,
            grpc_port=grpc_port,
            metrics_port=metrics_port,
            host=host,
        )
    )
    sys.stdout.flush()
    sys.stderr.flush()
    argv = [sys.executable, "-c", _MLSERVER_BOOTSTRAP, str(workdir)]
    # No shell: argv is a fixed list and the executable is this very interpreter.
    os.execve(sys.executable, argv, mlserver_environment(os.environ))  # noqa: S606


def mlserver_environment(base: Mapping[str, str]) -> dict[str, str]:
    """Return ``base`` with the repository root first on PYTHONPATH.

    MLServer imports the ``ihc-dab`` runtime by dotted path, which only resolves if the
    repository root is importable regardless of the caller's working directory.
    """
    env = dict(base)
    existing = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), existing) if p)
    return env


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from exc
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 1..65535: {port}")
    return port
