"""Integration models. Inbound order routing and the outbox of deliveries live in their own
modules; this module re-exports them so that Django finds every model of the app."""

from orchestrator.integrations.inbound_models import ApiToken, InboundMessage, RoutingRule
from orchestrator.integrations.outbox_models import *  # noqa: F403 — the outbox's models

__all__ = ["ApiToken", "InboundMessage", "RoutingRule"]  # and the outbox's, by its own __all__
