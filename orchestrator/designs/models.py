"""Report templates and workflows, each with numbered versions; published versions are frozen."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class PublishedVersionImmutable(Exception):
    """A published version is never edited in place; publish a new one instead."""


class FrozenWhenPublished(models.Model):
    status = models.CharField(max_length=16, choices=VersionStatus.choices, default="draft")
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = (
                type(self)
                ._default_manager.filter(pk=self.pk)
                .values_list("status", flat=True)
                .first()
            )
            if stored == VersionStatus.PUBLISHED:
                raise PublishedVersionImmutable(f"{self} is published and cannot be changed")
        super().save(*args, **kwargs)


class ReportTemplate(models.Model):
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="templates"
    )
    slug = models.SlugField()
    name = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["department", "slug"], name="template_slug_per_dept")
        ]

    def __str__(self) -> str:
        return self.slug


class TemplateVersion(FrozenWhenPublished):
    template = models.ForeignKey(ReportTemplate, on_delete=models.PROTECT, related_name="versions")
    # The dataset definition: sections -> elements (see workflows/datasets.py).
    dataset = models.JSONField()
    # Optional custom Jinja2 HTML layout and CSS; empty means the generated synoptic layout.
    layout_html = models.TextField(blank=True)
    layout_css = models.TextField(blank=True)
    # Optional declarative layout from the designer (blocks in rows of one or two columns, see
    # orchestrator/reports/layout_spec.py); used when there is no custom layout_html.
    layout_spec = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="template_version_number")
        ]
        ordering = ["template", "-number"]

    def __str__(self) -> str:
        return f"{self.template.slug} v{self.number}"


class Workflow(models.Model):
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="workflows"
    )
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    case_type = models.SlugField(max_length=64, help_text="cases of this type start this workflow")
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.slug

    def published_version(self) -> WorkflowVersion | None:
        return self.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()


class WorkflowVersion(FrozenWhenPublished):
    """A numbered version of a workflow's graph, pinned to one template version.

    A workflow has at most one draft, which saving updates in place; its number is the one it
    would get if published next. Published versions are frozen; a run is pinned to one.
    A rollback publishes a copy of an older version, recorded in ``published_from``.
    """

    workflow = models.ForeignKey(Workflow, on_delete=models.PROTECT, related_name="versions")
    # The graph spec (see workflows/spec.py), keyed by stable node ids.
    spec = models.JSONField()
    template_version = models.ForeignKey(
        TemplateVersion, on_delete=models.PROTECT, related_name="workflow_versions"
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Who saved the draft last: a save from a stale copy is refused naming them (409).
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # What the publisher wrote about this version ("added the Ki-67 branch").
    publish_note = models.TextField(blank=True)
    published_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the older version this one republishes (a rollback)",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="workflow_version_number"),
            models.UniqueConstraint(
                fields=["workflow"],
                condition=models.Q(status="draft"),
                name="one_draft_per_workflow",
            ),
        ]
        ordering = ["workflow", "-number"]

    def __str__(self) -> str:
        return f"{self.workflow.slug} v{self.number}"
