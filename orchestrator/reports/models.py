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


class SignedReportImmutable(Exception):
    """Raised when code tries to change a signed report version in place; the API answers
    409 and audits the attempt (``orchestrator.reports.errors``)."""

    def __init__(self, message: str, report: Report | None = None) -> None:
        super().__init__(message)
        self.report = report


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
    # Who made this version (None for an AI draft stored by a worker) and why it replaces the
    # one it supersedes (an amendment's or correction's reason, an addendum's text, a recall).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)

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
                raise SignedReportImmutable(f"{self} is signed; amend it with a new version", self)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.status in SIGNED_STATUSES:
            raise SignedReportImmutable(f"{self} is signed and kept for ever", self)
        return super().delete(*args, **kwargs)

    @property
    def is_signed(self) -> bool:
        return self.status in SIGNED_STATUSES

    def readable_by_role(self, role: str) -> bool:
        """Whether a user of this role in the case's department may read this version: an
        unsigned version (an AI draft) only those who review and sign it; signed ones all staff.
        The department is the caller's check (its query is department-scoped)."""
        from orchestrator.accounts.policy import Permission, role_allows

        permission = Permission.REPORT_READ_SIGNED
        if self.status not in SIGNED_STATUSES:
            permission = Permission.REPORT_READ_DRAFT
        return role_allows(role, permission)


SIGNATURE_MEANING = "authored and signed"


class ReportSignature(models.Model):
    """The electronic signature of one signed report version (21 CFR 11.50-style manifest):
    who signed, when, what the signature means, and the SHA-256 of exactly the PDF signed.

    Only the recall fields ever change, once, within the recall window (``recall_until``):
    a recalled sign-out left nothing outside (its deliveries were held until then)."""

    report = models.OneToOneField(Report, on_delete=models.PROTECT, related_name="signature")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    meaning = models.CharField(max_length=100, default=SIGNATURE_MEANING)
    pdf_sha256 = models.CharField(max_length=64)
    # Deliveries of this version wait until then; the signer may recall it before.
    recall_until = models.DateTimeField()
    recalled_at = models.DateTimeField(null=True, blank=True)
    recalled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"signature of report {self.report_id} by {self.signer_id}"


class FieldOverride(models.Model):
    """A person changed one field of a draft at review: the value before and after, who, when.
    The draft's provenance for the field becomes ``{"kind": "person", ...}``; the provenance it
    had before (e.g. the model endpoint and version that proposed ``old_value``) is kept in
    ``old_provenance``, which agreement analytics read (``orchestrator.analytics``)."""

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="overrides")
    element = models.CharField(max_length=100)
    old_value = models.JSONField(null=True)
    new_value = models.JSONField(null=True)
    # The field's provenance before the change (null for overrides stored before it was kept).
    old_provenance = models.JSONField(null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["report", "at", "id"]

    def __str__(self) -> str:
        return f"{self.element} of report {self.report_id} by {self.user_id}"
