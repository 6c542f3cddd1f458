"""Content-Security-Policy and Permissions-Policy on every response (Django 5.2 has no CSP of
its own; SecurityMiddleware sets HSTS, nosniff, Referrer-Policy and COOP, and
XFrameOptionsMiddleware X-Frame-Options). docs/deployment.md explains each directive.

One policy for every page: the single-page app under /app/, the sign-in page, the Django admin,
the API (its browsable pages too), /fhir and /metrics. Nothing runs inline: every script is a
file served by this origin, so ``script-src 'self'`` holds with no nonce or hash; the one
inline style sheet (OpenSeadragon's) is allowed by its hash.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

# OpenSeadragon's viewer adds `<style data-openseadragon-mobile-css>` (no focus outline on touch
# screens) to the page. tests/security/test_headers.py recomputes this from the installed
# OpenSeadragon, so an upgrade that changes the rule fails there, not in a user's browser.
OPENSEADRAGON_STYLE_HASH = "sha256-9xTiqzfwFaL2SGb1rmr8gysEwVVjIvqWAgmZgqFqpEE="

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        # No inline script, no eval: scripts are the built front end's and the admin's files.
        "script-src 'self'",
        # pdf.js runs its worker from a same-origin file; OpenSeadragon and ECharts none.
        "worker-src 'self'",
        # Style sheets only from files, and the one rule OpenSeadragon injects as a <style>
        # element (by its hash: OPENSEADRAGON_STYLE_HASH). Style *attributes* are allowed:
        # React Flow positions nodes, ECharts its tooltips and OpenSeadragon its overlays with
        # them, and an attribute cannot run script or (with img-src/font-src below) send data
        # anywhere else.
        "style-src 'self'",
        f"style-src-elem 'self' '{OPENSEADRAGON_STYLE_HASH}'",
        "style-src-attr 'unsafe-inline'",
        # data: for the page's icon and the admin's, blob: for canvases turned into images.
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Pathflow uses none of these browser features; no page (or script injected into one) may.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "camera",
        "microphone",
        "geolocation",
        "payment",
        "usb",
        "serial",
        "bluetooth",
    )
)


class SecurityHeadersMiddleware:
    """Adds the two headers unless a view set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
