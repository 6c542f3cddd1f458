"""Integration models. Inbound order routing and the outbox of deliveries live in their own
modules; this module re-exports them so that Django finds every model of the app."""

from orchestrator.integrations.inbound_models import ApiToken, InboundMessage, RoutingRule

__all__ = ["ApiToken", "InboundMessage", "RoutingRule"]
