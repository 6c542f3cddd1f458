"""A Run pins one case to one workflow version and template version; NodeRuns are checkpoints."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    WAITING_REVIEW = "waiting_review", "Waiting for review"
    # A render_report node handed its render to the render queue (PATHFLOW_RENDER_QUEUE).
    WAITING_RENDER = "waiting_render", "Waiting for rendering"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


TERMINAL_STATUSES = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})


class Run(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="runs")
    workflow_version = models.ForeignKey(
        "designs.WorkflowVersion", on_delete=models.PROTECT, related_name="runs"
    )
    template_version = models.ForeignKey(
        "designs.TemplateVersion", on_delete=models.PROTECT, related_name="runs"
    )
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    # What went wrong, naming the node and endpoint; never patient data.
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A test run of a draft workflow version on a sample case: never delivered, never signed.
    is_test = models.BooleanField(default=False)
    # A re-run starts from one node of an earlier run, reusing the checkpoints upstream of it.
    rerun_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reruns"
    )
    rerun_from_node = models.CharField(max_length=255, blank=True)
    # Which worker executes the run, until when; another delivery of the same run waits for
    # the lease to expire (its holder died) instead of running the run twice.
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # The run's task could not be put on the queue (the broker was down): the run stays queued
    # and a worker's sweep hands it over again once the queue is back (runs/services.py).
    handoff_pending = models.BooleanField(default=False)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class NodeRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    CANCELLED = "cancelled", "Cancelled"
    # A review node parks here until a person acts.
    WAITING = "waiting", "Waiting"


class NodeRun(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="node_runs")
    # A sub-workflow's nodes are "<parent>/<child>": ids of at most 40 characters, nested up
    # to the sub-workflow depth limit, fit.
    node_id = models.CharField(max_length=255)
    node_type = models.CharField(max_length=64)
    attempt = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=20, choices=NodeRunStatus.choices)
    inputs = models.JSONField(default=dict, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    # The node finished for good with this attempt: no retry follows, and a resumed run does
    # not run it again (a failure handled by on_error continue/error_branch is final too).
    final = models.BooleanField(default=False)
    # A test run was given this node's outputs (pinned in the test bench): the node was not
    # executed, and these outputs flowed downstream as if it had succeeded.
    pinned = models.BooleanField(default=False)

    class Meta:
        ordering = ["run", "started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "node_id", "attempt"], name="node_run_attempt_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.node_id}#{self.attempt} ({self.status})"
