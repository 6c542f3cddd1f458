"""Pathflow's Django project. Importing it loads the Celery app so shared tasks bind to it."""

from orchestrator.celery import app as celery_app

__all__ = ["celery_app"]
