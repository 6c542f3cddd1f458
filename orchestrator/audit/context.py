"""Who is asking, for the audit trail: the client address of the request being served.

A middleware sets it for the duration of each request (a context variable, so threads and
async tasks each see their own); ``record_event`` reads it, so no call site has to pass the
request down. Outside a request (workers, the CLI) it is empty.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

client_address: ContextVar[str] = ContextVar("audit_client_address", default="")


def address_of(request: HttpRequest) -> str:
    """The client's address as the web server saw it. A proxy in front must set REMOTE_ADDR
    (e.g. gunicorn's --forwarded-allow-ips): X-Forwarded-For is not trusted here, since any
    client can write it."""
    return str(request.META.get("REMOTE_ADDR") or "")[:64]


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = client_address.set(address_of(request))
        try:
            return self.get_response(request)
        finally:
            client_address.reset(token)
