"""Demo data: a department, one user per role, the reference endpoints, the two breast templates
and their demo workflows. Idempotent, so ``make demo`` can run any number of times.

Each model feeds the report it belongs to: the FNA classifier (``breast-fna``) the AI estimate of
the breast FNA cytology report, the Ki-67 index (``ihc-dab``) the optional AI Ki-67 of the
breast resection report. The workflow files in ``demo/workflows/`` are ordinary export files
(``manage.py validate_workflow`` / ``import_workflow`` read them as they are)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from orchestrator.accounts.models import Department, Role, User
from orchestrator.cases.slide_pyramid import DEMO_MODEL_REGION, ensure_demo_slide
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.designs.models import TemplateVersion, WorkflowVersion
from orchestrator.designs.services import import_template_dir, import_workflow
from orchestrator.designs.workflow_files import read_export
from orchestrator.integrations.models import RoutingRule

DEMO_DIR = settings.BASE_DIR / "demo"
# The resection workflow is the demo's main one (``make demo`` runs its case); the FNA cytology
# workflow is the second.
DEMO_WORKFLOW_SLUG = "breast-resection-ki67"
DEMO_CASE_TYPE = "breast-resection"
# HL7 order codes (OBR-4.1) the demo's routing table sends to the two workflows.
DEMO_ORDER_CODE = "BREAST"
FNA_ORDER_CODE = "BREAST-FNA"
DEMO_CASE = "breast-resection"
FNA_WORKFLOW_SLUG = "breast-fna-cytology"
FNA_CASE_TYPE = "breast-fna"
FNA_CASE = "breast-fna-malignant"
DEMO_USERS = (
    # username, role, display name, staff (may use the Django admin)
    ("admin", Role.ADMIN, "Department admin 科室管理员", True),
    ("pathologist", Role.PATHOLOGIST, "Dr Li Wei 李伟", False),
    ("clinician", Role.CLINICIAN, "Dr Wang Fang 王芳", False),
    ("integration", Role.INTEGRATION, "LIS integration 接口工程师", False),
)


@dataclass(frozen=True)
class DemoData:
    department: Department
    workflow_version: WorkflowVersion  # breast resection + AI Ki-67
    fna_workflow_version: WorkflowVersion  # breast FNA cytology + AI malignancy estimate
    logins: list[tuple[str, str, str]]


def workflow_file(slug: str) -> dict[str, Any]:
    """A demo workflow export file (``{schema_version, workflow, template, graph}``)."""
    document: dict[str, Any] = json.loads((DEMO_DIR / "workflows" / f"{slug}.json").read_text())
    return document


def drafting_graph(graph: dict[str, Any]) -> dict[str, Any]:
    """A demo graph up to its draft: without the review node at its end, where a real run parks
    for the pathologist's sign-out. For benches and tests whose runs must end on their own."""
    nodes = [n for n in graph["nodes"] if n["type"] != "review"]
    kept = {n["id"] for n in nodes}
    return {**graph, "nodes": nodes, "edges": [e for e in graph["edges"] if e["target"] in kept]}


def with_delivery(
    graph: dict[str, Any], channel: str, destination: str, event: str = "report.drafted"
) -> dict[str, Any]:
    """``graph`` with a deliver node ``send`` after its render node: the report sent over
    ``channel`` to the catalog destination ``destination``."""
    render = next(n["id"] for n in graph["nodes"] if n["type"] == "render_report")
    send = {
        "id": "send",
        "type": "deliver",
        "config": {"channel": channel, "destination": destination, "event": event},
    }
    edge = {
        "id": "report-send",
        "source": render,
        "source_port": "report",
        "target": "send",
        "target_port": "report",
    }
    return {**graph, "nodes": [*graph["nodes"], send], "edges": [*graph["edges"], edge]}


def _import_demo_workflow(
    department: Department, slug: str, template_version: TemplateVersion
) -> WorkflowVersion:
    """The loader path with the template version just imported (the file names version 1,
    which is what a fresh database gets)."""
    exported = read_export(workflow_file(slug))
    return import_workflow(
        department,
        exported.graph,
        template_version,
        slug=exported.slug,
        case_type=exported.case_type,
    )


# What each demo model's outputs measure, so that validation warns when a workflow maps one into
# a report element measuring something else. Units are left out: the outputs are fractions that
# the workflows turn into the elements' percentages.
ENDPOINT_OUTPUTS: dict[str, dict[str, dict[str, str]]] = {
    "breast-fna": {"predict_proba": {"marker": "malignancy probability"}},
    "ihc-dab": {"positive_fraction": {"marker": "Ki-67", "stain": "IHC"}},
}


def ensure_endpoints(department: Department, base_url: str) -> None:
    for slug, name in (
        ("breast-fna", "Breast FNA cytology classifier"),
        ("ihc-dab", "IHC DAB nuclear index (Ki-67)"),
    ):
        ModelEndpoint.objects.update_or_create(
            department=department,
            slug=slug,
            defaults={
                "name": name,
                "protocol": "open_inference_v2",
                "base_url": base_url,
                "model_name": slug,
                "timeout_s": 60.0,
                "outputs": ENDPOINT_OUTPUTS[slug],
            },
        )


def with_demo_slide(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of a demo case document whose first specimen references the demo whole-slide
    image instead of the bundled sample tile: the viewer shows the slide, and the workflow's
    map over tiles reads the slide's top-left region, which holds the sample tile's pixels."""
    changed = copy.deepcopy(document)
    specimen = changed["specimens"][0]
    specimen["tiles"] = [
        {
            "uri": f"slide:{ensure_demo_slide()}",
            "stain": tile.get("stain", "Ki-67 (DAB)"),
            "region": list(DEMO_MODEL_REGION),
            "level": 0,
        }
        if tile.get("uri") == "sample:immunohistochemistry"
        else tile
        for tile in specimen.get("tiles", [])
    ]
    return changed


def load_demo_data(password: str, model_services_url: str) -> DemoData:
    # Built outside the transaction: it writes a file, not rows, and takes a few seconds once.
    ensure_demo_slide()
    with transaction.atomic():
        department, _ = Department.objects.update_or_create(
            code="pathology",
            defaults={
                "name": "病理科 Department of Pathology",
                "hospital_name": "Pathflow 示范医院 Demo Hospital",
            },
        )
        logins = []
        for username, role, display_name, staff in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username)
            user.department, user.role, user.display_name = department, role, display_name
            user.is_staff = staff
            user.is_superuser = role == Role.ADMIN
            user.set_password(password)
            user.save()
            logins.append((username, password, role.label))
        ensure_endpoints(department, model_services_url)
        resection = import_template_dir(
            department, settings.REPORT_LIBRARY_DIR / "breast-carcinoma"
        )
        cytology = import_template_dir(
            department, settings.REPORT_LIBRARY_DIR / "breast-fna-cytology"
        )
        workflow_version = _import_demo_workflow(department, DEMO_WORKFLOW_SLUG, resection)
        fna_workflow_version = _import_demo_workflow(department, FNA_WORKFLOW_SLUG, cytology)
        # HL7 orders (demo/hl7/orm-breast.hl7) start the demo workflows by their order code.
        for code, version in (
            (DEMO_ORDER_CODE, workflow_version),
            (FNA_ORDER_CODE, fna_workflow_version),
        ):
            RoutingRule.objects.get_or_create(
                department=department,
                order_code=code,
                specimen_type="",
                active=True,
                defaults={"workflow": version.workflow},
            )
    return DemoData(department, workflow_version, fna_workflow_version, logins)
