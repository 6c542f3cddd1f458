"""Cross-field rules through the template services and API: saved, refused, validated, diffed,
exported and imported with the template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from orchestrator.accounts.models import Department, User
from orchestrator.designs.models import TemplateVersion
from orchestrator.designs.templates import (
    TemplateContent,
    TemplateInvalid,
    create_template,
    export_version,
    import_template_folder,
    publish_version,
    save_draft,
)
from tests.workflows.datasets.support_rules import (
    MESSAGES,
    VIOLATING,
    ruled_document,
    ruled_sample,
)

pytestmark = pytest.mark.django_db
API = "/api/v1/templates"


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_json(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def ruled(department: Department, admin: User) -> TemplateVersion:
    version = create_template(
        department, "ruled", "Ruled", TemplateContent(ruled_document()), user=admin
    )
    return publish_version(version, user=admin)


def test_validation_lists_every_violated_rule_in_the_language_asked_for(
    ruled: TemplateVersion, pathologist: User
) -> None:
    url = f"{API}/ruled/versions/1/validate/"
    body = {"values": VIOLATING, "complete": True, "language": "zh"}

    answer = post_json(logged_in(pathologist), url, body).json()

    assert answer["valid"] is False
    assert [(p["rule_id"], p["elements"]) for p in answer["problems"]] == [
        ("ln_involved_within_examined", ["ln_involved", "ln_examined"]),
        ("grade_from_scores", ["grade", "tubules", "nuclei", "mitoses"]),
        ("nodal_none_alone", ["nodal_procedure"]),
        ("distance_when_negative", ["margin_distance_mm"]),
    ]
    assert answer["problems"][0]["reason"] == MESSAGES["ln_involved_within_examined"]["zh"]
    assert answer["problems"][2]["reason"].startswith(MESSAGES["nodal_none_alone"]["zh"])
    english = post_json(logged_in(pathologist), url, {**body, "language": "en"}).json()
    assert english["problems"][0]["reason"] == MESSAGES["ln_involved_within_examined"]["en"]


def test_an_override_with_a_reason_validates_and_one_without_does_not(
    ruled: TemplateVersion, pathologist: User
) -> None:
    url = f"{API}/ruled/versions/1/validate/"
    values = {**ruled_sample(), "grade": "grade_3"}

    with_reason = {**values, "_overrides": {"grade": {"reason": "second block reviewed"}}}
    without = {**values, "_overrides": {"grade": {}}}

    client = logged_in(pathologist)
    assert post_json(client, url, {"values": with_reason, "complete": True}).json() == {
        "valid": True,
        "problems": [],
    }
    refused = post_json(client, url, {"values": without, "complete": True}).json()
    assert [(p["element_id"], p["rule_id"]) for p in refused["problems"]] == [
        ("grade", None),
        ("grade", "grade_from_scores"),
    ]
    assert refused["problems"][0]["reason"] == "an override needs a reason"


def test_saving_a_draft_with_broken_rules_is_refused_with_every_problem(
    ruled: TemplateVersion, admin: User
) -> None:
    document = ruled_document()
    document["rules"][0]["elements"] = ["ln_involved", "nodes_seen"]
    document["rules"][2]["element"] = "margin"
    del document["rules"][3]["message"]["zh"]

    response = logged_in(admin).put(
        f"{API}/ruled/draft/", json.dumps({"dataset": document}), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["problems"] == [
        "dataset.json: rule 'ln_involved_within_examined': elements names 'nodes_seen', which "
        "is not an element",
        "dataset.json: rule 'ln_involved_within_examined': check 'ln_involved <= ln_examined' "
        "reads 'ln_examined', which the rule does not list in elements (it is checked only when "
        "its listed elements are filled)",
        "dataset.json: rule 'nodal_none_alone': element 'margin' is a single_select; exclusive "
        "answers only apply to a multi_select",
        "dataset.json: rule 'nodal_none_alone': answers ['none'] are not answers of 'margin'",
        "dataset.json: rule 'distance_when_negative': needs a message in zh and en (missing: zh)",
    ]


def test_a_required_model_output_is_refused_when_saved(department: Department) -> None:
    document = ruled_document()
    document["sections"][0]["elements"].append(
        {"id": "fna_ai", "type": "number", "label": {"zh": "AI 概率", "en": "AI probability"},
         "required": True, "source": "model"}
    )  # fmt: skip

    with pytest.raises(TemplateInvalid) as refused:
        create_template(department, "ruled", "Ruled", TemplateContent(document))

    assert "cannot be required" in refused.value.problems[0]


def test_rules_are_diffed_between_versions(ruled: TemplateVersion, admin: User) -> None:
    document = ruled_document()
    changed = {"zh": "分级由评分得出", "en": "Grade from scores"}
    document["rules"][1]["message"] = changed
    del document["rules"][0]
    save_draft(ruled.template, TemplateContent(document), user=admin)

    diff = logged_in(admin).get(f"{API}/ruled/diff/", {"from": 1, "to": 2}).json()

    assert diff["rules_removed"] == ["ln_involved_within_examined"]
    assert diff["summary"] == [
        "rule 'ln_involved_within_examined' removed",
        "rule 'grade_from_scores': message changed from "
        f"{MESSAGES['grade_from_scores']!r} to {changed!r}",
    ]


def test_rules_and_sources_survive_an_export_and_import(
    ruled: TemplateVersion, other_department: Department, tmp_path: Path
) -> None:
    export_version(ruled, tmp_path / "out")

    imported = import_template_folder(other_department, tmp_path / "out").version

    exported = json.loads((tmp_path / "out" / "dataset.json").read_text(encoding="utf-8"))
    assert exported["rules"] == ruled_document()["rules"]
    assert imported.dataset == ruled.dataset
    assert imported.dataset["rules"] == ruled_document()["rules"]
