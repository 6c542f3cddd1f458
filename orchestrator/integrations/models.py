"""Integration models. Inbound order routing and the outbox of deliveries live in their own
modules; this module re-exports them so that Django finds every model of the app."""

from orchestrator.integrations.outbox_models import *  # noqa: F403 — the outbox's models
