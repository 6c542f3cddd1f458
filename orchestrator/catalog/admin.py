from django.contrib import admin

from orchestrator.catalog.models import ModelEndpoint


@admin.register(ModelEndpoint)
class ModelEndpointAdmin(admin.ModelAdmin[ModelEndpoint]):
    list_display = ("slug", "name", "protocol", "base_url", "model_name", "department", "enabled")
    list_filter = ("protocol", "department", "enabled")
