from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from orchestrator.reports.models import FieldOverride, Report, ReportSignature


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin[Report]):
    """Report versions change only through the lifecycle (review, sign-out, amendment), which
    records who and why: the admin shows them and changes nothing."""

    list_display = ("case", "version_no", "status", "language", "pdf_sha256", "created_at")
    list_filter = ("status", "language")
    readonly_fields = ("pdf_sha256", "data", "provenance")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReportSignature)
class ReportSignatureAdmin(ReadOnlyAdmin):
    list_display = ("report", "signer", "signed_at", "meaning", "recall_until", "recalled_at")


@admin.register(FieldOverride)
class FieldOverrideAdmin(ReadOnlyAdmin):
    list_display = ("report", "element", "user", "at")
