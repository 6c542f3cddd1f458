"""Golden cases, element tolerances, shadow runs and the publish gate's verdicts.

A golden case is a signed case whose signed values are a workflow's expected answers. A shadow
run executes a workflow version over past cases through the real engine without leaving any
report version, delivery or review behind: its results live only here (``ShadowCase``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class QualitySettings(models.Model):
    """A department's release-safety settings."""

    department = models.OneToOneField(
        "accounts.Department", on_delete=models.CASCADE, related_name="quality_settings"
    )
    # The fraction of golden cases that must agree fully before a version may be published.
    golden_threshold = models.FloatField(default=1.0)

    def __str__(self) -> str:
        return f"quality settings of {self.department_id}"


class GoldenCase(models.Model):
    workflow = models.ForeignKey(
        "designs.Workflow", on_delete=models.CASCADE, related_name="golden_cases"
    )
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    marked_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["workflow", "marked_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "case"], name="golden_case_once")
        ]

    def __str__(self) -> str:
        return f"golden case {self.case_id} of workflow {self.workflow_id}"


class ElementTolerance(models.Model):
    """How far a numeric element may be from the signed value and still agree."""

    workflow = models.ForeignKey(
        "designs.Workflow", on_delete=models.CASCADE, related_name="element_tolerances"
    )
    element = models.CharField(max_length=100)
    tolerance = models.FloatField()

    class Meta:
        ordering = ["workflow", "element"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "element"], name="tolerance_per_element")
        ]

    def __str__(self) -> str:
        return f"{self.element} ± {self.tolerance}"


class ShadowSource(models.TextChoices):
    GOLDEN = "golden", "Golden cases"
    RECENT = "recent", "Last cases of a case type"


class ShadowPurpose(models.TextChoices):
    MANUAL = "manual", "Started by a person"
    PUBLISH_GATE = "publish_gate", "Publish gate"


class ShadowStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"


class ShadowRun(models.Model):
    workflow_version = models.ForeignKey(
        "designs.WorkflowVersion", on_delete=models.CASCADE, related_name="shadow_runs"
    )
    source = models.CharField(max_length=10, choices=ShadowSource.choices)
    case_type = models.SlugField(max_length=64, blank=True)
    purpose = models.CharField(
        max_length=20, choices=ShadowPurpose.choices, default=ShadowPurpose.MANUAL
    )
    status = models.CharField(
        max_length=10, choices=ShadowStatus.choices, default=ShadowStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Filled when the last case is compared: cases that agree on every element, and per
    # element {"compared": n, "agreed": n}.
    cases_agreeing = models.PositiveIntegerField(default=0)
    element_agreement = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"shadow run {self.pk} ({self.status})"


class ShadowCaseStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    AGREED = "agreed", "Agrees"
    DIFFERED = "differed", "Differs"
    FAILED = "failed", "Failed"


class ShadowCase(models.Model):
    """One past case in a shadow run: the signed values, what the version gave, the differences."""

    shadow_run = models.ForeignKey(ShadowRun, on_delete=models.CASCADE, related_name="cases")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    # The signed report version whose values are the expected answers.
    report = models.ForeignKey("reports.Report", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=ShadowCaseStatus.choices, default=ShadowCaseStatus.PENDING
    )
    expected = models.JSONField(default=dict, blank=True)
    got = models.JSONField(default=dict, blank=True)
    # [{"element", "expected", "got", "tolerance"}] for each compared element that differs.
    differences = models.JSONField(default=list, blank=True)
    compared = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["shadow_run", "id"]

    def __str__(self) -> str:
        return f"case {self.case_id} in shadow run {self.shadow_run_id} ({self.status})"


class PublishGate(models.Model):
    """The golden-case verdict on a draft when it was last offered for publishing."""

    workflow_version = models.OneToOneField(
        "designs.WorkflowVersion", on_delete=models.CASCADE, related_name="golden_gate"
    )
    shadow_run = models.ForeignKey(ShadowRun, on_delete=models.PROTECT, related_name="+")
    passed = models.BooleanField()
    agreement = models.FloatField()
    threshold = models.FloatField()
    override_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"gate of version {self.workflow_version_id}"

    @property
    def overridden(self) -> bool:
        return not self.passed and bool(self.override_reason)
