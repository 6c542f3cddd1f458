"""Report versions. A signed (final) report is never edited: amendments are new rows."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PRELIMINARY = "preliminary", "Preliminary"
    FINAL = "final", "Final"
    AMENDED = "amended", "Amended"
    CORRECTED = "corrected", "Corrected"
    ADDENDUM = "addendum", "Addendum"


SIGNED_STATUSES = frozenset(
    {ReportStatus.FINAL, ReportStatus.AMENDED, ReportStatus.CORRECTED, ReportStatus.ADDENDUM}
)


# Who may read unsigned versions (drafts, preliminary): the people who review and sign them.
# Everyone else of the department — clinicians, integration engineers — reads signed versions.
DRAFT_READERS = frozenset({"admin", "pathologist"})


class SignedReportImmutable(Exception):
    """Raised when code tries to change a signed report version in place."""


class Report(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="reports")
    run = models.ForeignKey(
        "runs.Run", null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    template_version = models.ForeignKey(
        "designs.TemplateVersion", on_delete=models.PROTECT, related_name="reports"
    )
    version_no = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=20, choices=ReportStatus.choices)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    language = models.CharField(max_length=8, default="zh")
    data = models.JSONField(default=dict)
    # Per element: where the value came from (model endpoint + version + run, or a person).
    provenance = models.JSONField(default=dict)
    pdf = models.FileField(upload_to="reports/%Y/%m/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case", "-version_no"]
        constraints = [
            models.UniqueConstraint(fields=["case", "version_no"], name="report_version_per_case")
        ]

    def __str__(self) -> str:
        return f"{self.case.accession} report v{self.version_no} ({self.status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored in SIGNED_STATUSES:
                raise SignedReportImmutable(f"{self} is signed; amend it with a new version")
        super().save(*args, **kwargs)

    def readable_by_role(self, role: str) -> bool:
        """Whether a user of this role in the case's department may read this version: an
        unsigned version (an AI draft) only those who review and sign it; signed ones all staff.
        The department is the caller's check (its query is department-scoped)."""
        return self.status in SIGNED_STATUSES or role in DRAFT_READERS
