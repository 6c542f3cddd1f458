"""factory_boy factories for the domain models tests build by hand."""

from __future__ import annotations

from typing import Any

from factory.declarations import PostGenerationMethodCall, Sequence, SubFactory
from factory.django import DjangoModelFactory

from orchestrator.accounts.models import Department, Role, User
from orchestrator.catalog.models import ModelEndpoint


class DepartmentFactory(DjangoModelFactory[Department]):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = Sequence(lambda n: f"dept-{n}")
    name = Sequence(lambda n: f"Department {n}")
    hospital_name = "Test Hospital"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = Sequence(lambda n: f"user{n}")
    department = SubFactory(DepartmentFactory)
    role = Role.PATHOLOGIST
    password = PostGenerationMethodCall("set_password", "pathflow-test")

    @classmethod
    def _after_postgeneration(cls, instance: User, create: bool, results: Any = None) -> None:
        if create:
            instance.save()


class ModelEndpointFactory(DjangoModelFactory[ModelEndpoint]):
    class Meta:
        model = ModelEndpoint

    department = SubFactory(DepartmentFactory)
    slug = Sequence(lambda n: f"endpoint-{n}")
    name = "Test endpoint"
    protocol = "open_inference_v2"
    base_url = "http://127.0.0.1:9"
    model_name = "model"
    timeout_s = 5.0
