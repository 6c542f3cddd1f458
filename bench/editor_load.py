"""Studio benchmark: the workflow editor opening a large graph, and the template designer's
live preview following an edit.

Prints `name=value` lines:
  load_200_nodes_s   median time from navigating to the editor of a 200-node, 250-edge graph
                     saved without positions to the graph auto-laid out on the canvas, every
                     node and edge drawn, and the page answering (a frame after); goal ≤ 1.0
  layout_200_nodes_s median time of auto-layout on request (key L → laid out and fitted)
  preview_refresh_ms median time from an element's English label typed in the designer to the
                     preview PDF redrawn by pdf.js with the new label in it (the debounce, the
                     server's render and the drawing); goal ≤ 800
  preview_server_ms  median time of the preview request alone (the server's share)

Runs against a fresh SQLite database in a temporary PATHFLOW_VAR_DIR with gunicorn on a free
loopback port, in headless Chromium, signed in as the demo admin; the preview is measured on a
clone of the library's breast carcinoma template (9 sections, 45 elements, 2 pages). Needs the
front end built (npm run build).
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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")

NODES = 200
EDGES = 250
PASSWORD = "bench-password"  # noqa: S105 - a throw-away database for this run only
TEMPLATE = "breast-bench"
# A frame drawn and the event loop free again: the page answers input.
ANSWERING = "() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))"


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


def measure_editor(page: Page, base: str, repeats: int) -> dict[str, float]:
    loads, layouts = [], []
    for _ in range(repeats + 1):  # the first one warms the browser's caches
        page.goto(f"{base}/app/runs")
        page.wait_for_selector("[data-testid=runs-empty], [data-testid=runs-table]")
        start = time.perf_counter()
        page.goto(f"{base}/app/studio/workflows/large")
        # Edges are drawn once both their nodes are measured: all of them, all nodes are in.
        page.wait_for_function(
            "([n, e]) => document.querySelectorAll('.react-flow__node').length === n"
            " && document.querySelectorAll('.react-flow__edge').length === e",
            arg=[NODES, EDGES],
        )
        page.evaluate(ANSWERING)
        loads.append(time.perf_counter() - start)
        page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
        done = int(page.get_by_test_id("editor").get_attribute("data-layouts") or 0)
        start = time.perf_counter()
        page.keyboard.press("l")
        page.wait_for_selector(f"[data-testid=editor][data-layouts='{done + 1}']")
        page.evaluate(ANSWERING)
        layouts.append(time.perf_counter() - start)
    return {"load": statistics.median(loads[1:]), "layout": statistics.median(layouts[1:])}


def measure_preview(page: Page, base: str, repeats: int) -> dict[str, float]:
    from playwright.sync_api import Response

    page.goto(f"{base}/app/studio/templates/{TEMPLATE}")
    page.wait_for_function(
        "Number(document.querySelector('[data-testid=preview-text]')?.dataset.drawn) > 0"
    )
    page.locator("button.element-select[data-element-id=procedure]").click()
    label = page.locator(".element-editor input[name=label_en]")
    totals: list[float] = []
    server: list[float] = []
    for n in range(repeats + 1):  # the first one warms the renderer's caches
        text = f"Procedure edit {n}"
        with page.expect_response("**/api/v1/templates/preview") as answer:
            start = time.perf_counter()
            label.fill(text)
        response: Response = answer.value
        page.wait_for_function(
            "t => document.querySelector('[data-testid=preview-text]').textContent.includes(t)",
            arg=text,
        )
        page.evaluate("() => new Promise(requestAnimationFrame)")
        totals.append((time.perf_counter() - start) * 1000)
        server.append(response.request.timing["responseEnd"])
    return {"refresh": statistics.median(totals[1:]), "server": statistics.median(server[1:])}


def measure(repeats: int, var_dir: Path) -> dict[str, float]:
    import django

    django.setup()
    from django.core.management import call_command
    from playwright.sync_api import sync_playwright

    from orchestrator import devstack
    from orchestrator.accounts.models import User
    from orchestrator.demo_data import load_demo_data
    from orchestrator.designs.library import clone_library_template
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
    admin = User.objects.get(username="admin")
    clone_library_template(data.department, "breast-carcinoma", TEMPLATE, "Breast", user=admin)
    port = devstack.free_port()
    web = devstack.start_web(port, var_dir / "logs", env={"PATHFLOW_VAR_DIR": str(var_dir)})
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # The bench waits with page-side predicates, which the CSP (no eval) would refuse.
            page = browser.new_page(viewport={"width": 1600, "height": 1000}, bypass_csp=True)
            page.set_default_timeout(60_000)
            sign_in(page, base, "admin", PASSWORD)
            page.wait_for_url(f"{base}/app/studio/workflows")
            figures = measure_editor(page, base, repeats)
            page.set_viewport_size({"width": 1680, "height": 1050})
            figures |= measure_preview(page, base, repeats)
            browser.close()
    finally:
        web.stop()
    return figures


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
    print(f"load_200_nodes_s={figures['load']:.3f}")
    print(f"layout_200_nodes_s={figures['layout']:.3f}")
    print(f"preview_refresh_ms={figures['refresh']:.0f}")
    print(f"preview_server_ms={figures['server']:.0f}")


if __name__ == "__main__":
    main()
