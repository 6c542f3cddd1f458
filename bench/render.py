"""Render benchmark: our report pipeline against naive WeasyPrint, measured in one run.

Prints `name=value` lines:
  render_ratio_2p   our median time to render the demo breast report in Chinese (2 A4 pages)
                    over naive WeasyPrint's median for ../shared/bench/reference_zh_2p.html
  ours_zh_2p_ms     our median, in milliseconds
  naive_zh_2p_ms    naive WeasyPrint's median, in milliseconds
  zh_2p_pdf_kb      the size of our Chinese 2-page PDF
  zh_2p_pages       its page count

Naive WeasyPrint runs in a fresh process, as a first-time user would call it
(`weasyprint.HTML(string=html).write_pdf()`), after one warm-up; ours runs warm in this process,
as a worker keeps WeasyPrint loaded. Usage: .venv/bin/python bench/render.py [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")
REFERENCES = Path(os.environ.get("PATHFLOW_BENCH_REFERENCES", REPO.parent / "shared" / "bench"))

NAIVE = """
import statistics, sys, time
import weasyprint
html = open(sys.argv[1], encoding="utf-8").read()
weasyprint.HTML(string=html).write_pdf()
times = []
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    weasyprint.HTML(string=html).write_pdf()
    times.append(time.perf_counter() - start)
print(statistics.median(times))
"""


def naive_median(reference: Path, repeats: int) -> float:
    result = subprocess.run(
        [sys.executable, "-c", NAIVE, str(reference), str(repeats)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def ours_median(repeats: int) -> tuple[float, bytes, int]:
    import django

    django.setup()
    from orchestrator.designs.models import TemplateVersion
    from orchestrator.reports.services import ReportHeader, render_report_pdf
    from workflows.datasets import parse_dataset

    library = REPO / "templates" / "breast-carcinoma"
    template_version = TemplateVersion(dataset=json.loads((library / "dataset.json").read_text()))
    dataset = parse_dataset(template_version.dataset)
    case = json.loads((REPO / "demo" / "cases" / "breast-malignant.json").read_text())
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
    provenance = {"ki67_index": source, "fna_malignancy_probability": source}
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

    def render() -> tuple[bytes, int]:
        pdf = render_report_pdf(template_version, dataset, header, values, provenance, "zh")
        return pdf.content, pdf.pages

    render()  # warm-up: imports, fonts, compiled layout and parsed stylesheet
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        content, pages = render()
        times.append(time.perf_counter() - start)
    return statistics.median(times), content, pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    reference = REFERENCES / "reference_zh_2p.html"
    if not reference.exists():
        sys.exit(f"reference document not found: {reference} (set PATHFLOW_BENCH_REFERENCES)")
    naive = naive_median(reference, args.repeats)
    ours, content, pages = ours_median(args.repeats)
    print(f"render_ratio_2p={ours / naive:.3f}")
    print(f"ours_zh_2p_ms={ours * 1000:.1f}")
    print(f"naive_zh_2p_ms={naive * 1000:.1f}")
    print(f"zh_2p_pdf_kb={len(content) / 1024:.1f}")
    print(f"zh_2p_pages={pages}")


if __name__ == "__main__":
    main()
