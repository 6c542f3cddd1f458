"""Report lookup benchmark: a clinician finds a case's reports by accession through the API,
with 1,000,000 report versions in PostgreSQL.

Prints `name=value` lines:
  rows             report versions in the database
  cases            cases they belong to
  lookup_p50_ms    median of one lookup: GET portal/search?q=<accession> then
                   GET portal/cases/{id}/reports (both audited), through Django's full
                   request stack (middleware, session, policy, serializers), in this process
  lookup_p99_ms    99th percentile of the same; goal ≤ 20
  lookup_cpu_ms    this process's CPU time per lookup (Django, DRF, the ORM, psycopg; not the
                   database server's): less sensitive to a busy machine than wall time
  queries_per_lookup  SQL statements one lookup sends (both requests, session and audit
                   included): the load-independent part of the figure
  fill_s           time to fill the database (SQL generate_series)

Needs DATABASE_URL pointing at a PostgreSQL database of its own, which it migrates and fills
(once: a filled database is reused). Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/pathflow_bench \
      .venv/bin/python bench/lookup.py [--rows 1000000] [--lookups 500]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from orchestrator.accounts.models import User  # noqa: E402
from orchestrator.cases.models import Case  # noqa: E402
from orchestrator.demo_data import load_demo_data  # noqa: E402
from orchestrator.reports.models import Report  # noqa: E402

PREFIX = "B"

FILL = """
INSERT INTO cases_case (department_id, accession, case_type, patient_name, patient_mrn,
                        patient_sex, clinical_info, ordering_physician, source, findings,
                        created_at, priority)
SELECT %(department)s, 'B' || lpad(n::text, 8, '0'), 'breast-resection', 'Bench Patient',
       'MRN-B' || (n %% 200000)::text, 'F', '', '', 'bench', '{}'::jsonb,
       now() - (n || ' seconds')::interval, 'routine'
FROM generate_series(%(first)s, %(last)s) AS n
"""

FILL_REPORTS = """
INSERT INTO reports_report (case_id, run_id, template_version_id, version_no, status,
                            supersedes_id, language, data, provenance, pdf, pdf_sha256,
                            created_at, signed_by_id, signed_at, author_id, reason)
SELECT c.id, NULL, %(template)s, v, CASE WHEN v = 1 THEN 'final' ELSE 'amended' END,
       NULL, 'en', '{"pt_category": "pT1c"}'::jsonb, '{}'::jsonb, '', repeat('0', 64),
       now(), %(signer)s, now(), %(signer)s, CASE WHEN v = 1 THEN '' ELSE 'bench' END
FROM cases_case c CROSS JOIN generate_series(1, %(versions)s) AS v
WHERE c.source = 'bench' AND c.id > %(after_case)s
"""


# Every signed bench version has its signature record, as a sign-out leaves it (the clinician's
# list joins it: recalled sign-outs are not shown).
FILL_SIGNATURES = """
INSERT INTO reports_reportsignature (report_id, signer_id, signed_at, meaning, pdf_sha256,
                                     recall_until, recalled_at, recalled_by_id)
SELECT r.id, r.signed_by_id, r.signed_at, 'Approved (bench)', r.pdf_sha256, r.signed_at,
       NULL, NULL
FROM reports_report r JOIN cases_case c ON c.id = r.case_id
WHERE c.source = 'bench'
  AND NOT EXISTS (SELECT 1 FROM reports_reportsignature s WHERE s.report_id = r.id)
"""


def fill(rows: int, versions: int = 2) -> float:
    """Add bench cases (two signed versions each) until there are ``rows`` versions. Signed
    versions cannot be deleted (the trigger refuses), so a smaller earlier fill is extended."""
    started = time.monotonic()
    demo = load_demo_data("bench-password", "http://127.0.0.1:9")
    signer = User.objects.get(username="pathologist")
    existing = Case.objects.filter(source="bench").count()
    wanted = rows // versions
    if existing >= wanted:
        return sign_all(started)
    after_case = Case.objects.order_by("-id").values_list("id", flat=True).first() or 0
    params = {
        "department": demo.department.pk,
        "first": existing + 1,
        "last": wanted,
        "versions": versions,
        "template": demo.workflow_version.template_version_id,
        "signer": signer.pk,
        "after_case": after_case,
    }
    with connection.cursor() as cursor:
        cursor.execute(FILL, params)
        cursor.execute(FILL_REPORTS, params)
        cursor.execute("ANALYZE cases_case")
        cursor.execute("ANALYZE reports_report")
    return sign_all(started)


def sign_all(started: float) -> float:
    """Add the signature records the bench versions lack (a database filled before they were
    part of the bench gets them here); the fill's time so far plus theirs."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM reports_report r JOIN cases_case c ON c.id = r.case_id"
            " WHERE c.source = 'bench' AND NOT EXISTS (SELECT 1 FROM reports_reportsignature s"
            " WHERE s.report_id = r.id))"
        )
        row = cursor.fetchone()
        if not row or not row[0]:
            return time.monotonic() - started
        cursor.execute(FILL_SIGNATURES)
        cursor.execute("ANALYZE reports_reportsignature")
    return time.monotonic() - started


def lookups(count: int, cases: int) -> list[float]:
    client = Client(SERVER_NAME="127.0.0.1")  # ALLOWED_HOSTS
    client.force_login(User.objects.get(username="clinician"))
    times = []
    for _ in range(count):
        # A benchmark's sample, not a secret.
        accession = f"{PREFIX}{random.randint(1, cases):08d}"  # noqa: S311
        started = time.perf_counter()
        found = client.get("/api/v1/portal/search", {"q": accession}).json()
        reports = client.get(f"/api/v1/portal/cases/{found[0]['case_id']}/reports").json()
        times.append((time.perf_counter() - started) * 1000)
        assert reports["versions"], accession
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=500)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("set DATABASE_URL to a PostgreSQL database of its own")
    call_command("migrate", verbosity=0)
    fill_s = fill(args.rows)
    cases = Case.objects.filter(source="bench").count()
    lookups(20, cases)  # warm: connection, caches, the policy's first queries
    queries: list[str] = []

    def counted(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counted):
        lookups(1, cases)  # the client's login, then one lookup
        one = len(queries)
        queries.clear()
        lookups(2, cases)  # the same login, then two
    per_lookup = len(queries) - one
    cpu_started = time.process_time()
    times = sorted(lookups(args.lookups, cases))
    cpu_ms = (time.process_time() - cpu_started) * 1000 / args.lookups
    print(f"rows={Report.objects.count()}")
    print(f"cases={cases}")
    print(f"fill_s={fill_s:.1f}")
    print(f"lookup_p50_ms={statistics.median(times):.2f}")
    print(f"lookup_p99_ms={times[int(len(times) * 0.99) - 1]:.2f}")
    print(f"lookup_cpu_ms={cpu_ms:.2f}")
    print(f"queries_per_lookup={per_lookup}")


if __name__ == "__main__":
    main()
