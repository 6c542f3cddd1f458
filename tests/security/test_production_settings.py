"""Production settings (PATHFLOW_ENV=production, docs/deployment.md): `manage.py check --deploy`
is clean, a missing secret key or DEBUG on refuses to start, and a real gunicorn behind a
TLS-terminating proxy redirects plain HTTP, sends HSTS and sets cookies for HTTPS only."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pytest_django.fixtures import Settings

from orchestrator.accounts.models import User
from tests.conftest import PASSWORD, manage, serving_web

HOST = "pathflow.example.org"


def production_env(**overrides: str) -> dict[str, str]:
    return {
        "PATHFLOW_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": f"{HOST},127.0.0.1",
        "PATHFLOW_BEHIND_PROXY": "true",
        **overrides,
    }


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = manage(production_env(), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    print("check_deploy_issues=0")


def test_the_default_development_settings_are_not_mistaken_for_production() -> None:
    result = manage({"PATHFLOW_ENV": ""}, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W012" in result.stderr  # session cookie not HTTPS-only: development


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "too-short"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_DEBUG": "1"}, "DJANGO_DEBUG"),
        ({"PATHFLOW_ENV": "prod"}, "PATHFLOW_ENV"),
    ],
    ids=["no-secret", "short-secret", "debug", "unknown-env"],
)
def test_production_refuses_to_start_without_a_secret_key_or_with_debug(
    overrides: dict[str, str], named: str
) -> None:
    result = manage(production_env(**overrides), "check")
    assert result.returncode != 0
    assert f"environment variable {named}=" in result.stderr
    if overrides.get("DJANGO_SECRET_KEY"):
        assert overrides["DJANGO_SECRET_KEY"] not in result.stderr  # a key is never printed


@pytest.fixture
def production_web(
    transactional_db: None, process_env: dict[str, str], tmp_path: Path
) -> Iterator[str]:
    with serving_web({**process_env, **production_env()}, tmp_path) as url:
        yield url


def test_gunicorn_in_production_redirects_to_https_and_sets_hsts_and_secure_cookies(
    production_web: str, pathologist: User, settings: Settings
) -> None:
    # The suite's fast test hasher is not among the server's: store a hash it can check.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    pathologist.set_password(PASSWORD)
    pathologist.save()
    # Plain HTTP (no proxy header): every page but the health check and metrics is redirected.
    plain = httpx.get(f"{production_web}/app/", follow_redirects=False)
    assert plain.status_code == 301
    assert plain.headers["location"] == f"https://127.0.0.1:{production_web.rsplit(':', 1)[1]}/app/"
    assert httpx.get(f"{production_web}/healthz").status_code == 200

    https = {"X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=production_web, headers=https) as client:
        page = client.get("/accounts/login/")
        assert page.status_code == 200
        assert page.headers["strict-transport-security"] == (
            "max-age=31536000; includeSubDomains; preload"
        )
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert re.search(r"csrftoken=[^;]+;.*\bSecure\b", page.headers["set-cookie"])

        token = client.cookies["csrftoken"]
        # httpx sends Secure cookies to https URLs only: the proxy's side is plain HTTP.
        signed_in = client.post(
            "/accounts/login/",
            data={"username": "pathologist", "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={
                "Referer": f"https://127.0.0.1:{production_web.rsplit(':', 1)[1]}/",
                "Cookie": f"csrftoken={token}",
            },
            follow_redirects=False,
        )
    assert signed_in.status_code == 302, signed_in.text[:300]
    session = next(c for c in signed_in.headers.get_list("set-cookie") if "sessionid=" in c)
    assert "Secure" in session
    assert "HttpOnly" in session
    assert "SameSite=Lax" in session
