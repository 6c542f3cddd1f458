"""Render benchmark: our report pipeline against naive WeasyPrint, measured in one run.

Prints `name=value` lines:
  render_ratio_2p    our median time for the library's breast template filled with its sample
                     case and a 512² tile, in Chinese, over naive WeasyPrint's median for
                     bench/references/reference_zh_2p.html (goal ≤ 0.5)
  render_ratio_20p   our median time for a case with enough specimens to fill about 20 pages
                     (English) over naive WeasyPrint's for reference_en_20p.html (goal ≤ 0.25)
  zh_2p_pdf_kb       the size of our Chinese 2-page PDF (goal ≤ 200)
  ours_zh_2p_ms, naive_zh_2p_ms, ours_20p_ms, naive_20p_ms, zh_2p_pages, en_20p_pages, ...

Naive WeasyPrint runs in a fresh process, as a first-time user would call it
(`weasyprint.HTML(string=html).write_pdf()`), after one warm-up. Ours goes through the real
renderer child (`orchestrator.reports.renderer`), warm, as a web or Celery worker process keeps
it: the time of a call to `render_report_pdf`, including building the context and the round trip.
`--profile` prints the child's cProfile of one 2-page and one 20-page render instead.

Usage: .venv/bin/python bench/render.py [--repeats N] [--repeats-20p N] [--profile] [--runs 3]
(``--runs 3``: the whole bench 3 times in fresh processes, each run's lines prefixed ``run<i>_``,
then every figure's median over the runs under its own name: issue 13's "median of 3 runs")
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")
REFERENCES = Path(os.environ.get("PATHFLOW_BENCH_REFERENCES", REPO / "bench" / "references"))
SPECIMENS_20P = 440  # fills about 20 A4 pages with the base layout (see en_20p_pages)

NAIVE = """
import statistics, sys, time
import weasyprint
html = open(sys.argv[1], encoding="utf-8").read()
document = weasyprint.HTML(string=html).render()
pages = len(document.pages)
document.write_pdf()
times = []
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    weasyprint.HTML(string=html).write_pdf()
    times.append(time.perf_counter() - start)
print(statistics.median(times), pages)
"""


def naive_median(reference: Path, repeats: int) -> tuple[float, int]:
    result = subprocess.run(
        [sys.executable, "-c", NAIVE, str(reference), str(repeats)],
        capture_output=True,
        text=True,
        check=True,
    )
    median, pages = result.stdout.strip().splitlines()[-1].split()
    return float(median), int(pages)


def median_of(render: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    result = render()  # warm-up: starts the child, compiles the layout, parses the CSS
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = render()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def case_renders() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Two render functions: the Chinese 2-page breast report and the 20-page English case."""
    import django

    django.setup()
    from orchestrator.cases.tiles import load_tile_png
    from orchestrator.designs.models import TemplateVersion
    from orchestrator.reports.rendering import Figure
    from orchestrator.reports.services import ReportHeader, render_report_pdf
    from workflows.datasets import parse_dataset

    library = REPO / "templates" / "breast-carcinoma"
    template_version = TemplateVersion(dataset=json.loads((library / "dataset.json").read_text()))
    dataset = parse_dataset(template_version.dataset)
    case = json.loads((REPO / "demo" / "cases" / "breast-resection.json").read_text())
    values = json.loads((library / "sample_findings.json").read_text())
    source = [
        {
            "kind": "model",
            "endpoint": "ihc-dab",
            "model_name": "ihc-dab",
            "model_version": "1",
            "run": "1",
        }
    ]
    provenance = {"ki67_index": source}
    from PIL import Image

    with Image.open(io.BytesIO(load_tile_png({"uri": "sample:immunohistochemistry"}))) as image:
        tile = io.BytesIO()
        image.crop((0, 0, 512, 512)).save(tile, format="PNG")
    figures = [Figure(tile.getvalue(), "Ki-67 免疫组化 ×40（A2 蜡块）", width_mm=60)]
    header = ReportHeader(
        hospital_name="Pathflow 示范医院 Demo Hospital",
        department_name="病理科",
        accession=case["accession"],
        patient_name=case["patient"]["name"],
        patient_mrn=case["patient"]["mrn"],
        patient_sex="F",
        patient_birth_date="1971-06-02",
        ordering_physician=case["ordering_physician"],
        clinical_info=case["clinical_info"],
        specimens=[
            {"label": s["label"], "site": s["site"], "procedure": s["procedure"]}
            for s in case["specimens"]
        ],
    )
    many = ReportHeader(
        **{
            **header.__dict__,
            "hospital_name": "Pathflow Demo Hospital",
            "department_name": "Department of Pathology",
            "specimens": [
                {
                    "label": f"A{i}",
                    "site": f"Left breast, level {i % 3 + 1}, lymph node {i}",
                    "procedure": "Axillary dissection" if i % 2 else "Wide local excision",
                    "blocks": str(i % 6 + 1),
                    "description": "Firm grey-white nodule with a stellate cut surface, "
                    f"{i % 9 + 3} mm from the nearest inked margin",
                }
                for i in range(1, SPECIMENS_20P + 1)
            ],
        }
    )

    def zh_2p() -> Any:
        return render_report_pdf(
            template_version, dataset, header, values, provenance, "zh", figures=figures
        )

    def en_20p() -> Any:
        return render_report_pdf(
            template_version, dataset, many, values, provenance, "en", figures=figures
        )

    return zh_2p, en_20p


