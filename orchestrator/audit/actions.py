"""Every audit action name, in one enum: the audit trail's vocabulary.

Values are ``<object>.<what happened>``; an action ending in ``denied`` records a refused access
(its outcome is ``denied``), one ending in ``refused`` a request turned down for what it asked
(``refused``); every other action is a ``success``. Add a member here before recording a new
kind of event: ``record_event`` accepts members of this enum only.
"""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    # Access control (the policy's audited permission class)
    ACCESS_DENIED = "access.denied"
    LOGIN_LOCKED_OUT = "access.locked_out"

    # Cases
    CASE_CREATED = "case.created"
    CASE_LISTED = "case.listed"
    CASE_SEARCHED = "case.searched"
    CASE_UPDATED = "case.updated"  # a changed HL7 order (ORC-1 XO)
    CASE_VIEWED = "case.viewed"

    # Inbound integration: messages, the routing table, API tokens
    INBOUND_MESSAGE_VIEWED = "inbound_message.viewed"
    INBOUND_MESSAGE_REPROCESSED = "inbound_message.reprocessed"
    ROUTING_RULE_CREATED = "routing_rule.created"
    ROUTING_RULE_CHANGED = "routing_rule.changed"
    ROUTING_RULE_DELETED = "routing_rule.deleted"
    API_TOKEN_CREATED = "api_token.created"  # noqa: S105 - an action name, not a secret
    API_TOKEN_REVOKED = "api_token.revoked"  # noqa: S105 - an action name, not a secret
    CASE_SLIDES_LISTED = "case.slides_listed"

    # Whole-slide images (tiles and overlay cells of a viewed slide are not audited one by one)
    SLIDE_VIEWED = "slide.viewed"

    # Report templates
    TEMPLATE_CREATED = "template.created"
    TEMPLATE_DRAFT_SAVED = "template.draft_saved"
    TEMPLATE_PUBLISHED = "template.published"
    TEMPLATE_DRAFT_CREATED = "template.draft_created"
    TEMPLATE_DRAFT_DISCARDED = "template.draft_discarded"
    TEMPLATE_EXPORTED = "template.exported"
    TEMPLATE_IMPORTED = "template.imported"
    TEMPLATE_DENIED = "template.denied"
    TEMPLATE_PREVIEWED = "template.previewed"
    TEMPLATE_PREVIEW_DENIED = "template.preview_denied"
    TEMPLATE_PREVIEW_REFUSED = "template.preview_refused"
    TEMPLATE_CLONED = "template.cloned"

    # The endpoint catalog
    CATALOG_REGISTERED = "catalog.registered"
    CATALOG_UPDATED = "catalog.updated"
    CATALOG_ENABLED = "catalog.enabled"
    CATALOG_DISABLED = "catalog.disabled"
    CATALOG_TEST_CALLED = "catalog.test_called"

    # Workflows
    WORKFLOW_CREATED = "workflow.created"
    WORKFLOW_DRAFT_SAVED = "workflow.draft_saved"
    WORKFLOW_DRAFT_CONFLICT = "workflow.draft_conflict"
    WORKFLOW_PUBLISHED = "workflow.published"
    WORKFLOW_PUBLISH_REFUSED = "workflow.publish_refused"
    WORKFLOW_ROLLED_BACK = "workflow.rolled_back"
    WORKFLOW_EXPORTED = "workflow.exported"
    WORKFLOW_IMPORTED = "workflow.imported"
    WORKFLOW_DENIED = "workflow.denied"
    WORKFLOW_NODE_RUN = "workflow.node_run"
    WORKFLOW_NODE_RUN_DENIED = "workflow.node_run_denied"
    WORKFLOW_TEST_RUN_DENIED = "workflow.test_run_denied"
    # The golden-case gate on publishing: refused below the threshold, or overridden by an admin
    # with a reason (orchestrator/quality/gate.py).
    WORKFLOW_GOLDEN_GATE_REFUSED = "workflow.golden_gate_refused"
    WORKFLOW_GOLDEN_GATE_OVERRIDDEN = "workflow.golden_gate_overridden"

    # Release safety: golden cases, tolerances, shadow runs (orchestrator/quality)
    GOLDEN_CASE_MARKED = "golden_case.marked"
    GOLDEN_CASE_UNMARKED = "golden_case.unmarked"
    ELEMENT_TOLERANCE_SET = "element_tolerance.set"
    QUALITY_SETTINGS_CHANGED = "quality_settings.changed"
    SHADOW_RUN_STARTED = "shadow_run.started"

    # Runs
    RUN_STARTED = "run.started"
    RUN_VIEWED = "run.viewed"
    RUN_CANCELLED = "run.cancelled"
    RUN_CANCEL_REQUESTED = "run.cancel_requested"
    RUN_REVIEW_SUBMITTED = "run.review_submitted"
    RUN_RERUN_STARTED = "run.rerun_started"
    RUN_SUCCEEDED = "run.succeeded"
    RUN_FAILED = "run.failed"
    RUN_WAITING_REVIEW = "run.waiting_review"
    RUN_WAITING_RENDER = "run.waiting_render"
    RUN_RETRIEVE_DENIED = "run.retrieve_denied"
    RUN_CANCEL_DENIED = "run.cancel_denied"
    RUN_REVIEW_DENIED = "run.review_denied"
    RUN_RERUN_DENIED = "run.rerun_denied"
    RUN_PROGRESS_DENIED = "run.progress_denied"

    # Reports: the lifecycle
    REPORT_DRAFTED = "report.drafted"
    REPORT_VIEWED = "report.viewed"
    REPORT_LISTED = "report.listed"
    REPORT_DOWNLOADED = "report.downloaded"
    REPORT_DOWNLOAD_DENIED = "report.download_denied"
    REPORT_FIELD_OVERRIDDEN = "report.field_overridden"
    REPORT_EDIT_REFUSED = "report.edit_refused"
    REPORT_SIGNED = "report.signed"
    REPORT_SIGN_REFUSED = "report.sign_refused"
    REPORT_SIGNATURE_DENIED = "report.signature_denied"
    REPORT_RECALLED = "report.recalled"
    REPORT_RECALL_REFUSED = "report.recall_refused"
    REPORT_AMENDED = "report.amended"
    REPORT_QUEUE_LISTED = "report.queue_listed"
    REPORT_DELIVERIES_QUEUED = "report.deliveries_queued"

    # The outbox (deliveries to hospital systems), delivery routes and FHIR reads
    DELIVERY_QUEUED = "delivery.queued"
    DELIVERY_DELIVERED = "delivery.delivered"
    DELIVERY_STOPPED = "delivery.stopped"
    DELIVERY_FAILED = "delivery.failed"
    DELIVERY_WITHDRAWN = "delivery.withdrawn"
    DELIVERY_RESENT = "delivery.resent"
    DELIVERY_RESEND_REFUSED = "delivery.resend_refused"
    DELIVERY_ALERT = "delivery.alert"
    DELIVERY_ALERT_RESOLVED = "delivery.alert_resolved"
    DELIVERY_LISTED = "delivery.listed"
    DELIVERY_VIEWED = "delivery.viewed"
    DELIVERY_QUEUES_VIEWED = "delivery.queues_viewed"
    DELIVERY_ROUTE_CREATED = "delivery_route.created"
    DELIVERY_ROUTE_CHANGED = "delivery_route.changed"
    DELIVERY_ROUTE_DELETED = "delivery_route.deleted"
    FHIR_READ = "fhir.read"
    FHIR_SEARCHED = "fhir.searched"

    # Analytics (the dashboard's aggregate figures; CSV exports too)
    ANALYTICS_VIEWED = "analytics.viewed"
    ANALYTICS_EXPORTED = "analytics.exported"

    # The audit trail itself
    AUDIT_VERIFIED = "audit.verified"

    @property
    def outcome(self) -> str:
        """``denied``, ``refused`` or ``success``: what the action name says happened."""
        if self.value.endswith("denied") or self is AuditAction.LOGIN_LOCKED_OUT:
            return "denied"
        if self.value.endswith("refused"):
            return "refused"
        return "success"
