"""The schema's links (orchestrator.api_links), derived from the paths: a create answer leads
to the resource's detail, update, delete and actions; a list to its items; shared path
parameters pass on from the request."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.api_schema import SchemaGenerator


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    generated: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    return generated


def links(schema: dict[str, Any], method: str, path: str, code: str) -> dict[str, Any]:
    found: dict[str, Any] = schema["paths"][path][method]["responses"][code].get("links", {})
    return found


def test_a_create_answer_links_to_read_update_and_delete(schema: dict[str, Any]) -> None:
    created = links(schema, "post", "/api/v1/delivery-routes/", "201")
    assert {
        "api_v1_delivery_routes_retrieve",
        "api_v1_delivery_routes_update",
        "api_v1_delivery_routes_partial_update",
        "api_v1_delivery_routes_destroy",
    } <= set(created)
    assert created["api_v1_delivery_routes_destroy"]["parameters"] == {"id": "$response.body#/id"}
    template = links(schema, "post", "/api/v1/templates/", "201")
    assert template["api_v1_templates_draft_destroy"]["parameters"] == {
        "slug": "$response.body#/slug"
    }


def test_shared_parameters_pass_on_and_other_collections_are_named(
    schema: dict[str, Any],
) -> None:
    draft = links(schema, "put", "/api/v1/templates/{slug}/draft/", "200")
    assert draft["api_v1_templates_versions_publish_create"]["parameters"] == {
        "slug": "$request.path.slug",
        "number": "$response.body#/number",
    }
    listed = links(schema, "get", "/api/v1/runs/", "200")
    assert listed["api_v1_runs_retrieve"]["parameters"] == {"id": "$response.body#/results/0/id"}
    submitted = links(schema, "post", "/api/v1/integration/cases/submit", "201")
    assert submitted["api_v1_integration_cases_retrieve"]["parameters"] == {
        "id": "$response.body#/case/id"
    }
    queue = links(schema, "get", "/api/v1/review/queue", "200")
    assert queue["review_sign"]["parameters"] == {"id": "$response.body#/0/report_id"}


def test_the_case_submission_documents_its_case_document(schema: dict[str, Any]) -> None:
    body = schema["paths"]["/api/v1/integration/cases/submit"]["post"]["requestBody"]["content"]
    document = schema["components"]["schemas"]["CaseDocument"]
    assert document["additionalProperties"] is False
    assert document["properties"]["patient"]["additionalProperties"] is False
    assert body["multipart/form-data"]["encoding"]["document"]["contentType"] == (
        "application/json"
    )
    assert {"$ref": "#/components/schemas/CaseDocument"} in body["application/json"]["schema"][
        "oneOf"
    ]
