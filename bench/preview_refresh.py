"""Template designer benchmark: how long the live PDF preview takes to follow an edit.

Prints `name=value` lines:
  preview_refresh_ms      median time from an element's English label typed in the designer
                          to the preview PDF redrawn by pdf.js with the new label in it, in
                          headless Chromium (includes the designer's 250 ms debounce, the
                          server's render and the drawing); goal ≤ 800
  preview_server_ms       median time of the preview request alone (the server's share)

Runs against a fresh SQLite database in a temporary PATHFLOW_VAR_DIR with gunicorn on a free
loopback port, signed in as the demo admin, on a clone of the library's breast carcinoma
template (9 sections, 45 elements, 2 pages). Needs the front end built (npm run build).
Usage: .venv/bin/python bench/preview_refresh.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")

PASSWORD = "bench-password"  # noqa: S105 - a throw-away database for this run only
SLUG = "breast-bench"


def measure(repeats: int, var_dir: Path) -> dict[str, float]:
    import django

    django.setup()
    from django.core.management import call_command
    from playwright.sync_api import Response, sync_playwright

    from orchestrator import devstack
    from orchestrator.accounts.models import User
    from orchestrator.demo_data import load_demo_data
    from orchestrator.designs.library import clone_library_template
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, sign_in

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    data = load_demo_data(PASSWORD, f"http://127.0.0.1:{devstack.free_port()}")
    admin = User.objects.get(username="admin")
    clone_library_template(data.department, "breast-carcinoma", SLUG, "Breast", user=admin)
    port = devstack.free_port()
    web = devstack.start_web(port, var_dir / "logs", env={"PATHFLOW_VAR_DIR": str(var_dir)})
    base = f"http://127.0.0.1:{port}"
    totals: list[float] = []
    server: list[float] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1680, "height": 1050})
            page.set_default_timeout(60_000)
            sign_in(page, base, "admin", PASSWORD)
            page.goto(f"{base}/app/studio/templates/{SLUG}")
            page.wait_for_function(
                "Number(document.querySelector('[data-testid=preview-text]')?.dataset.drawn) > 0"
            )
            page.locator("button.element-select[data-element-id=procedure]").click()
            label = page.locator(".element-editor input[name=label_en]")
            for n in range(repeats + 1):  # the first one warms the renderer's caches
                text = f"Procedure edit {n}"
                with page.expect_response("**/api/v1/templates/preview") as answer:
                    start = time.perf_counter()
                    label.fill(text)
                response: Response = answer.value
                page.wait_for_function(
                    "t => document.querySelector('[data-testid=preview-text]')"
                    ".textContent.includes(t)",
                    arg=text,
                )
                page.evaluate("() => new Promise(requestAnimationFrame)")
                totals.append((time.perf_counter() - start) * 1000)
                server.append(response.request.timing["responseEnd"])
            browser.close()
    finally:
        web.stop()
    return {"total": statistics.median(totals[1:]), "server": statistics.median(server[1:])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pathflow-bench-") as tmp:
        var_dir = Path(tmp)
        os.environ["PATHFLOW_VAR_DIR"] = str(var_dir)
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("CELERY_BROKER_URL", None)
        figures = measure(args.repeats, var_dir)
    print(f"preview_refresh_ms={figures['total']:.0f}")
    print(f"preview_server_ms={figures['server']:.0f}")


if __name__ == "__main__":
    main()
