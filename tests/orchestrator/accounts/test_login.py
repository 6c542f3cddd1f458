"""Signing in: lockout after repeated failures (django-axes), sessions that expire, CSRF on
every state change."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from orchestrator.accounts.models import User
from orchestrator.audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client: Client, username: str, password: str) -> int:
    response = client.post("/accounts/login/", {"username": username, "password": password})
    return response.status_code


def test_repeated_failures_lock_the_account_even_for_the_right_password(
    pathologist: User,
) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "pathologist", "wrong") == 200  # the form again, with its error

    assert sign_in(client, "pathologist", "wrong") == 429
    assert sign_in(client, "pathologist", PASSWORD) == 429
    assert client.get("/api/v1/me").status_code == 403
    # The lockout and the attempt made while locked out are each in the audit trail.
    events = AuditEvent.objects.filter(action="access.locked_out")
    assert [(e.object_id, e.outcome) for e in events] == [(str(pathologist.pk), "denied")] * 2


def test_a_few_failures_then_the_right_password_signs_in(pathologist: User) -> None:
    client = Client()
    assert sign_in(client, "pathologist", "wrong") == 200
    assert sign_in(client, "pathologist", PASSWORD) == 302
    assert client.get("/api/v1/me").json()["username"] == "pathologist"


def test_sessions_expire_and_end_with_the_browser() -> None:
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_a_state_change_without_the_csrf_token_is_refused(pathologist: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(pathologist)

    response = client.post(
        "/api/v1/review/sign-batch",
        {"reports": [1], "password": PASSWORD},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