def profile(render: Callable[[], Any]) -> None:
    """cProfile the renderer child's work: the same request, run inside this process."""
    from orchestrator.reports import rendering
    from orchestrator.reports.renderer.engine import Engine
    from orchestrator.reports.renderer.protocol import encode, read_message

    captured: list[bytes] = []

    class Capture:
        def request(self, header: dict[str, Any], blobs: list[bytes]) -> Any:
            captured.append(encode(header, blobs))
            raise SystemExit

    original = rendering.renderer
    rendering.renderer = lambda: Capture()  # type: ignore[assignment,return-value]
    try:
        render()
    except SystemExit:
        pass
    finally:
        rendering.renderer = original
    message = read_message(io.BytesIO(captured[0]))
    assert message is not None
    engine = Engine(rendering.BASE_LAYOUT_DIR)
    engine.render(*message)  # warm, as the child is
    profiler = cProfile.Profile()
    profiler.enable()
    engine.render(*message)
    profiler.disable()
    stats = io.StringIO()
    pstats.Stats(profiler, stream=stats).sort_stats(
        os.environ.get("PROFILE_SORT", "cumulative")
    ).print_stats(25)
    print(stats.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--repeats-20p", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="run the whole bench this many times (fresh processes) and print each figure's "
        "median under its own name (issue 13: the median of 3 runs)",
    )
    args = parser.parse_args()
    if args.runs > 1 and not args.profile:
        from runs import median_of_runs  # bench/runs.py, beside this script

        argv = ["--repeats", str(args.repeats), "--repeats-20p", str(args.repeats_20p)]
        median_of_runs(Path(__file__), args.runs, argv)
        return
    zh_2p, en_20p = case_renders()
    if args.profile:
        for render in (zh_2p, en_20p):
            profile(render)
        return
    references = [REFERENCES / "reference_zh_2p.html", REFERENCES / "reference_en_20p.html"]
    for reference in references:
        if not reference.exists():
            sys.exit(f"reference document not found: {reference} (set PATHFLOW_BENCH_REFERENCES)")
    naive_2p, naive_2p_pages = naive_median(references[0], args.repeats)
    naive_20p, naive_20p_pages = naive_median(references[1], args.repeats_20p)
    ours_2p, pdf_2p = median_of(zh_2p, args.repeats)
    ours_20p, pdf_20p = median_of(en_20p, args.repeats_20p)
    print(f"render_ratio_2p={ours_2p / naive_2p:.3f}")
    print(f"render_ratio_20p={ours_20p / naive_20p:.3f}")
    print(f"zh_2p_pdf_kb={len(pdf_2p.content) / 1024:.1f}")
    print(f"ours_zh_2p_ms={ours_2p * 1000:.1f}")
    print(f"naive_zh_2p_ms={naive_2p * 1000:.1f}")
    print(f"ours_20p_ms={ours_20p * 1000:.1f}")
    print(f"naive_20p_ms={naive_20p * 1000:.1f}")
    print(f"zh_2p_pages={pdf_2p.pages}")
    print(f"naive_zh_2p_pages={naive_2p_pages}")
    print(f"en_20p_pages={pdf_20p.pages}")
    print(f"naive_en_20p_pages={naive_20p_pages}")
    print(f"en_20p_pdf_kb={len(pdf_20p.content) / 1024:.1f}")


if __name__ == "__main__":
    main()
