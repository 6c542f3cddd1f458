from django.contrib import admin

from orchestrator.reports.models import Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin[Report]):
    list_display = ("case", "version_no", "status", "language", "pdf_sha256", "created_at")
    list_filter = ("status", "language")
    readonly_fields = ("pdf_sha256", "data", "provenance")
