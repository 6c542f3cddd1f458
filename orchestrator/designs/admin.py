from django.contrib import admin

from orchestrator.designs.models import ReportTemplate, TemplateVersion, Workflow, WorkflowVersion


@admin.register(ReportTemplate)
class ReportTemplateAdmin(admin.ModelAdmin[ReportTemplate]):
    list_display = ("slug", "name", "department")


@admin.register(TemplateVersion)
class TemplateVersionAdmin(admin.ModelAdmin[TemplateVersion]):
    list_display = ("template", "number", "status", "published_at")
    list_filter = ("status",)


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin[Workflow]):
    list_display = ("slug", "name", "case_type", "department")


@admin.register(WorkflowVersion)
class WorkflowVersionAdmin(admin.ModelAdmin[WorkflowVersion]):
    list_display = ("workflow", "number", "status", "template_version", "published_at")
    list_filter = ("status",)
