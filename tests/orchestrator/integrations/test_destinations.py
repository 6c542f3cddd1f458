"""Catalog kinds come from the engine's registries (model protocols and delivery channels),
and a destination's address is checked for its channel: host:port for MLLP, a URL otherwise."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from orchestrator.catalog.models import ModelEndpoint, endpoint_kinds
from tests.factories import DepartmentFactory
from workflows.channels import CHANNELS
from workflows.protocols import PROTOCOLS


def test_the_catalog_offers_every_registered_protocol_and_channel() -> None:
    kinds = dict(endpoint_kinds())

    assert set(kinds) == set(PROTOCOLS) | set(CHANNELS)
    assert {"webhook", "hl7_mllp", "fhir_rest", "open_inference_v2"} <= set(kinds)
    assert kinds["hl7_mllp"] == "HL7 v2 over MLLP (ORU^R01) (delivery destination)"
    # Migrations store the function, not a list: a new kind needs no migration.
    _, _, _, options = ModelEndpoint._meta.get_field("protocol").deconstruct()
    assert options["choices"] is endpoint_kinds


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "address", "problem"),
    [
        ("hl7_mllp", "http://lis.hospital.local:2575/", "is not host:port"),
        ("hl7_mllp", "lis.hospital.local", "is not host:port"),
        ("fhir_rest", "ehr.hospital.local:443", "is not an http(s) URL"),
        ("webhook", "ftp://lis/hooks", "is not an http(s) URL"),
        ("open_inference_v2", "127.0.0.1:8091", "is not an http(s) URL"),
    ],
)
def test_an_address_that_does_not_fit_its_kind_is_refused(
    kind: str, address: str, problem: str
) -> None:
    entry = ModelEndpoint(
        department=DepartmentFactory.create(), slug="x", name="x", protocol=kind, base_url=address
    )

    with pytest.raises(ValidationError) as raised:
        entry.full_clean()

    assert problem in raised.value.message_dict["base_url"][0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "address"),
    [
        ("hl7_mllp", "lis.hospital.local:2575"),
        ("hl7_mllp", "127.0.0.1:2575"),
        ("fhir_rest", "https://ehr.hospital.local/fhir"),
        ("webhook", "http://127.0.0.1:8080/hooks/reports"),
    ],
)
def test_an_address_that_fits_its_kind_is_accepted(kind: str, address: str) -> None:
    entry = ModelEndpoint(
        department=DepartmentFactory.create(), slug="x", name="x", protocol=kind, base_url=address
    )

    entry.full_clean()
    assert entry.is_destination
