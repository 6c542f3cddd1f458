"""The Celery application. Tasks are thin: they take primary keys and call a service."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")

app = Celery("pathflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
