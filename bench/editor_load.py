"""Editor benchmark: how long the workflow editor takes to open a large graph.

Prints `name=value` lines:
  load_200_nodes_s   median time from navigating to the editor of a 200-node, 250-edge graph
                     (no positions stored) to the graph laid out by auto-layout (elkjs) and
                     fitted in view, in headless Chromium; goal ≤ 1.0
  open_200_nodes_s   median time to the 200 nodes on the canvas, before the layout
  layout_200_nodes_s median auto-layout alone (key L → laid out and fitted)

Runs against a fresh SQLite database in a temporary PATHFLOW_VAR_DIR with gunicorn on a free
loopback port, signed in as the demo admin. Needs the front end built (npm run build).
Usage: .venv/bin/python bench/editor_load.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")

NODES = 200
EDGES = 250
PASSWORD = "bench-password"  # noqa: S105 - a throw-away database for this run only


def large_graph(seed: int = 7) -> dict[str, Any]:
    """A trigger and 199 transforms: each takes an edge from an earlier node (a tree of 199
    edges) and 51 more edges from earlier nodes, so the graph stays acyclic."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible shape, not a secret
    nodes: list[dict[str, Any]] = [{"id": "case", "type": "case_trigger", "config": {}}]
    edges: list[dict[str, Any]] = []
    for i in range(1, NODES):
        nodes.append(
            {
                "id": f"t{i}",
                "type": "transform",
                "title": f"Step {i}",
                "config": {"mapping": {f"v{i}": str(i)}},
            }
        )
    pairs: set[tuple[int, int]] = set()
    for i in range(1, NODES):
        pairs.add((rng.randrange(0, i), i))
    while len(pairs) < EDGES:
        target = rng.randrange(2, NODES)
        pairs.add((rng.randrange(1, target), target))
    for n, (source, target) in enumerate(sorted(pairs, key=lambda p: (p[1], p[0])), start=1):
        edges.append(
            {
                "id": f"e{n}",
                "source": nodes[source]["id"],
                "source_port": "case" if source == 0 else "findings",
                "target": nodes[target]["id"],
                "target_port": "in",
            }
        )
    return {"schema_version": 1, "name": "Large graph", "nodes": nodes, "edges": edges}


def measure(repeats: int, var_dir: Path) -> dict[str, float]:
    import django

    django.setup()
    from django.core.management import call_command
    from playwright.sync_api import sync_playwright

    from orchestrator import devstack
    from orchestrator.demo_data import load_demo_data
    from orchestrator.designs.services import import_workflow
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, sign_in

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    data = load_demo_data(PASSWORD, f"http://127.0.0.1:{devstack.free_port()}")
    import_workflow(
        data.department,
        large_graph(),
        data.workflow_version.template_version,
        slug="large",
        case_type="large",
    )
    port = devstack.free_port()
    web = devstack.start_web(port, var_dir / "logs", env={"PATHFLOW_VAR_DIR": str(var_dir)})
    base = f"http://127.0.0.1:{port}"
    opens, totals, layouts = [], [], []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(60_000)
            sign_in(page, base, "admin", PASSWORD)
            page.wait_for_url(f"{base}/app/studio/workflows")
            for _ in range(repeats + 1):  # the first one warms the browser's caches
                page.goto(f"{base}/app/runs")
                page.wait_for_selector("[data-testid=runs-empty], [data-testid=runs-table]")
                start = time.perf_counter()
                page.goto(f"{base}/app/studio/workflows/large")
                page.wait_for_function(
                    f"document.querySelectorAll('.react-flow__node').length === {NODES}"
                )
                opened = time.perf_counter()
                page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
                page.keyboard.press("l")
                page.wait_for_selector("[data-testid=editor][data-layouts='1']")
                page.evaluate("() => new Promise(requestAnimationFrame)")
                done = time.perf_counter()
                opens.append(opened - start)
                totals.append(done - start)
                layouts.append(done - opened)
            browser.close()
    finally:
        web.stop()
    return {
        "open": statistics.median(opens[1:]),
        "total": statistics.median(totals[1:]),
        "layout": statistics.median(layouts[1:]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pathflow-bench-") as tmp:
        var_dir = Path(tmp)
        os.environ["PATHFLOW_VAR_DIR"] = str(var_dir)
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("CELERY_BROKER_URL", None)
        figures = measure(args.repeats, var_dir)
    print(f"load_200_nodes_s={figures['total']:.3f}")
    print(f"open_200_nodes_s={figures['open']:.3f}")
    print(f"layout_200_nodes_s={figures['layout']:.3f}")


if __name__ == "__main__":
    main()
