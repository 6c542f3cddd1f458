"""Workflow versions: drafts, publishing with every problem listed, rollback, diff, export and
import, sub-workflow references, and the workflows REST API with department scoping."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from orchestrator.accounts.models import Department, User
from orchestrator.audit.models import AuditEvent
from orchestrator.designs.models import (
    PublishedVersionImmutable,
    ReportTemplate,
    TemplateVersion,
    VersionStatus,
    Workflow,
)
from orchestrator.designs.services import import_workflow
from orchestrator.designs.workflow_files import (
    export_workflow,
    import_workflow_file,
)
from orchestrator.designs.workflows import (
    WorkflowError,
    WorkflowInvalid,
    create_workflow,
    diff_versions,
    draft_of,
    publish_draft,
    rollback_to,
    save_draft,
)

pytestmark = pytest.mark.django_db


def label(text: str) -> dict[str, str]:
    return {"en": text, "zh": f"{text}（中）"}


DATASET = {
    "slug": "core-biopsy",
    "title": label("Core biopsy"),
    "sections": [
        {
            "id": "main",
            "title": label("Findings"),
            "elements": [
                {"id": "procedure", "type": "text", "label": label("Procedure"), "required": True},
                {"id": "ki67_index", "type": "number", "label": label("Ki-67"), "required": True},
                {
                    "id": "ki67_note",
                    "type": "text",
                    "label": label("Ki-67 note"),
                    "required": True,
                    "visible_if": "ki67_index > 30",
                },
                {"id": "comment", "type": "text", "label": label("Comment")},
            ],
        }
    ],
}


def make_template(department: Department, slug: str = "core-biopsy") -> TemplateVersion:
    template = ReportTemplate.objects.create(department=department, slug=slug, name=slug)
    return TemplateVersion.objects.create(
        template=template,
        number=1,
        dataset={**DATASET, "slug": slug},
        status=VersionStatus.PUBLISHED,
        published_at=timezone.now(),
    )


def graph(mapping: dict[str, str], *extra_nodes: dict[str, Any]) -> dict[str, Any]:
    """case → fields (a transform filling ``mapping``'s keys) → report, plus extra nodes fed
    by the trigger."""
    nodes = [
        {"id": "case", "type": "case_trigger", "config": {}},
        {"id": "fields", "type": "transform", "config": {"mapping": mapping}},
        {"id": "report", "type": "render_report", "config": {"language": "en"}},
        *extra_nodes,
    ]
    edges = [
        {"id": "e1", "source": "case", "source_port": "case", "target": "fields"},
        {"id": "e2", "source": "fields", "source_port": "findings", "target": "report",
         "target_port": "findings"},
        *({"id": f"to-{n['id']}", "source": "case", "source_port": "case", "target": n["id"]}
          for n in extra_nodes),
    ]  # fmt: skip
    return {"schema_version": 1, "name": "Core biopsy", "nodes": nodes, "edges": edges}


COMPLETE = {"procedure": "'core biopsy'", "ki67_index": "case.findings.ki67"}


@pytest.fixture
def template_version(department: Department) -> TemplateVersion:
    return make_template(department)


@pytest.fixture
def workflow(department: Department, admin: User, template_version: TemplateVersion) -> Workflow:
    workflow, _ = create_workflow(
        department,
        slug="core-biopsy",
        name="Core biopsy",
        case_type="breast-core",
        template_version=template_version,
        user=admin,
    )
    return workflow


def actions(workflow: Workflow) -> list[str]:
    ids = [str(workflow.pk), *(str(pk) for pk in workflow.versions.values_list("pk", flat=True))]
    events = AuditEvent.objects.filter(object_id__in=ids).order_by("id")
    return list(events.values_list("action", flat=True))


# --- drafts and publishing --------------------------------------------------------------------


def test_a_new_workflow_starts_with_a_draft_holding_its_trigger(workflow: Workflow) -> None:
    draft = draft_of(workflow)

    assert draft is not None
    assert (draft.number, draft.status) == (1, VersionStatus.DRAFT)
    assert [n["type"] for n in draft.spec["nodes"]] == ["case_trigger"]
    assert draft.spec["nodes"][0]["config"] == {"case_types": ["breast-core"]}


def test_a_draft_is_saved_with_its_problems_but_publishing_lists_them_all(
    workflow: Workflow, admin: User
) -> None:
    document = graph({"procedure": "'core biopsy'", "typo_field": "1"})
    document["edges"].append({"id": "e9", "source": "fields", "target": "nowhere"})

    draft, validation = save_draft(workflow, document, user=admin)

    assert draft_of(workflow) == draft
    assert draft.spec == document
    found = {(p.code, p.node_id, p.edge_id) for p in validation.problems}
    assert found == {
        ("unknown_element", "fields", None),
        ("required_element_unfilled", "report", None),
        ("dangling_edge", None, "e9"),
    }
    with pytest.raises(WorkflowInvalid) as raised:
        publish_draft(workflow, user=admin)
    assert {(p.code, p.node_id, p.edge_id) for p in raised.value.problems} == found
    assert "node 'report': required element 'ki67_index' (Ki-67 / Ki-67（中）)" in str(raised.value)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT
    assert actions(workflow)[-2:] == ["workflow.draft_saved", "workflow.publish_refused"]


def test_saving_again_updates_the_one_draft(workflow: Workflow, admin: User) -> None:
    first, _ = save_draft(workflow, graph({"procedure": "'a'"}), user=admin)
    second, validation = save_draft(workflow, graph(COMPLETE), user=admin)

    assert first.pk == second.pk
    assert workflow.versions.count() == 1
    assert validation.problems == []
    # ki67_note applies only when Ki-67 > 30: a warning, not a problem.
    assert [w.code for w in validation.warnings] == ["conditional_element_unfilled"]


def test_a_published_version_is_frozen_and_the_next_save_starts_a_new_draft(
    workflow: Workflow, admin: User
) -> None:
    save_draft(workflow, graph(COMPLETE), user=admin)

    published = publish_draft(workflow, user=admin)

    assert (published.number, published.status) == (1, VersionStatus.PUBLISHED)
    assert workflow.published_version() == published
    published.spec = graph({"procedure": "'changed'"})
    with pytest.raises(PublishedVersionImmutable):
        published.save()
    draft, _ = save_draft(workflow, graph({**COMPLETE, "comment": "'second'"}), user=admin)
    assert (draft.number, draft.status) == (2, VersionStatus.DRAFT)
    assert workflow.published_version() == published
    assert actions(workflow) == [
        "workflow.created",
        "workflow.draft_saved",
        "workflow.draft_saved",
        "workflow.published",
        "workflow.draft_saved",
    ]


def test_publishing_without_a_draft_says_so(workflow: Workflow, admin: User) -> None:
    save_draft(workflow, graph(COMPLETE), user=admin)
    publish_draft(workflow, user=admin)

    with pytest.raises(WorkflowError, match="has no draft to publish"):
        publish_draft(workflow, user=admin)


def test_a_template_version_of_another_department_is_refused(
    workflow: Workflow, other_department: Department
) -> None:
    theirs = make_template(other_department, slug="theirs")

    with pytest.raises(WorkflowError, match="belongs to another department"):
        save_draft(workflow, graph(COMPLETE), template_version=theirs)


def test_a_workflow_is_published_only_on_a_published_template_version(
    workflow: Workflow, admin: User, template_version: TemplateVersion
) -> None:
    draft_template = TemplateVersion.objects.create(
        template=template_version.template, number=2, dataset=DATASET
    )
    save_draft(workflow, graph(COMPLETE), template_version=draft_template, user=admin)

    with pytest.raises(WorkflowInvalid) as raised:
        publish_draft(workflow, user=admin)

    assert [str(p) for p in raised.value.problems] == [
        "template version core-biopsy v2 is a draft; publish it before this workflow"
    ]


# --- rollback and diff ------------------------------------------------------------------------


def publish(workflow: Workflow, document: dict[str, Any], user: User) -> int:
    save_draft(workflow, document, user=user)
    return publish_draft(workflow, user=user).number


def test_rollback_publishes_the_old_graph_as_a_new_version_and_keeps_the_draft_last(
    workflow: Workflow, admin: User
) -> None:
    publish(workflow, graph(COMPLETE), admin)
    publish(workflow, graph({**COMPLETE, "comment": "'v2'"}), admin)
    work_in_progress = graph({**COMPLETE, "comment": "'draft'"})
    save_draft(workflow, work_in_progress, user=admin)

    restored = rollback_to(workflow, 1, user=admin)

    first = workflow.versions.get(number=1)
    assert (restored.number, restored.status) == (3, VersionStatus.PUBLISHED)
    assert restored.spec == first.spec
    assert restored.published_from == first
    assert workflow.published_version() == restored
    draft = draft_of(workflow)
    assert draft is not None
    assert (draft.number, draft.spec) == (4, work_in_progress)
    assert actions(workflow)[-1] == "workflow.rolled_back"
    with pytest.raises(WorkflowError, match="has no published version 4"):
        rollback_to(workflow, 4, user=admin)


def test_the_diff_names_nodes_edges_config_keys_and_the_template_change(
    workflow: Workflow, admin: User, department: Department
) -> None:
    publish(workflow, graph(COMPLETE), admin)
    changed = graph({**COMPLETE, "procedure": "'excision'", "comment": "'seen'"})
    changed["nodes"][2]["position"] = {"x": 500, "y": 0}
    changed["nodes"].append({"id": "late", "type": "transform", "config": {"mapping": {"x": "1"}}})
    changed["edges"].append({"id": "e3", "source": "fields", "target": "late"})
    changed["edges"][0]["source_port"] = "case"
    template = TemplateVersion.objects.create(
        template=workflow.versions.get().template_version.template,
        number=2,
        dataset=DATASET,
        status=VersionStatus.PUBLISHED,
    )
    save_draft(workflow, changed, template_version=template, user=admin)
    draft = draft_of(workflow)
    assert draft is not None

    diff = diff_versions(workflow.versions.get(number=1), draft)

    assert (diff["from"], diff["to"]) == (1, 2)
    assert diff["nodes"] == {
        "added": ["late"],
        "removed": [],
        "changed": [
            {
                "id": "fields",
                "fields": ["config"],
                "config_keys": ["mapping.comment", "mapping.procedure"],
            }
        ],
        "moved": ["report"],
    }
    assert [e["id"] for e in diff["edges"]["added"]] == ["e3"]
    assert diff["edges"]["removed"] == []
    assert diff["template_version"] == {"from": "core-biopsy v1", "to": "core-biopsy v2"}


# --- sub-workflows ----------------------------------------------------------------------------


def sub(node_id: str, slug: str, **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "sub_workflow", "config": {"workflow": slug, **config}}


def test_a_sub_workflow_must_have_a_published_version_in_the_same_department(
    workflow: Workflow,
    admin: User,
    department: Department,
    other_department: Department,
    template_version: TemplateVersion,
) -> None:
    theirs, _ = create_workflow(
        other_department,
        slug="theirs",
        name="Theirs",
        case_type="x",
        template_version=make_template(other_department, slug="other-template"),
    )
    child, _ = create_workflow(
        department, slug="child", name="Child", case_type="x", template_version=template_version
    )
    document = graph(
        COMPLETE, sub("a", "child"), sub("b", theirs.slug), sub("c", "child", version=3)
    )

    _, validation = save_draft(workflow, document, user=admin)

    assert [(p.code, p.node_id, p.message) for p in validation.problems] == [
        ("sub_workflow_unknown", "a", "sub-workflow 'child' has no published version"),
        ("sub_workflow_unknown", "b", "sub-workflow 'theirs' does not exist in this department"),
        ("sub_workflow_unknown", "c", "sub-workflow 'child' has no published version 3"),
    ]
    publish(child, graph(COMPLETE), admin)
    _, validation = save_draft(workflow, graph(COMPLETE, sub("a", "child")), user=admin)
    assert validation.problems == []


def test_a_sub_workflow_output_must_name_a_port_of_a_child_node(
    workflow: Workflow, admin: User, department: Department, template_version: TemplateVersion
) -> None:
    child, _ = create_workflow(
        department, slug="child", name="Child", case_type="x", template_version=template_version
    )
    publish(child, graph(COMPLETE), admin)
    outputs = {"ok": "fields.findings", "typo": "feilds.findings", "port": "fields.score"}

    document = graph(COMPLETE, sub("a", "child", outputs=outputs))

    _, validation = save_draft(workflow, document, user=admin)

    # A mistyped reference would leave everything after the node skipped without a word.
    assert [(p.code, p.node_id, p.message) for p in validation.problems] == [
        (
            "sub_workflow_output_unknown",
            "a",
            "outputs.typo: child v1 has no node 'feilds' (reference 'feilds.findings')",
        ),
        (
            "sub_workflow_output_unknown",
            "a",
            "outputs.port: node 'fields' of child v1 has no output port 'score' "
            "(it has findings, result)",
        ),
    ]


def test_a_chain_of_sub_workflows_that_leads_back_is_refused(
    workflow: Workflow, admin: User, department: Department, template_version: TemplateVersion
) -> None:
    publish(workflow, graph(COMPLETE), admin)
    child, _ = create_workflow(
        department, slug="child", name="Child", case_type="x", template_version=template_version
    )
    publish(child, graph(COMPLETE, sub("parent", workflow.slug)), admin)
    save_draft(workflow, graph(COMPLETE, sub("nested", "child")), user=admin)

    with pytest.raises(WorkflowInvalid) as raised:
        publish_draft(workflow, user=admin)

    problem = raised.value.problems[0]
    assert (problem.code, problem.node_id) == ("sub_workflow_cycle", "nested")
    assert (
        problem.message
        == "sub-workflows lead back to this workflow: core-biopsy → child → core-biopsy"
    )


def test_elements_a_sub_workflow_fills_and_passes_on_count_for_the_render(
    workflow: Workflow, admin: User, department: Department, template_version: TemplateVersion
) -> None:
    child, _ = create_workflow(
        department, slug="ki67", name="Ki-67", case_type="x", template_version=template_version
    )
    child_graph = graph({"ki67_index": "case.findings.ki67"})
    child_graph["nodes"].pop()  # the child only computes fields; the parent renders
    child_graph["edges"].pop()
    publish(child, child_graph, admin)
    document = graph({"procedure": "'core biopsy'"}, sub("ai", "ki67"))
    document["edges"].append(
        {"id": "ai-report", "source": "ai", "source_port": "ki67", "target": "report",
         "target_port": "findings"}
    )  # fmt: skip

    _, hidden = save_draft(workflow, document, user=admin)
    document["nodes"][-1]["config"]["outputs"] = {"ki67": "fields.findings"}
    _, passed_on = save_draft(workflow, document, user=admin)

    assert [(p.code, getattr(p, "element_id", None)) for p in hidden.problems] == [
        ("unknown_port", None),  # no `outputs`, so the child passes nothing on
        ("required_element_unfilled", "ki67_index"),
    ]
    assert passed_on.problems == []


# --- export and import ------------------------------------------------------------------------


def test_export_then_import_publishes_the_same_graph_as_a_new_version(
    workflow: Workflow, admin: User, department: Department
) -> None:
    publish(workflow, graph(COMPLETE), admin)
    document = export_workflow(workflow, user=admin)

    assert document == {
        "schema_version": 1,
        "workflow": {"slug": "core-biopsy", "name": "Core biopsy", "case_type": "breast-core",
                     "description": ""},
        "template": {"slug": "core-biopsy", "version": 1},
        "graph": graph(COMPLETE),
    }  # fmt: skip
    unchanged = import_workflow_file(department, document, user=admin)
    assert unchanged.version.number == 1
    assert unchanged.warnings[-1] == "identical to published version 1; nothing imported"
    assert (
        "element 'ki67_note' (Ki-67 note / Ki-67 note（中）) is required when"
        in (unchanged.warnings[0])
    )

    edited = copy.deepcopy(document)
    edited["graph"]["nodes"][1]["config"]["mapping"]["comment"] = "'imported'"
    result = import_workflow_file(department, edited, user=admin)

    assert (result.version.number, result.version.status) == (2, VersionStatus.PUBLISHED)
    assert result.version.spec == edited["graph"]
    assert "workflow.exported" in actions(workflow)
    assert actions(workflow)[-1] == "workflow.imported"


def test_importing_an_older_graph_upgrades_it_and_a_newer_file_warns(
    department: Department, admin: User, template_version: TemplateVersion
) -> None:
    legacy = graph(COMPLETE)
    del legacy["schema_version"]
    document = {
        "schema_version": 2,
        "workflow": {"slug": "imported", "name": "Imported", "case_type": "breast-core"},
        "template": {"slug": "core-biopsy", "version": 1},
        "graph": legacy,
    }

    result = import_workflow_file(department, document, user=admin)

    assert result.version.spec["schema_version"] == 1
    assert result.warnings[:2] == [
        "the file has schema_version 2, newer than this Pathflow writes (1); parts it does not "
        "know were ignored",
        "the graph had schema_version 0; upgraded to 1",
    ]
    assert result.version.workflow.case_type == "breast-core"


def test_importing_names_an_unknown_template_and_lists_every_graph_problem(
    department: Department, admin: User, template_version: TemplateVersion
) -> None:
    document = {
        "schema_version": 1,
        "workflow": {"slug": "imported", "name": "Imported", "case_type": "breast-core"},
        "template": {"slug": "lung", "version": 1},
        "graph": graph({"procedure": "'x'"}),
    }
    with pytest.raises(WorkflowError) as unknown:
        import_workflow_file(department, document, user=admin)
    assert str(unknown.value) == (
        "template 'lung' does not exist in department 'pathology' (known: core-biopsy); "
        "import the template first"
    )

    document["template"] = {"slug": "core-biopsy", "version": 1}
    with pytest.raises(WorkflowInvalid) as invalid:
        import_workflow_file(department, document, user=admin)
    assert [p.code for p in invalid.value.problems] == ["required_element_unfilled"]
    assert not Workflow.objects.filter(slug="imported").exists()

    drafted = import_workflow_file(department, document, user=admin, publish=False)
    assert drafted.version.status == VersionStatus.DRAFT
    assert [p.code for p in drafted.validation.problems] == ["required_element_unfilled"]


def test_the_loader_path_still_imports_the_demo_workflow_without_the_template_contract(
    department: Department, template_version: TemplateVersion
) -> None:
    document = graph({"procedure": "'x'"})

    version = import_workflow(
        department, document, template_version, slug="loaded", case_type="breast-core"
    )
    again = import_workflow(
        department, document, template_version, slug="loaded", case_type="breast-core"
    )

    assert (version.number, version.status) == (1, VersionStatus.PUBLISHED)
    assert again == version


# --- the REST API -----------------------------------------------------------------------------


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def put(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.put(url, json.dumps(body), content_type="application/json")


def test_the_api_takes_a_workflow_from_creation_to_publish_with_every_problem_shown(
    admin: User, template_version: TemplateVersion
) -> None:
    client = logged_in(admin)
    created = client.post(
        "/api/v1/workflows",
        {"slug": "core", "name": "Core", "case_type": "breast-core",
         "template_version": template_version.pk},
        content_type="application/json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    assert created.json()["draft"]["number"] == 1

    not_a_graph = put(client, "/api/v1/workflows/core/draft", {"graph": ["case"]})
    assert not_a_graph.status_code == 400
    assert not_a_graph.json()["graph"] == ["the graph must be a JSON object"]
    saved = put(client, "/api/v1/workflows/core/draft", {"graph": graph({"procedure": "'x'"})})
    assert saved.status_code == 200
    assert [(p["code"], p["node_id"], p["element_id"]) for p in saved.json()["problems"]] == [
        ("required_element_unfilled", "report", "ki67_index")
    ]
    refused = client.post("/api/v1/workflows/core/publish")
    assert refused.status_code == 400
    assert refused.json()["problems"] == saved.json()["problems"]

    checked = client.post(
        "/api/v1/workflows/core/validate",
        {"graph": graph(COMPLETE)},
        content_type="application/json",
    ).json()
    assert (checked["valid"], checked["problems"]) == (True, [])
    assert [w["element_id"] for w in checked["warnings"]] == ["ki67_note"]
    assert Workflow.objects.get(slug="core").versions.get().spec == graph({"procedure": "'x'"})

    put(client, "/api/v1/workflows/core/draft", {"graph": graph(COMPLETE)})
    published = client.post("/api/v1/workflows/core/publish")
    assert published.status_code == 201
    assert published.json()["number"] == 1
    assert published.json()["status"] == "published"

    detail = client.get("/api/v1/workflows/core").json()
    assert detail["draft"] is None
    assert [v["number"] for v in detail["published"]] == [1]


def test_the_api_diffs_rolls_back_exports_and_imports(
    admin: User, workflow: Workflow, template_version: TemplateVersion
) -> None:
    publish(workflow, graph(COMPLETE), admin)
    publish(workflow, graph({**COMPLETE, "comment": "'two'"}), admin)
    client = logged_in(admin)

    diff = client.get("/api/v1/workflows/core-biopsy/diff?from=1&to=2").json()
    assert diff["nodes"]["changed"][0]["config_keys"] == ["mapping.comment"]
    assert client.get("/api/v1/workflows/core-biopsy/diff?from=1&to=9").status_code == 404
    assert client.get("/api/v1/workflows/core-biopsy/diff?from=1").status_code == 400

    rolled = client.post(
        "/api/v1/workflows/core-biopsy/rollback", {"version": 1}, content_type="application/json"
    )
    assert rolled.status_code == 201
    assert (rolled.json()["number"], rolled.json()["published_from"]) == (3, 1)
    versions = client.get("/api/v1/workflows/core-biopsy/versions").json()
    assert [v["number"] for v in versions] == [3, 2, 1]

    export = client.get("/api/v1/workflows/core-biopsy/export?version=2")
    assert export["Content-Disposition"] == 'attachment; filename="core-biopsy-v2.json"'
    document = json.loads(export.content)
    assert document["graph"]["nodes"][1]["config"]["mapping"]["comment"] == "'two'"

    document["graph"]["nodes"][1]["config"]["mapping"]["comment"] = "'uploaded'"
    upload = json.dumps(document).encode()

    imported = client.post(
        "/api/v1/workflows/import?draft=true",
        {"file": SimpleUploadedFile("core.json", upload, content_type="application/json")},
    )
    assert imported.status_code == 201, imported.json()
    version = imported.json()["version"]
    assert (version["number"], version["status"]) == (4, "draft")
    assert Workflow.objects.get(slug="core-biopsy").versions.get(number=4).spec == document["graph"]


def test_pathologists_read_only_admins_change_and_denials_are_audited(
    workflow: Workflow, pathologist: User, clinician: User
) -> None:
    client = logged_in(pathologist)

    assert client.get("/api/v1/workflows/core-biopsy").status_code == 200
    denied = put(client, "/api/v1/workflows/core-biopsy/draft", {"graph": graph(COMPLETE)})
    assert denied.status_code == 403
    assert client.post("/api/v1/workflows/core-biopsy/publish").status_code == 403
    assert AuditEvent.objects.filter(action="workflow.denied", actor=pathologist).count() == 2
    assert logged_in(clinician).get("/api/v1/workflows").status_code == 403


def test_other_departments_see_nothing_and_get_404(
    workflow: Workflow, other_department_pathologist: User
) -> None:
    client = logged_in(other_department_pathologist)

    assert client.get("/api/v1/workflows").json() == []
    for url in ("", "/versions", "/export", "/diff?from=1&to=1"):
        assert client.get(f"/api/v1/workflows/core-biopsy{url}").status_code == 404


def test_the_workflow_list_query_count_does_not_grow_with_workflows(
    admin: User,
    department: Department,
    template_version: TemplateVersion,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    for n in range(6):
        create_workflow(
            department, slug=f"w{n}", name=f"W{n}", case_type="x", template_version=template_version
        )
    client = logged_in(admin)

    with django_assert_max_num_queries(4):
        body = client.get("/api/v1/workflows").json()

    assert [(w["slug"], w["draft_version"], w["published_version"]) for w in body] == [
        (f"w{n}", 1, None) for n in range(6)
    ]


def test_the_openapi_schema_still_generates_with_the_workflow_routes(admin: User) -> None:
    schema = logged_in(admin).get("/api/v1/schema")

    assert schema.status_code == 200
    text = schema.content.decode()
    for route in (
        "/api/v1/workflows/{slug}/publish",
        "/api/v1/workflows/{slug}/rollback",
        "/api/v1/workflows/import",
    ):
        assert route in text  # fmt: skip


def test_the_editor_gets_the_ports_a_node_has_with_its_config(pathologist: User) -> None:
    client = logged_in(pathologist)
    config = {"cases": [{"port": "high", "expression": "nodes.ihc.result.index >= 0.2"}]}

    ports = client.post(
        "/api/v1/node-types/switch/1/ports", {"config": config}, content_type="application/json"
    ).json()
    invalid = client.post(
        "/api/v1/node-types/switch/1/ports", {"config": {}}, content_type="application/json"
    ).json()
    unknown = client.post(
        "/api/v1/node-types/fax/1/ports", {"config": {}}, content_type="application/json"
    )

    assert [p["name"] for p in ports["outputs"]] == ["high", "default"]
    assert ports["problems"] == []
    assert [p["name"] for p in invalid["outputs"]] == ["default"]
    assert invalid["problems"] == ["config: 'cases' is a required property"]
    assert unknown.status_code == 404
