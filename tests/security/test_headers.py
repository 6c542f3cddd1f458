"""Every kind of page answers with the security headers and the Content-Security-Policy: the
single-page app, the sign-in page, the Django admin, every GET operation of the API schema,
/fhir, /metrics, /healthz, redirects, and 404s — signed in or not.

The browser side (the pages work with the policy enforced) is tests/e2e/ (``browser_page``
fails a test on any policy refusal) and ``test_csp_browser.py`` here."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from django.http import HttpResponseBase
from django.test import Client

from orchestrator.accounts.models import User
from orchestrator.security_headers import OPENSEADRAGON_STYLE_HASH
from tests.conftest import REPO
from tests.orchestrator.test_permissions import schema_operations

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/healthz",
    "/metrics",
    "/accounts/login/",
    "/app/",
    "/app/cases/S26-1",
    "/admin/",
    "/admin/login/",
    "/admin/cases/case/",
    "/admin/reports/report/1/change/",
    "/fhir/DiagnosticReport",
    "/fhir/DiagnosticReport/1",
    "/static/app/no-such-file.js",
    "/no-such-page",
]


def api_get_urls() -> list[str]:
    """Every GET operation of the OpenAPI schema, path parameters filled with "1"."""
    return [
        re.sub(r"\{[^}]+\}", "1", operation.split(" ", 1)[1])
        for operation in schema_operations()
        if operation.startswith("GET ")
    ]


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        assert name not in parsed, f"{name} appears twice"
        parsed[name] = values
    return parsed


def assert_secure_headers(url: str, response: HttpResponseBase) -> None:
    headers = response.headers
    assert response.status_code < 500, (url, response.status_code)
    policy = directives(headers.get("Content-Security-Policy", ""))
    assert policy["default-src"] == ["'self'"], url
    assert policy["script-src"] == ["'self'"], url  # no inline script, no eval
    # No inline style sheets but OpenSeadragon's one rule, by its hash.
    assert policy["style-src-elem"] == ["'self'", f"'{OPENSEADRAGON_STYLE_HASH}'"], url
    assert policy["object-src"] == ["'none'"], url
    assert policy["frame-ancestors"] == ["'none'"], url
    assert policy["base-uri"] == ["'self'"], url
    assert policy["form-action"] == ["'self'"], url
    for values in policy.values():
        assert "*" not in values, url
        assert "'unsafe-eval'" not in values, url
    assert headers.get("X-Content-Type-Options") == "nosniff", url
    assert headers.get("X-Frame-Options") == "DENY", url
    assert headers.get("Referrer-Policy") == "same-origin", url
    assert headers.get("Cross-Origin-Opener-Policy") == "same-origin", url
    assert "camera=()" in headers.get("Permissions-Policy", ""), url


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "admin"])
def test_every_page_and_api_operation_carries_the_security_headers(
    client: Client, admin: User, signed_in: bool
) -> None:
    if signed_in:
        client.force_login(admin)
    urls = PAGES + api_get_urls()
    assert len(urls) > 40  # the schema was read
    for url in urls:
        assert_secure_headers(url, client.get(url))
    who = "admin" if signed_in else "anonymous"
    print(f"security_headers_urls_{who}={len(urls)} security_headers_missing_{who}=0")


def test_a_refused_sign_in_and_an_api_write_carry_them_too(client: Client, admin: User) -> None:
    refused = client.post("/accounts/login/", {"username": "admin", "password": "wrong"})
    assert refused.status_code == 200
    assert_secure_headers("POST /accounts/login/", refused)
    client.force_login(admin)
    invalid = client.post("/api/v1/templates/", "{}", content_type="application/json")
    assert invalid.status_code == 400
    assert_secure_headers("POST /api/v1/templates/", invalid)


def test_the_sign_in_page_uses_no_inline_style_or_script(client: Client) -> None:
    page = client.get("/accounts/login/").content.decode()
    assert "<style" not in page
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None
    assert 'rel="stylesheet" href="/static/pathflow/login.css"' in page


def test_the_allowed_openseadragon_style_is_the_one_the_installed_openseadragon_injects() -> None:
    source = (
        REPO / "frontend/node_modules/openseadragon/build/openseadragon/openseadragon.js"
    ).read_text()
    injected = re.search(r"style\.textContent\s*=\s*((?:\s*'[^']*'\s*\+?)+);", source)
    assert injected is not None, "OpenSeadragon no longer injects its style: drop the hash"
    text = "".join(re.findall(r"'([^']*)'", injected.group(1)))
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    assert f"sha256-{digest}" == OPENSEADRAGON_STYLE_HASH
