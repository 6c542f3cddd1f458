"""factory_boy factories for the domain models tests build by hand."""

from __future__ import annotations

from typing import Any

import factory

from orchestrator.accounts.models import Department, Role, User
from orchestrator.catalog.models import ModelEndpoint, Protocol


class DepartmentFactory(factory.django.DjangoModelFactory):  # type: ignore[misc]
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"dept-{n}")
    name = factory.Sequence(lambda n: f"Department {n}")
    hospital_name = "Test Hospital"


class UserFactory(factory.django.DjangoModelFactory):  # type: ignore[misc]
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    department = factory.SubFactory(DepartmentFactory)
    role = Role.PATHOLOGIST
    password = factory.PostGenerationMethodCall("set_password", "pathflow-test")

    @classmethod
    def _after_postgeneration(cls, instance: User, create: bool, results: Any = None) -> None:
        if create:
            instance.save()


class ModelEndpointFactory(factory.django.DjangoModelFactory):  # type: ignore[misc]
    class Meta:
        model = ModelEndpoint

    department = factory.SubFactory(DepartmentFactory)
    slug = factory.Sequence(lambda n: f"endpoint-{n}")
    name = "Test endpoint"
    protocol = Protocol.OPEN_INFERENCE_V2
    base_url = "http://127.0.0.1:9"
    model_name = "model"
    timeout_s = 5.0
