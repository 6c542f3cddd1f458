from django.urls import path

from orchestrator.integrations.fhir.api import read_diagnostic_report, search_diagnostic_reports

urlpatterns = [
    path("DiagnosticReport", search_diagnostic_reports, name="fhir-diagnosticreport-search"),
    path(
        "DiagnosticReport/<str:resource_id>",
        read_diagnostic_report,
        name="fhir-diagnosticreport-read",
    ),
]
