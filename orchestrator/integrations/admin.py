from django.contrib import admin

from orchestrator.integrations.inbound_models import ApiToken, InboundMessage, RoutingRule


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin[InboundMessage]):
    list_display = ("id", "channel", "status", "ack_code", "control_id", "received_at", "case")
    list_filter = ("channel", "status", "ack_code")
    search_fields = ("control_id", "accession")
    # The raw bytes and the ACK are kept exactly as they were: read them, never edit them.
    readonly_fields = ("raw", "ack", "size", "codec", "problems", "received_at")


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin[RoutingRule]):
    list_display = ("department", "order_code", "specimen_type", "workflow", "priority", "active")
    list_filter = ("department", "active")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("name", "prefix", "department", "created_at", "last_used_at", "revoked_at")
    # Only the hash is stored; nothing here can show or change a token's secret.
    readonly_fields = ("prefix", "key_hash", "user", "created_by", "last_used_at")
