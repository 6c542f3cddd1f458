"""A department with data behind every API operation, and each persona's credentials, for
the schema conformance run (tests/orchestrator/test_schema_conformance.py): the demo department
(template, workflows, catalog endpoints, routing rules), a draft waiting for sign-out, a signed
report with its delivery, an inbound message, an API token, and another department's pathologist.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.test import Client

from orchestrator.accounts.models import Department, Role, User
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import load_demo_data
from orchestrator.integrations.access import do_create_token
from orchestrator.integrations.inbound_models import InboundMessage
from orchestrator.integrations.outbox_models import DeliveryRoute
from tests.orchestrator.reports.drafts import parked_draft

PERSONAS = ("admin", "pathologist", "outsider", "clinician", "integration")


def session_credentials(user: User) -> dict[str, str]:
    """A signed-in browser's session key and CSRF token (the API accepts unsafe methods from a
    session only with one)."""
    browser = Client()
    browser.force_login(user)
    return {
        "session": browser.cookies[settings.SESSION_COOKIE_NAME].value,
        "csrf": secrets.token_hex(16),  # 32 characters: the unmasked secret form
    }


def seed_world(password: str, model_services_url: str) -> dict[str, dict[str, str]]:
    """Seed the data and answer each persona's credentials (the integration client's API
    token; everyone else's session)."""
    demo = load_demo_data(password, model_services_url)
    parked_draft(demo, "S26-40001", mrn="MRN-40001")
    lis = ModelEndpoint.objects.create(
        department=demo.department,
        slug="lis",
        name="Hospital LIS",
        protocol="webhook",
        base_url="http://127.0.0.1:9/results",
        timeout_s=2.0,
    )
    DeliveryRoute.objects.create(
        department=demo.department, destination=lis, report_statuses=["final"]
    )
    to_sign = parked_draft(demo, "S26-40002", mrn="MRN-40002")
    pathologist = User.objects.get(username="pathologist")
    signed = Client(HTTP_HOST="localhost")
    signed.force_login(pathologist)
    answer = signed.post(
        f"/api/v1/review/reports/{to_sign.pk}/sign",
        {"password": password},
        content_type="application/json",
    )
    assert answer.status_code in (200, 201), answer.content
    InboundMessage.objects.create(
        channel="mllp",
        raw=b"MSH|^~\\&|LIS|HOSP|PATHFLOW|PATH|20261206||ORM^O01|C1|P|2.5\r",
        department=demo.department,
        accession="S26-40002",
        patient_mrn="MRN-40002",
    )
    other, _ = Department.objects.get_or_create(code="other", defaults={"name": "Other pathology"})
    outsider, _ = User.objects.get_or_create(
        username="outsider", defaults={"department": other, "role": Role.PATHOLOGIST}
    )
    admin = User.objects.get(username="admin")
    _, secret = do_create_token(admin, "Hospital LIS")
    credentials = {
        name: session_credentials(User.objects.get(username=name))
        for name in ("admin", "pathologist", "clinician")
    }
    credentials["outsider"] = session_credentials(outsider)
    credentials["integration"] = {"token": secret}
    return credentials
