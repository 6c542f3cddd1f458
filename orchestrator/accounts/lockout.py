"""What a locked-out account is answered (django-axes' AXES_LOCKOUT_CALLABLE): 429 with how
long the lock lasts; under /api/ the API's error body (``detail`` and ``problems``), documented
on the operations that ask for the password again (sign-out, batch sign-out, amendment)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
    detail = (
        f"too many wrong passwords: this account is locked for {minutes} minutes "
        "(an administrator can unlock it sooner)"
    )
    headers = {"Retry-After": str(minutes * 60)}
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail, "problems": [detail]}, status=429, headers=headers)
    return HttpResponse(
        f"Account locked: {detail}.", status=429, content_type="text/plain", headers=headers
    )
