from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from orchestrator import views
from orchestrator.api_schema import not_found
from orchestrator.metrics import metrics_view

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("app/", views.frontend, name="frontend"),
    # Every screen of the single-page app has a real URL under /app/; the page routes them.
    path("app/<path:screen>", views.frontend, name="frontend-screen"),
    path("api/v1/", include("orchestrator.api_urls")),
    # FHIR R4 read/search of report versions (orchestrator/integrations/fhir/).
    path("fhir/", include("orchestrator.integrations.fhir.urls")),
]

# JSON for API URLs that match no route (as the schema documents their 404), HTML elsewhere.
handler404 = not_found
