"""The lease and the loading of a run in hand-written SQL (runs/leasing.py) give what the ORM's
querysets gave: the same instances, related objects, checkpoints, case payload and catalog."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import models
from django.utils import timezone

from orchestrator.cases.services import create_case
from orchestrator.demo_data import DemoData
from orchestrator.runs import leasing
from orchestrator.runs.bridge import DjangoServices, case_payload, resume_state
from orchestrator.runs.models import Run, RunStatus
from orchestrator.runs.services import close_run_connections, execute_run, start_run
from tests.conftest import case_document

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]


def fields(instance: models.Model) -> dict[str, Any]:
    return {k: v for k, v in instance.__dict__.items() if k != "_state"}


def test_loading_a_run_gives_what_the_orm_gives(demo: DemoData) -> None:
    run = start_run(
        create_case(demo.department, case_document("breast-resection")),
        demo.workflow_version,
        enqueue=False,
    )
    execute_run(run.pk)  # parks at the sign-out review, with its checkpoints written
    close_run_connections()
    loaded = leasing.load(run.pk)
    orm = Run.objects.select_related(
        "case__department", "workflow_version__workflow", "template_version"
    ).get(pk=run.pk)
    pairs = [
        (orm, loaded.run),
        (orm.case, loaded.run.case),
        (orm.case.department, loaded.run.case.department),
        (orm.workflow_version, loaded.run.workflow_version),
        (orm.workflow_version.workflow, loaded.run.workflow_version.workflow),
        (orm.template_version, loaded.run.template_version),
    ]
    for expected, got in pairs:
        assert type(got) is type(expected)
        assert fields(got) == fields(expected)
        assert (got._state.adding, got._state.db) == (expected._state.adding, expected._state.db)
        assert got._state.fields_cache.keys() == expected._state.fields_cache.keys()
    assert loaded.case == case_payload(orm)
    assert loaded.case["specimens"]
    expected_resume = resume_state(orm)
    assert loaded.resume == expected_resume
    assert len(loaded.resume.completed) >= 3
    catalog = DjangoServices(orm).endpoints
    assert {k: fields(v) for k, v in loaded.services.endpoints.items()} == {
        k: fields(v) for k, v in catalog.items()
    }
    assert loaded.poisoned == ""


def test_the_lease_is_taken_once_and_only_when_free(demo: DemoData) -> None:
    run = start_run(
        create_case(demo.department, case_document("breast-resection")),
        demo.workflow_version,
        enqueue=False,
    )
    assert leasing.take_lease(run.pk, "first")
    taken = Run.objects.get(pk=run.pk)
    assert (taken.status, taken.lease_owner) == (RunStatus.RUNNING, "first")
    assert taken.started_at is not None
    assert taken.lease_expires_at is not None
    assert taken.lease_expires_at > timezone.now()
    assert not leasing.take_lease(run.pk, "second")  # a live lease is not taken over

    # Its holder died: once the lease lapsed, another worker takes it; started_at is kept.
    lapsed = timezone.now() - timedelta(seconds=1)
    Run.objects.filter(pk=run.pk).update(lease_expires_at=lapsed)
    assert leasing.take_lease(run.pk, "second")
    again = Run.objects.get(pk=run.pk)
    assert again.lease_owner == "second"
    assert again.started_at == taken.started_at

    # Parked or finished runs are never taken.
    for status in (RunStatus.WAITING_REVIEW, RunStatus.SUCCEEDED, RunStatus.CANCELLED):
        Run.objects.filter(pk=run.pk).update(status=status, lease_expires_at=None)
        assert not leasing.take_lease(run.pk, "third")
