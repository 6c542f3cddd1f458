"""Insecure direct object references, the gaps around the main sweep.

The sweep itself is tests/orchestrator/test_permissions.py: for **every operation of the OpenAPI
schema** (``test_every_operation_in_the_schema_has_a_scoping_case`` fails when one has no row),
another department's pathologist, admin and integration user, signed in, gets 403/404 for our
objects, and lists leak none of our identifiers, and nothing of ours changes. It is not repeated
here. What it does not cover, this file does:

- the same sweep over every operation that accepts API tokens, **with a real bearer token** of
  the other department (the path a LIS takes: no session, no CSRF);
- the Django admin, which is installation-wide: a department admin (not staff) cannot open it,
  and a staff account without model permissions sees no model.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from orchestrator.accounts.models import Role, User
from orchestrator.integrations.access import do_create_token
from tests.factories import UserFactory
from tests.orchestrator.test_permissions import (
    CREATE,
    GLOBAL,
    LIST,
    OBJECT,
    OPERATIONS,
    REFERS,
    World,
    ours,
)

# The sweep's fixture (the explicit re-export makes pytest register it here).
from tests.orchestrator.test_permissions import world as world

pytestmark = [pytest.mark.service, pytest.mark.django_db]


def token_operations() -> list[str]:
    """The schema's operations whose security lists the API-token scheme."""
    schema = SchemaGenerator().get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    return sorted(
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
        and any("apiToken" in requirement for requirement in operation.get("security", []))
    )


TOKEN_OPERATIONS = token_operations()


def test_token_operations_are_found_and_all_have_a_scoping_case() -> None:
    assert len(TOKEN_OPERATIONS) >= 5
    assert [op for op in TOKEN_OPERATIONS if op not in OPERATIONS] == []


@pytest.fixture
def their_token(other_department_pathologist: User) -> Client:
    their_admin = UserFactory.create(
        username="their-admin", department=other_department_pathologist.department, role=Role.ADMIN
    )
    _, secret = do_create_token(their_admin, "Their LIS")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}", enforce_csrf_checks=True)


@pytest.mark.parametrize("operation", TOKEN_OPERATIONS)
def test_another_departments_api_token_reaches_none_of_our_objects(
    operation: str, world: World, their_token: Client
) -> None:
    case = OPERATIONS[operation]
    method, _ = operation.split(" ", 1)
    before = ours(world)
    url, body = case.url(world), case.body(world)
    send: Any = getattr(their_token, method.lower())
    response = (
        send(url) if body is None else send(url, json.dumps(body), content_type="application/json")
    )

    text = (b"" if response.streaming else response.content).decode(errors="replace")
    assert response.status_code != 401, (operation, text[:300])  # the token was accepted
    if case.kind == OBJECT:
        assert response.status_code in (403, 404), (operation, response.status_code, text[:300])
    elif case.kind == REFERS:
        assert response.status_code in (400, 403, 404), (operation, text[:300])
    else:
        assert case.kind in (LIST, GLOBAL, CREATE)
        assert response.status_code < 500, (operation, text[:300])
    sent = url + json.dumps(body)
    leaked = [m for m in world.markers() if m in text and m not in sent]
    assert leaked == [], f"{operation} showed {leaked} to another department's token"
    assert ours(world) == before, f"{operation} changed another department's objects"


ADMIN_MODEL_PAGES = [
    "/admin/cases/case/",
    "/admin/reports/report/",
    "/admin/runs/run/",
    "/admin/audit/auditevent/",
    "/admin/integrations/inboundmessage/",
    "/admin/accounts/user/",
]


def test_a_department_admin_cannot_open_the_installation_wide_admin(
    world: World, client: Client, other_department_pathologist: User
) -> None:
    their_admin = UserFactory.create(
        username="their-admin", department=other_department_pathologist.department, role=Role.ADMIN
    )
    client.force_login(their_admin)
    for path in ["/admin/", *ADMIN_MODEL_PAGES]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/admin/login/"), path


def test_a_staff_account_without_model_permissions_sees_no_model(
    world: World, client: Client, other_department_pathologist: User
) -> None:
    staff = UserFactory.create(
        username="their-staff",
        department=other_department_pathologist.department,
        role=Role.ADMIN,
        is_staff=True,
    )
    client.force_login(staff)
    index = client.get("/admin/").content.decode()
    assert world.accession not in index
    assert "/admin/cases/case/" not in index
    for path in ADMIN_MODEL_PAGES:
        assert client.get(path).status_code == 403, path
