"""A catalog endpoint declares what its outputs measure; a malformed declaration is refused
with every problem listed, and a good one reaches workflow validation."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from orchestrator.accounts.models import Department
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.designs.workflows import endpoint_outputs

pytestmark = pytest.mark.django_db


def endpoint(department: Department, slug: str, outputs: object) -> ModelEndpoint:
    return ModelEndpoint(
        department=department,
        slug=slug,
        name=slug,
        protocol="open_inference_v2",
        base_url="http://127.0.0.1:9",
        model_name=slug,
        outputs=outputs,
    )


def test_a_malformed_output_declaration_is_refused_with_every_problem(
    department: Department,
) -> None:
    bad = endpoint(
        department,
        "ihc",
        {"tps": "PD-L1", "index": {"marker": "Ki-67", "clone": "MIB-1", "unit": 5}},
    )

    with pytest.raises(ValidationError) as refused:
        bad.full_clean()

    assert refused.value.message_dict["outputs"] == [
        "output 'tps': must be an object with marker, stain and/or unit",
        "output 'index': 'clone' is not one of marker, stain, unit",
        "output 'index': unit must be text",
    ]


def test_the_departments_declared_outputs_are_what_validation_reads(
    department: Department, other_department: Department
) -> None:
    ki67 = {"ki67_index": {"marker": "Ki-67", "stain": "IHC", "unit": "%"}}
    endpoint(department, "ihc", ki67).save()
    endpoint(department, "plain", {}).save()
    endpoint(other_department, "theirs", {"x": {"marker": "PD-L1"}}).save()

    assert endpoint_outputs(department) == {"ihc": ki67}
