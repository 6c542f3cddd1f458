"""Project-level pages: health check, the front-end shell, the landing redirect."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.csrf import ensure_csrf_cookie


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect("/app/")


def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@login_required
@ensure_csrf_cookie  # the page's Sign out form posts the CSRF token read from this cookie
def frontend(request: HttpRequest, screen: str = "") -> HttpResponse | FileResponse:
    """The single-page app's index for /app/ and every URL under it (the page's router shows
    the screen, or its "not found" page)."""
    index = settings.FRONTEND_DIST / "index.html"
    if not index.exists():
        return HttpResponse(
            "The front end is not built: run `make demo` (or `npm run build` in frontend/).",
            status=503,
            content_type="text/plain",
        )
    response = FileResponse(index.open("rb"), content_type="text/html")
    response["Cache-Control"] = "no-cache"
    return response
