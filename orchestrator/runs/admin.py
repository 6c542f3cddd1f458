from django.contrib import admin

from orchestrator.runs.models import NodeRun, Run


class NodeRunInline(admin.TabularInline[NodeRun, Run]):
    model = NodeRun
    extra = 0
    fields = ("node_id", "node_type", "attempt", "status", "duration_ms", "error")
    readonly_fields = fields
    can_delete = False


@admin.register(Run)
class RunAdmin(admin.ModelAdmin[Run]):
    list_display = ("id", "case", "workflow_version", "status", "created_at", "finished_at")
    list_filter = ("status",)
    readonly_fields = ("error",)
    inlines = [NodeRunInline]
