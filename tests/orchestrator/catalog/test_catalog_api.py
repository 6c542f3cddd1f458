"""The endpoint catalog API: admins register, change, disable and test-call the entries of
their department against a real MLServer; everyone else is refused and the refusal audited."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from orchestrator import devstack
from orchestrator.accounts.models import Department, User
from orchestrator.audit.models import AuditEvent
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import DemoData
from tests.conftest import ModelServices, case_document

pytestmark = pytest.mark.django_db
API = "/api/v1/catalog/endpoints/"


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_json(client: Client, url: str, body: Any = None) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def patch_json(client: Client, url: str, body: Any) -> Any:
    return client.patch(url, json.dumps(body), content_type="application/json")


def fna_request() -> dict[str, Any]:
    return {
        "inputs": [
            {
                "name": "features",
                "datatype": "FP64",
                "shape": [1, 30],
                "value": "case.specimens[0].data.fna_features",
            }
        ],
        "outputs": ["predict_proba"],
    }


def breast_fna(url: str, **changes: Any) -> dict[str, Any]:
    return {
        "slug": "breast-fna",
        "name": "Breast FNA classifier",
        "protocol": "open_inference_v2",
        "base_url": url,
        "model_name": "breast-fna",
        "timeout_s": 20,
        **changes,
    }


def test_the_protocols_on_offer_come_from_the_engine_registries(admin: User) -> None:
    answer = logged_in(admin).get("/api/v1/catalog/protocols/").json()
    kinds = {p["name"]: p["kind"] for p in answer}
    assert kinds["open_inference_v2"] == "model"
    assert kinds["openai_chat"] == "model"
    assert kinds["http_json"] == "model"
    assert kinds["webhook"] == "destination"
    assert kinds["hl7_mllp"] == "destination"
    assert kinds["fhir_rest"] == "destination"


def test_an_admin_registers_the_breast_fna_endpoint_and_test_calls_it(
    admin: User, model_services: ModelServices
) -> None:
    client = logged_in(admin)
    created = post_json(client, API, breast_fna(model_services.url))
    assert created.status_code == 201, created.json()
    assert created.json()["kind"] == "model"
    assert created.json()["enabled"] is True
    sample = case_document("breast-fna-malignant")
    answer = post_json(
        client, f"{API}breast-fna/test-call/", {"request": fna_request(), "case": sample}
    )
    assert answer.status_code == 200
    result = answer.json()
    assert result["ok"] is True, result["error"]
    probabilities = result["outputs"]["predict_proba"][0]
    assert probabilities[1] > 0.5  # the malignant sample is called malignant
    assert result["model_name"] == "breast-fna"
    actions = list(
        AuditEvent.objects.filter(object_type="catalog.modelendpoint").values_list(
            "action", flat=True
        )
    )
    assert set(actions) == {"catalog.registered", "catalog.test_called"}


def test_an_unreachable_server_gives_a_clear_error(admin: User) -> None:
    client = logged_in(admin)
    url = f"http://127.0.0.1:{devstack.free_port()}"  # nothing listens there
    post_json(client, API, breast_fna(url))
    result = post_json(
        client,
        f"{API}breast-fna/test-call/",
        {"request": fna_request(), "case": case_document("breast-fna-malignant")},
    ).json()
    assert result["ok"] is False
    assert "cannot connect" in result["error"]
    assert url in result["error"]


def test_a_wrong_model_name_shows_the_servers_answer(
    admin: User, model_services: ModelServices
) -> None:
    client = logged_in(admin)
    post_json(client, API, breast_fna(model_services.url, model_name="no-such-model"))
    sample = case_document("breast-fna-malignant")
    result = post_json(
        client, f"{API}breast-fna/test-call/", {"request": fna_request(), "case": sample}
    ).json()
    assert result["ok"] is False
    assert "HTTP 404" in result["error"]
    assert "breast-fna" in result["error"]


def test_a_test_call_lists_every_problem_of_its_request(admin: User) -> None:
    client = logged_in(admin)
    post_json(client, API, breast_fna("http://127.0.0.1:9"))
    answer = post_json(
        client,
        f"{API}breast-fna/test-call/",
        {"request": {"inputs": [{"name": "x", "datatype": "FP99", "value": "case.("}]}},
    )
    assert answer.status_code == 400
    problems = " ".join(answer.json()["problems"])
    assert "FP99" in problems


def test_registering_lists_every_problem(admin: User) -> None:
    answer = post_json(
        logged_in(admin),
        API,
        breast_fna(
            "http://127.0.0.1:9",
            protocol="carrier_pigeon",
            secret_ref="sk-live-abc123",
            timeout_s=0,
        ),
    )
    assert answer.status_code == 400
    problems = answer.json()["problems"]
    assert any("carrier_pigeon" in p for p in problems)
    assert any(p.startswith("secret_ref:") and "NAME" in p for p in problems)
    assert any(p.startswith("timeout_s:") for p in problems)
    assert not ModelEndpoint.objects.exists()


def test_a_model_endpoint_needs_its_model_name_and_a_slug_is_used_once(admin: User) -> None:
    client = logged_in(admin)
    missing = post_json(client, API, breast_fna("http://127.0.0.1:9", model_name=""))
    assert any(p.startswith("model_name:") for p in missing.json()["problems"])
    assert post_json(client, API, breast_fna("http://127.0.0.1:9")).status_code == 201
    again = post_json(client, API, breast_fna("http://127.0.0.1:9"))
    assert again.status_code == 400
    assert "already" in again.json()["problems"][0]


def test_an_admin_changes_and_disables_an_entry_and_the_audit_names_the_fields(
    admin: User,
) -> None:
    client = logged_in(admin)
    post_json(client, API, breast_fna("http://127.0.0.1:9"))
    changed = patch_json(
        client, f"{API}breast-fna/", {"timeout_s": 5, "secret_ref": "BREAST_FNA_TOKEN"}
    )
    assert changed.status_code == 200
    assert changed.json()["timeout_s"] == 5
    assert changed.json()["secret_ref"] == "BREAST_FNA_TOKEN"
    disabled = post_json(client, f"{API}breast-fna/disable/")
    assert disabled.json()["enabled"] is False
    event = AuditEvent.objects.get(action="catalog.updated")
    assert event.detail["fields"] == ["secret_ref", "timeout_s"]
    assert AuditEvent.objects.filter(action="catalog.disabled").exists()


def test_a_boolean_is_not_a_number_and_a_number_is_not_a_string(admin: User) -> None:
    # DRF reads true as 1.0 and 0 as "0"; the schema says number and string (schemathesis).
    client = logged_in(admin)
    post_json(client, API, breast_fna("http://127.0.0.1:9"))
    refused = patch_json(client, f"{API}breast-fna/", {"timeout_s": True, "model_name": 0})
    assert refused.status_code == 400
    assert refused.json()["problems"] == [
        "model_name: Not a valid string.",
        "timeout_s: A valid number is required.",
    ]
    assert ModelEndpoint.objects.get(slug="breast-fna").timeout_s == 20


def test_a_secret_reference_not_set_on_the_server_is_named_in_the_test_call(admin: User) -> None:
    client = logged_in(admin)
    post_json(
        client, API, breast_fna("http://127.0.0.1:9", secret_ref="PATHFLOW_TEST_UNSET_SECRET")
    )
    result = post_json(
        client,
        f"{API}breast-fna/test-call/",
        {"request": fna_request(), "case": case_document("breast-fna-malignant")},
    ).json()
    assert result["ok"] is False
    assert "PATHFLOW_TEST_UNSET_SECRET is not set" in result["error"]


def test_a_destination_is_not_test_called(admin: User) -> None:
    client = logged_in(admin)
    created = post_json(
        client,
        API,
        {
            "slug": "lis-hook",
            "name": "LIS webhook",
            "protocol": "webhook",
            "base_url": "http://127.0.0.1:9/hook",
        },
    )
    assert created.json()["kind"] == "destination"
    answer = post_json(client, f"{API}lis-hook/test-call/", {"request": {}})
    assert answer.status_code == 400
    assert "delivery destination" in answer.json()["problems"][0]
    listed = client.get(API, {"kind": "destination"}).json()["results"]
    assert [e["slug"] for e in listed] == ["lis-hook"]


def test_the_list_answers_in_a_fixed_number_of_queries(
    admin: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    client = logged_in(admin)
    for index in range(5):
        post_json(client, API, breast_fna("http://127.0.0.1:9", slug=f"m{index}"))
    with django_assert_num_queries(4):  # session, user, count, entries
        answer = client.get(API)
    assert len(answer.json()["results"]) == 5


def test_used_by_names_the_workflows_and_nodes_that_call_an_endpoint(demo: DemoData) -> None:
    admin = User.objects.get(username="admin")
    client = logged_in(admin)
    fna = demo.fna_workflow_version
    assert client.get(f"{API}breast-fna/used-by/").json() == [
        {
            "workflow": fna.workflow.slug,
            "name": fna.workflow.name,
            "version": fna.number,
            "status": "published",
            "nodes": ["fna"],
        }
    ]
    ihc = client.get(f"{API}ihc-dab/used-by/").json()
    assert [(u["workflow"], u["nodes"]) for u in ihc] == [
        (demo.workflow_version.workflow.slug, ["ihc"])
    ]


def test_a_clinician_and_a_pathologist_are_refused_and_audited(
    clinician: User, pathologist: User
) -> None:
    for user in (clinician, pathologist):
        client = logged_in(user)
        assert client.get(API).status_code == 403
        assert post_json(client, API, breast_fna("http://127.0.0.1:9")).status_code == 403
    denied = AuditEvent.objects.filter(action="access.denied")
    assert denied.count() == 4
    assert not ModelEndpoint.objects.exists()


def test_another_departments_admin_cannot_see_or_call_our_endpoint(
    admin: User, other_department: Department
) -> None:
    post_json(logged_in(admin), API, breast_fna("http://127.0.0.1:9"))
    theirs = User.objects.create(username="their-admin", department=other_department, role="admin")
    client = logged_in(theirs)
    assert client.get(API).json()["results"] == []
    assert client.get(f"{API}breast-fna/").status_code == 404
    called = post_json(client, f"{API}breast-fna/test-call/", {"request": fna_request()})
    assert called.status_code == 404
    assert post_json(client, f"{API}breast-fna/disable/").status_code == 404
    assert ModelEndpoint.objects.get(slug="breast-fna").enabled is True


def test_an_admin_declares_what_each_output_measures(admin: User) -> None:
    client = logged_in(admin)
    measures = {"ki67_index": {"marker": "Ki-67", "stain": "IHC", "unit": "%"}}
    created = post_json(client, API, breast_fna("http://127.0.0.1:9", outputs=measures))
    assert created.status_code == 201, created.json()
    assert created.json()["outputs"] == measures
    wrong = patch_json(client, f"{API}breast-fna/", {"outputs": {"ki67_index": {"colour": "x"}}})
    assert wrong.status_code == 400
    assert "'colour' is not one of marker, stain, unit" in wrong.json()["problems"][0]
    assert ModelEndpoint.objects.get(slug="breast-fna").outputs == measures


def test_an_hl7_destination_takes_host_and_port_not_a_url(admin: User) -> None:
    client = logged_in(admin)
    body = {"slug": "lis", "name": "LIS results", "protocol": "hl7_mllp"}
    wrong = post_json(client, API, {**body, "base_url": "http://10.1.2.3:2575/"})
    assert wrong.status_code == 400
    assert wrong.json()["problems"][0].startswith("base_url: ")
    right = post_json(client, API, {**body, "base_url": "10.1.2.3:2575"})
    assert right.status_code == 201, right.json()
    assert right.json()["kind"] == "destination"


def test_a_destination_says_how_many_attempts_a_delivery_gets_a_model_endpoint_cannot(
    admin: User,
) -> None:
    client = logged_in(admin)
    body = {"slug": "lis", "name": "LIS results", "protocol": "hl7_mllp", "base_url": "lis:2575"}
    created = post_json(client, API, {**body, "max_attempts": 5})
    assert created.status_code == 201, created.json()
    assert created.json()["max_attempts"] == 5
    assert patch_json(client, f"{API}lis/", {"max_attempts": 0}).status_code == 400
    cleared = patch_json(client, f"{API}lis/", {"max_attempts": None})
    assert cleared.status_code == 200, cleared.json()
    assert cleared.json()["max_attempts"] is None  # the deployment's default again
    assert AuditEvent.objects.get(action="catalog.updated").detail["fields"] == ["max_attempts"]

    refused = post_json(client, API, breast_fna("http://127.0.0.1:9", max_attempts=3))
    assert refused.status_code == 400
    assert refused.json()["problems"] == [
        "max_attempts: only a delivery destination retries deliveries (a model call's "
        "retries are set on its node in the workflow)"
    ]
    # Turning a destination with its own number into a model endpoint names the leftover.
    post_json(client, API, {**body, "slug": "lis-2", "max_attempts": 5})
    turned = patch_json(
        client,
        f"{API}lis-2/",
        {"protocol": "open_inference_v2", "base_url": "http://127.0.0.1:9", "model_name": "m"},
    )
    assert turned.status_code == 400
    assert turned.json()["problems"][0].startswith("max_attempts: only a delivery destination")
