"""Demo data: a department, one user per role, the reference endpoints, the breast template and
the demo workflow. Idempotent, so ``make demo`` can run any number of times."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from orchestrator.accounts.models import Department, Role, User
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.designs.models import WorkflowVersion
from orchestrator.designs.services import import_template_dir, import_workflow

DEMO_DIR = settings.BASE_DIR / "demo"
DEMO_WORKFLOW_SLUG = "breast-fna-ihc"
DEMO_CASE_TYPE = "breast-resection"
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
    workflow_version: WorkflowVersion
    logins: list[tuple[str, str, str]]


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
            },
        )


def load_demo_data(password: str, model_services_url: str) -> DemoData:
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
        template_version = import_template_dir(
            department, settings.REPORT_LIBRARY_DIR / "breast-carcinoma"
        )
        document = json.loads((DEMO_DIR / "workflows" / f"{DEMO_WORKFLOW_SLUG}.json").read_text())
        workflow_version = import_workflow(
            department,
            document,
            template_version,
            slug=DEMO_WORKFLOW_SLUG,
            case_type=DEMO_CASE_TYPE,
        )
    return DemoData(department, workflow_version, logins)
