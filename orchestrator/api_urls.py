from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from orchestrator.accounts.api import me
from orchestrator.analytics.api import (
    AgreementView,
    CaseTypesView,
    FailuresView,
    QueueView,
    ThroughputView,
    TurnaroundView,
)
from orchestrator.cases.slides_api import case_slides, slide_dzi, slide_overlay, slide_tile
from orchestrator.catalog.api import CatalogEntryViewSet, CatalogProtocols
from orchestrator.designs.api import node_type_ports, node_types, sample_cases
from orchestrator.designs.library_api import clone_library, template_library
from orchestrator.designs.template_api import ReportTemplateViewSet
from orchestrator.designs.workflow_api import urlpatterns as workflow_urls
from orchestrator.integrations.inbound_api import (
    InboundMessageViewSet,
    RoutingRuleViewSet,
    reprocess,
)
from orchestrator.integrations.integrator_api import (
    CaseViewSet,
    TokenViewSet,
    case_reports,
    revoke_token,
    submit,
)
from orchestrator.integrations.integrator_api import report_pdf as integration_report_pdf
from orchestrator.integrations.outbox_api import (
    DeliveryRouteViewSet,
    DeliveryViewSet,
    delivery_queues,
    resend,
)
from orchestrator.quality.api import urlpatterns as quality_urls
from orchestrator.reports.api import report_pdf, template_preview
from orchestrator.reports.portal_api import PortalCaseReportsView, PortalSearchView
from orchestrator.reports.review_api import (
    AmendView,
    RecallView,
    ReviewDetailView,
    ReviewFieldView,
    ReviewQueueView,
    SignBatchView,
    SignView,
)
from orchestrator.runs.api import (
    RunActionsWithoutSlash,
    RunViewSet,
    workflow_node_run,
    workflow_test_run,
)

router = SimpleRouter(trailing_slash=True)
router.register("runs", RunViewSet, basename="run")
# templates/{slug}/...; its slug pattern leaves "templates/preview" to the preview endpoint.
router.register("templates", ReportTemplateViewSet, basename="template")
router.register("integration/inbound-messages", InboundMessageViewSet, basename="inbound-message")
router.register("integration/routing-rules", RoutingRuleViewSet, basename="routing-rule")
router.register("integration/cases", CaseViewSet, basename="integration-case")
router.register("integration/tokens", TokenViewSet, basename="api-token")
router.register("catalog/endpoints", CatalogEntryViewSet, basename="catalog-endpoint")
router.register("deliveries", DeliveryViewSet, basename="delivery")
router.register("delivery-routes", DeliveryRouteViewSet, basename="delivery-route")

urlpatterns = [
    path("me", me, name="me"),
    path("node-types", node_types, name="node-types"),
    path("catalog/protocols/", CatalogProtocols.as_view(), name="catalog-protocols"),
    path("template-library/", template_library, name="template-library"),
    path("template-library/<slug:slug>/clone/", clone_library, name="template-library-clone"),
    path("sample-cases", sample_cases, name="sample-cases"),
    # Before the templates router, so that no templates/<slug> route can shadow it.
    path("templates/preview", template_preview, name="template-preview"),
    path("node-types/<str:name>/<int:version>/ports", node_type_ports, name="node-type-ports"),
    # Before any workflows/ router include, so that it does not shadow them.
    path("workflows/<slug:slug>/test-run", workflow_test_run, name="workflow-test-run"),
    path(
        "workflows/<slug:slug>/nodes/<str:node_id>/run",
        workflow_node_run,
        name="workflow-node-run",
    ),
    # Run actions without the router's trailing slash, as the API documents them.
    *(
        path(
            f"runs/<int:pk>/{name}",
            RunActionsWithoutSlash.as_view({method: name}),
            name=f"run-{name}-",
        )
        for name, method in (
            ("cancel", "post"),
            ("review", "post"),
            ("rerun", "post"),
            ("progress", "get"),
        )
    ),
    # After the explicit workflows/<slug>/... run routes above.
    *workflow_urls,
    *quality_urls,
    path("reports/<int:pk>/pdf", report_pdf, name="report-pdf"),
    # Integration API: before the router, whose integration/cases/ GET shares the path.
    path("integration/cases/submit", submit, name="integration-case-submit"),
    path("integration/cases/<int:pk>/reports/", case_reports, name="integration-case-reports"),
    path("integration/reports/<int:pk>/pdf", integration_report_pdf, name="integration-report-pdf"),
    path(
        "integration/inbound-messages/<int:pk>/reprocess",
        reprocess,
        name="inbound-message-reprocess",
    ),
    path("integration/tokens/<int:pk>/revoke", revoke_token, name="api-token-revoke"),
    path("deliveries/<int:pk>/resend", resend, name="delivery-resend"),
    path("delivery-queues", delivery_queues, name="delivery-queues"),
    # Whole-slide images as Deep Zoom: OpenSeadragon derives the tile URLs from the .dzi URL.
    path("cases/<int:case>/slides", case_slides, name="case-slides"),
    path("specimens/<int:specimen>/slides/<int:index>.dzi", slide_dzi, name="slide-dzi"),
    path(
        "specimens/<int:specimen>/slides/<int:index>_files/<int:level>/<int:col>_<int:row>.jpeg",
        slide_tile,
        name="slide-tile",
    ),
    path(
        "specimens/<int:specimen>/slides/<int:index>/overlay", slide_overlay, name="slide-overlay"
    ),
    path("reports/<int:pk>/recall", RecallView.as_view(), name="report-recall"),
    path("reports/<int:pk>/amend", AmendView.as_view(), name="report-amend"),
    path("review/queue", ReviewQueueView.as_view(), name="review-queue"),
    path("review/sign-batch", SignBatchView.as_view(), name="review-sign-batch"),
    path("review/reports/<int:pk>", ReviewDetailView.as_view(), name="review-report"),
    path("review/reports/<int:pk>/fields", ReviewFieldView.as_view(), name="review-fields"),
    path("review/reports/<int:pk>/sign", SignView.as_view(), name="review-sign"),
    path("portal/search", PortalSearchView.as_view(), name="portal-search"),
    path("portal/cases/<int:pk>/reports", PortalCaseReportsView.as_view(), name="portal-case"),
    # The dashboard's figures (?format=csv&table=... for one table as CSV).
    path("analytics/case-types", CaseTypesView.as_view(), name="analytics-case-types"),
    path("analytics/turnaround", TurnaroundView.as_view(), name="analytics-turnaround"),
    path("analytics/throughput", ThroughputView.as_view(), name="analytics-throughput"),
    path("analytics/queue", QueueView.as_view(), name="analytics-queue"),
    path("analytics/agreement", AgreementView.as_view(), name="analytics-agreement"),
    path("analytics/failures", FailuresView.as_view(), name="analytics-failures"),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    *router.urls,
]
