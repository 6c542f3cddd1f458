"""Persona test over the whole API: for every operation in the OpenAPI schema, a person of
another department — a pathologist, an admin (who may do almost anything in their own
department, so only the department rule stops them) and an integration client — gets 403 or
404 for our objects, and lists, searches and "global" answers leak none of our identifiers.

``OPERATIONS`` says, for every operation, how to aim it at our department's objects. A new
operation without a row fails ``test_every_operation_in_the_schema_has_a_scoping_case``:
add its row (and the scoping in the view) before it ships.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from orchestrator.accounts.models import Role, User
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import DemoData, load_demo_data
from orchestrator.designs.models import TemplateVersion
from orchestrator.integrations.access import do_create_token
from orchestrator.integrations.inbound_models import ApiToken, InboundMessage, RoutingRule
from orchestrator.integrations.outbox_models import Delivery, DeliveryRoute
from orchestrator.quality.models import GoldenCase, ShadowRun, ShadowSource
from orchestrator.reports.models import Report
from tests.conftest import PASSWORD
from tests.factories import UserFactory
from tests.orchestrator.reports.drafts import logged_in, parked_draft

pytestmark = [pytest.mark.service, pytest.mark.django_db]

# object: aimed at one of ours → 403/404. list/global: answers about the outsider's own
# department (or none) → no identifier of ours. create: creates something of the outsider's
# own; refers: a creation that names one of our objects → refused (400/403/404/422).
OBJECT, LIST, GLOBAL, CREATE, REFERS = "object", "list", "global", "create", "refers"


@dataclass(frozen=True)
class World:
    """Our department's objects, which the outsider aims at."""

    demo: DemoData
    draft: Report
    signed: Report
    template_slug: str
    template_version: TemplateVersion
    workflow_slug: str
    accession: str
    mrn: str
    delivery_id: int
    route_id: int
    destination_slug: str
    message_id: int
    rule_id: int
    token_id: int
    shadow_run_id: int

    @property
    def run_id(self) -> int:
        assert self.draft.run_id is not None
        return self.draft.run_id

    @property
    def specimen_id(self) -> int:
        specimen = self.draft.case.specimens.first()
        assert specimen is not None
        return specimen.pk

    def markers(self) -> list[str]:
        """Strings of ours that no answer to an outsider may contain (the template's slug is
        not one: it names a folder of the public template library)."""
        return [
            self.accession,
            self.mrn,
            "S26-30002",
            "MRN-30002",
            self.workflow_slug,
            self.destination_slug,
        ]


@dataclass(frozen=True)
class Case:
    kind: str
    url: Callable[[World], str]
    body: Callable[[World], Any] = lambda w: None


def _graph(w: World) -> dict[str, Any]:
    return dict(w.demo.workflow_version.spec)


R = "/api/v1"


def _analytics(figure: str) -> Callable[[World], str]:
    return lambda w: f"{R}/analytics/{figure}"


OPERATIONS: dict[str, Case] = {
    "GET /api/v1/me": Case(GLOBAL, lambda w: f"{R}/me"),
    "GET /api/v1/node-types": Case(GLOBAL, lambda w: f"{R}/node-types"),
    "POST /api/v1/node-types/{name}/{version}/ports": Case(
        GLOBAL, lambda w: f"{R}/node-types/switch/1/ports", lambda w: {"config": {"cases": []}}
    ),
    "GET /api/v1/cases/{case}/slides": Case(
        OBJECT, lambda w: f"{R}/cases/{w.draft.case_id}/slides"
    ),
    "GET /api/v1/specimens/{specimen}/slides/{index}.dzi": Case(
        OBJECT, lambda w: f"{R}/specimens/{w.specimen_id}/slides/0.dzi"
    ),
    "GET /api/v1/specimens/{specimen}/slides/{index}/overlay": Case(
        OBJECT,
        lambda w: f"{R}/specimens/{w.specimen_id}/slides/0/overlay?x=0&y=0&width=64&height=64",
    ),
    "GET /api/v1/specimens/{specimen}/slides/{index}_files/{level}/{col}_{row}.jpeg": Case(
        OBJECT, lambda w: f"{R}/specimens/{w.specimen_id}/slides/0_files/0/0_0.jpeg"
    ),
    # The dashboard's aggregates: an outsider's answer counts their own department only.
    **{
        f"GET /api/v1/analytics/{figure}": Case(LIST, _analytics(figure))
        for figure in ("case-types", "turnaround", "throughput", "queue", "agreement", "failures")
    },
    "GET /api/v1/deliveries/": Case(LIST, lambda w: f"{R}/deliveries/"),
    "GET /api/v1/deliveries/{id}/": Case(OBJECT, lambda w: f"{R}/deliveries/{w.delivery_id}/"),
    "POST /api/v1/deliveries/{id}/resend": Case(
        OBJECT, lambda w: f"{R}/deliveries/{w.delivery_id}/resend", lambda w: {}
    ),
    "GET /api/v1/delivery-queues": Case(LIST, lambda w: f"{R}/delivery-queues"),
    "GET /api/v1/delivery-routes/": Case(LIST, lambda w: f"{R}/delivery-routes/"),
    # A route to our destination must be refused.
    "POST /api/v1/delivery-routes/": Case(
        REFERS,
        lambda w: f"{R}/delivery-routes/",
        lambda w: {"destination": w.destination_slug, "report_statuses": ["final"]},
    ),
    "GET /api/v1/delivery-routes/{id}/": Case(
        OBJECT, lambda w: f"{R}/delivery-routes/{w.route_id}/"
    ),
    "PUT /api/v1/delivery-routes/{id}/": Case(
        OBJECT,
        lambda w: f"{R}/delivery-routes/{w.route_id}/",
        lambda w: {"destination": w.destination_slug, "report_statuses": ["final"]},
    ),
    "PATCH /api/v1/delivery-routes/{id}/": Case(
        OBJECT, lambda w: f"{R}/delivery-routes/{w.route_id}/", lambda w: {"enabled": False}
    ),
    "DELETE /api/v1/delivery-routes/{id}/": Case(
        OBJECT, lambda w: f"{R}/delivery-routes/{w.route_id}/"
    ),
    "GET /fhir/DiagnosticReport": Case(
        LIST, lambda w: "/fhir/DiagnosticReport?identifier=S26-30002"
    ),
    "GET /fhir/DiagnosticReport/{resource_id}": Case(
        OBJECT, lambda w: f"/fhir/DiagnosticReport/pf-{w.signed.pk}"
    ),
    "GET /api/v1/catalog/protocols/": Case(GLOBAL, lambda w: f"{R}/catalog/protocols/"),
    "GET /api/v1/catalog/endpoints/": Case(LIST, lambda w: f"{R}/catalog/endpoints/"),
    "POST /api/v1/catalog/endpoints/": Case(
        CREATE,
        lambda w: f"{R}/catalog/endpoints/",
        lambda w: {
            "slug": "theirs",
            "name": "Theirs",
            "protocol": "webhook",
            "base_url": "http://127.0.0.1:9/theirs",
        },
    ),
    "GET /api/v1/catalog/endpoints/{slug}/": Case(
        OBJECT, lambda w: f"{R}/catalog/endpoints/{w.destination_slug}/"
    ),
    "PATCH /api/v1/catalog/endpoints/{slug}/": Case(
        OBJECT, lambda w: f"{R}/catalog/endpoints/{w.destination_slug}/", lambda w: {"name": "x"}
    ),
    "GET /api/v1/catalog/endpoints/{slug}/used-by/": Case(
        OBJECT, lambda w: f"{R}/catalog/endpoints/{w.destination_slug}/used-by/"
    ),
    "POST /api/v1/catalog/endpoints/{slug}/disable/": Case(
        OBJECT, lambda w: f"{R}/catalog/endpoints/{w.destination_slug}/disable/", lambda w: {}
    ),
    "POST /api/v1/catalog/endpoints/{slug}/enable/": Case(
        OBJECT, lambda w: f"{R}/catalog/endpoints/{w.destination_slug}/enable/", lambda w: {}
    ),
    "POST /api/v1/catalog/endpoints/{slug}/test-call/": Case(
        OBJECT, lambda w: f"{R}/catalog/endpoints/{w.destination_slug}/test-call/", lambda w: {}
    ),
    "GET /api/v1/integration/cases/": Case(LIST, lambda w: f"{R}/integration/cases/"),
    "GET /api/v1/integration/cases/{id}/": Case(
        OBJECT, lambda w: f"{R}/integration/cases/{w.signed.case_id}/"
    ),
    "GET /api/v1/integration/cases/{id}/reports/": Case(
        OBJECT, lambda w: f"{R}/integration/cases/{w.signed.case_id}/reports/"
    ),
    # A case the outsider submits is their own department's.
    "POST /api/v1/integration/cases/submit": Case(
        CREATE,
        lambda w: f"{R}/integration/cases/submit",
        lambda w: {"accession": "THEIRS-1", "case_type": "breast-resection"},
    ),
    "GET /api/v1/integration/inbound-messages/": Case(
        LIST, lambda w: f"{R}/integration/inbound-messages/"
    ),
    "GET /api/v1/integration/inbound-messages/{id}/": Case(
        OBJECT, lambda w: f"{R}/integration/inbound-messages/{w.message_id}/"
    ),
    "POST /api/v1/integration/inbound-messages/{id}/reprocess": Case(
        OBJECT, lambda w: f"{R}/integration/inbound-messages/{w.message_id}/reprocess", lambda w: {}
    ),
    "GET /api/v1/integration/reports/{id}/pdf": Case(
        OBJECT, lambda w: f"{R}/integration/reports/{w.signed.pk}/pdf"
    ),
    "GET /api/v1/integration/routing-rules/": Case(
        LIST, lambda w: f"{R}/integration/routing-rules/"
    ),
    # A routing rule starting our workflow must be refused.
    "POST /api/v1/integration/routing-rules/": Case(
        REFERS,
        lambda w: f"{R}/integration/routing-rules/",
        lambda w: {"order_code": "X", "workflow": w.workflow_slug},
    ),
    "GET /api/v1/integration/routing-rules/{id}/": Case(
        OBJECT, lambda w: f"{R}/integration/routing-rules/{w.rule_id}/"
    ),
    "PUT /api/v1/integration/routing-rules/{id}/": Case(
        OBJECT,
        lambda w: f"{R}/integration/routing-rules/{w.rule_id}/",
        lambda w: {"order_code": "X", "workflow": w.workflow_slug},
    ),
    "PATCH /api/v1/integration/routing-rules/{id}/": Case(
        OBJECT, lambda w: f"{R}/integration/routing-rules/{w.rule_id}/", lambda w: {"active": False}
    ),
    "DELETE /api/v1/integration/routing-rules/{id}/": Case(
        OBJECT, lambda w: f"{R}/integration/routing-rules/{w.rule_id}/"
    ),
    "GET /api/v1/integration/tokens/": Case(LIST, lambda w: f"{R}/integration/tokens/"),
    "POST /api/v1/integration/tokens/": Case(
        CREATE, lambda w: f"{R}/integration/tokens/", lambda w: {"name": "Theirs"}
    ),
    "GET /api/v1/integration/tokens/{id}/": Case(
        OBJECT, lambda w: f"{R}/integration/tokens/{w.token_id}/"
    ),
    "POST /api/v1/integration/tokens/{id}/revoke": Case(
        OBJECT, lambda w: f"{R}/integration/tokens/{w.token_id}/revoke", lambda w: {}
    ),
    # The public template library; a clone is the outsider's own template.
    "GET /api/v1/template-library/": Case(GLOBAL, lambda w: f"{R}/template-library/"),
    "POST /api/v1/template-library/{slug}/clone/": Case(
        CREATE,
        lambda w: f"{R}/template-library/breast-carcinoma/clone/",
        lambda w: {"slug": "their-breast"},
    ),
    # The bundled sample case documents of the test bench: no department data.
    "GET /api/v1/sample-cases": Case(GLOBAL, lambda w: f"{R}/sample-cases"),
    "GET /api/v1/portal/cases/{id}/reports": Case(
        OBJECT, lambda w: f"{R}/portal/cases/{w.draft.case_id}/reports"
    ),
    "GET /api/v1/portal/search": Case(LIST, lambda w: f"{R}/portal/search?q={w.accession}"),
    "POST /api/v1/reports/{id}/amend": Case(
        OBJECT,
        lambda w: f"{R}/reports/{w.signed.pk}/amend",
        lambda w: {"kind": "amended", "reason": "x", "changes": {}, "password": PASSWORD},
    ),
    "GET /api/v1/reports/{id}/pdf": Case(OBJECT, lambda w: f"{R}/reports/{w.signed.pk}/pdf"),
    "POST /api/v1/reports/{id}/golden": Case(
        OBJECT, lambda w: f"{R}/reports/{w.signed.pk}/golden", lambda w: {}
    ),
    "POST /api/v1/reports/{id}/recall": Case(OBJECT, lambda w: f"{R}/reports/{w.signed.pk}/recall"),
    "GET /api/v1/quality/settings": Case(GLOBAL, lambda w: f"{R}/quality/settings"),
    "PUT /api/v1/quality/settings": Case(
        GLOBAL, lambda w: f"{R}/quality/settings", lambda w: {"golden_threshold": 0.5}
    ),
    "GET /api/v1/quality/shadow-runs/{id}": Case(
        OBJECT, lambda w: f"{R}/quality/shadow-runs/{w.shadow_run_id}"
    ),
    "GET /api/v1/review/queue": Case(LIST, lambda w: f"{R}/review/queue"),
    "GET /api/v1/review/reports/{id}": Case(OBJECT, lambda w: f"{R}/review/reports/{w.draft.pk}"),
    "POST /api/v1/review/reports/{id}/fields": Case(
        OBJECT,
        lambda w: f"{R}/review/reports/{w.draft.pk}/fields",
        lambda w: {"element": "pt_category", "value": "pT2"},
    ),
    "POST /api/v1/review/reports/{id}/sign": Case(
        OBJECT, lambda w: f"{R}/review/reports/{w.draft.pk}/sign", lambda w: {"password": PASSWORD}
    ),
    "POST /api/v1/review/sign-batch": Case(
        OBJECT,
        lambda w: f"{R}/review/sign-batch",
        lambda w: {"reports": [w.draft.pk], "password": PASSWORD},
    ),
    "GET /api/v1/runs/": Case(LIST, lambda w: f"{R}/runs/"),
    "GET /api/v1/runs/{id}/": Case(OBJECT, lambda w: f"{R}/runs/{w.run_id}/"),
    "POST /api/v1/runs/{id}/cancel/": Case(OBJECT, lambda w: f"{R}/runs/{w.run_id}/cancel/"),
    "GET /api/v1/runs/{id}/progress/": Case(OBJECT, lambda w: f"{R}/runs/{w.run_id}/progress/"),
    "POST /api/v1/runs/{id}/rerun/": Case(
        OBJECT, lambda w: f"{R}/runs/{w.run_id}/rerun/", lambda w: {"from_node": "fna"}
    ),
    "POST /api/v1/runs/{id}/review/": Case(
        OBJECT,
        lambda w: f"{R}/runs/{w.run_id}/review/",
        lambda w: {"node_id": "review", "decision": "approve"},
    ),
    "GET /api/v1/templates/": Case(LIST, lambda w: f"{R}/templates/"),
    # Creating a template refers to nothing of ours; what it creates is the outsider's own.
    "POST /api/v1/templates/": Case(
        CREATE, lambda w: f"{R}/templates/", lambda w: {"slug": "theirs", "name": "Theirs"}
    ),
    "GET /api/v1/templates/{slug}/": Case(OBJECT, lambda w: f"{R}/templates/{w.template_slug}/"),
    "GET /api/v1/templates/{slug}/diff/": Case(
        OBJECT, lambda w: f"{R}/templates/{w.template_slug}/diff/?from=1&to=1"
    ),
    "PUT /api/v1/templates/{slug}/draft/": Case(
        OBJECT,
        lambda w: f"{R}/templates/{w.template_slug}/draft/",
        lambda w: {"dataset": w.template_version.dataset},
    ),
    "DELETE /api/v1/templates/{slug}/draft/": Case(
        OBJECT, lambda w: f"{R}/templates/{w.template_slug}/draft/"
    ),
    "GET /api/v1/templates/{slug}/versions/": Case(
        OBJECT, lambda w: f"{R}/templates/{w.template_slug}/versions/"
    ),
    "GET /api/v1/templates/{slug}/versions/{number}/": Case(
        OBJECT, lambda w: f"{R}/templates/{w.template_slug}/versions/1/"
    ),
    "POST /api/v1/templates/{slug}/versions/{number}/new-draft/": Case(
        OBJECT, lambda w: f"{R}/templates/{w.template_slug}/versions/1/new-draft/"
    ),
    "POST /api/v1/templates/{slug}/versions/{number}/publish/": Case(
        OBJECT, lambda w: f"{R}/templates/{w.template_slug}/versions/1/publish/"
    ),
    "POST /api/v1/templates/{slug}/versions/{number}/validate/": Case(
        OBJECT,
        lambda w: f"{R}/templates/{w.template_slug}/versions/1/validate/",
        lambda w: {"values": {}},
    ),
    "POST /api/v1/templates/preview": Case(
        OBJECT,
        lambda w: f"{R}/templates/preview",
        lambda w: {"template_version": w.template_version.pk, "format": "html"},
    ),
    "GET /api/v1/workflows": Case(LIST, lambda w: f"{R}/workflows"),
    # Creating a workflow on our template version must be refused.
    "POST /api/v1/workflows": Case(
        REFERS,
        lambda w: f"{R}/workflows",
        lambda w: {
            "slug": "theirs",
            "name": "Theirs",
            "case_type": "breast-resection",
            "template_version": w.template_version.pk,
        },
    ),
    "GET /api/v1/workflows/{slug}": Case(OBJECT, lambda w: f"{R}/workflows/{w.workflow_slug}"),
    "GET /api/v1/workflows/{slug}/diff": Case(
        OBJECT, lambda w: f"{R}/workflows/{w.workflow_slug}/diff?from=1&to=1"
    ),
    "PUT /api/v1/workflows/{slug}/draft": Case(
        OBJECT, lambda w: f"{R}/workflows/{w.workflow_slug}/draft", lambda w: {"graph": _graph(w)}
    ),
    "GET /api/v1/workflows/{slug}/export": Case(
        OBJECT, lambda w: f"{R}/workflows/{w.workflow_slug}/export"
    ),
    "GET /api/v1/workflows/{slug}/golden-cases": Case(
        OBJECT, lambda w: f"{R}/workflows/{w.workflow_slug}/golden-cases"
    ),
    # Marking our signed case golden must be refused (it is not found for the outsider).
    "POST /api/v1/workflows/{slug}/golden-cases": Case(
        OBJECT,
        lambda w: f"{R}/workflows/{w.workflow_slug}/golden-cases",
        lambda w: {"accession": "S26-30002"},
    ),
    "DELETE /api/v1/workflows/{slug}/golden-cases/{case}": Case(
        OBJECT, lambda w: f"{R}/workflows/{w.workflow_slug}/golden-cases/{w.signed.case_id}"
    ),
    "GET /api/v1/workflows/{slug}/publish-gates": Case(
        OBJECT, lambda w: f"{R}/workflows/{w.workflow_slug}/publish-gates"
    ),
    "GET /api/v1/workflows/{slug}/shadow-runs": Case(
        OBJECT, lambda w: f"{R}/workflows/{w.workflow_slug}/shadow-runs"
    ),
    "POST /api/v1/workflows/{slug}/shadow-runs": Case(
        OBJECT,
        lambda w: f"{R}/workflows/{w.workflow_slug}/shadow-runs",
        lambda w: {"source": "golden"},
    ),
    "GET /api/v1/workflows/{slug}/tolerances": Case(
        OBJECT, lambda w: f"{R}/workflows/{w.workflow_slug}/tolerances"
    ),
    "PUT /api/v1/workflows/{slug}/tolerances/{element}": Case(
        OBJECT,
        lambda w: f"{R}/workflows/{w.workflow_slug}/tolerances/ki67_index",
        lambda w: {"tolerance": 5},
    ),
    "POST /api/v1/workflows/{slug}/nodes/{node_id}/run": Case(
        OBJECT, lambda w: f"{R}/workflows/{w.workflow_slug}/nodes/ki67/run", lambda w: {}
    ),
    "POST /api/v1/workflows/{slug}/publish": Case(
        OBJECT, lambda w: f"{R}/workflows/{w.workflow_slug}/publish", lambda w: {}
    ),
    "POST /api/v1/workflows/{slug}/rollback": Case(
        OBJECT, lambda w: f"{R}/workflows/{w.workflow_slug}/rollback", lambda w: {"version": 1}
    ),
    "POST /api/v1/workflows/{slug}/test-run": Case(
        OBJECT,
        lambda w: f"{R}/workflows/{w.workflow_slug}/test-run",
        lambda w: {"case": w.draft.case_id},
    ),
    "POST /api/v1/workflows/{slug}/validate": Case(
        OBJECT, lambda w: f"{R}/workflows/{w.workflow_slug}/validate", lambda w: {}
    ),
    "GET /api/v1/workflows/{slug}/versions": Case(
        OBJECT, lambda w: f"{R}/workflows/{w.workflow_slug}/versions"
    ),
    "GET /api/v1/workflows/{slug}/versions/{number}": Case(
        OBJECT, lambda w: f"{R}/workflows/{w.workflow_slug}/versions/1"
    ),
    # Importing a workflow file that names our template must not bind to it.
    "POST /api/v1/workflows/import": Case(
        REFERS,
        lambda w: f"{R}/workflows/import",
        lambda w: {
            "schema_version": 1,
            "workflow": {"slug": "theirs", "name": "Theirs", "case_type": "x"},
            "template": {"slug": w.template_slug, "version": 1},
            "graph": _graph(w),
        },
    ),
}


def schema_operations() -> list[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    return sorted(
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )


def test_every_operation_in_the_schema_has_a_scoping_case() -> None:
    operations = schema_operations()
    missing = [op for op in operations if op not in OPERATIONS]
    stale = [op for op in OPERATIONS if op not in operations]
    assert missing == [], f"operations without a scoping case in OPERATIONS: {missing}"
    assert stale == [], f"OPERATIONS rows for operations that no longer exist: {stale}"
    # Each swept as another department's pathologist, admin and integration client.
    print(f"idor_operations={len(operations)} idor_outsiders=3")


@pytest.fixture
def world(db: None, pathologist: User) -> World:
    demo = load_demo_data(PASSWORD, "http://127.0.0.1:9")
    pathologist.refresh_from_db()  # the demo data set its password again (a new session hash)
    # A record number of its own (the bundled sample documents carry the demo one).
    draft = parked_draft(demo, "S26-30001", mrn="MRN-30001")
    lis = ModelEndpoint.objects.create(
        department=demo.department,
        slug="lis-ours",
        name="Our LIS",
        protocol="webhook",
        base_url="http://127.0.0.1:9/results",
        timeout_s=2.0,
    )
    route = DeliveryRoute.objects.create(
        department=demo.department, destination=lis, report_statuses=["final"]
    )
    to_sign = parked_draft(demo, "S26-30002", mrn="MRN-30002")
    signed = logged_in(pathologist).post(
        f"/api/v1/review/reports/{to_sign.pk}/sign",
        {"password": PASSWORD},
        content_type="application/json",
    )
    template_version = demo.workflow_version.template_version
    signed_version = Report.objects.get(pk=signed.json()["report_id"])
    message = InboundMessage.objects.create(
        channel="mllp",
        raw=b"MSH|^~\\&|LIS|HOSP|PATHFLOW|PATH|20261206||ORM^O01|C1|P|2.5\r",
        department=demo.department,
        accession="S26-30002",
        patient_mrn="MRN-30002",
        case=signed_version.case,
    )
    rule = RoutingRule.objects.create(
        department=demo.department, order_code="BRST", workflow=demo.workflow_version.workflow
    )
    token, _ = do_create_token(User.objects.get(username="admin"), "Our LIS")
    workflow = demo.workflow_version.workflow
    GoldenCase.objects.create(workflow=workflow, case=signed_version.case)
    shadow = ShadowRun.objects.create(
        workflow_version=demo.workflow_version, source=ShadowSource.GOLDEN
    )
    return World(
        demo=demo,
        draft=draft,
        signed=signed_version,
        template_slug=template_version.template.slug,
        template_version=template_version,
        workflow_slug=demo.workflow_version.workflow.slug,
        accession="S26-30001",
        mrn=draft.case.patient_mrn,
        delivery_id=Delivery.objects.get(report=signed_version).pk,
        route_id=route.pk,
        destination_slug=lis.slug,
        message_id=message.pk,
        rule_id=rule.pk,
        token_id=token.pk,
        shadow_run_id=shadow.pk,
    )


@pytest.fixture(params=["pathologist", "admin", "integration"])
def outsider(request: pytest.FixtureRequest, other_department_pathologist: User) -> User:
    """Another department's pathologist, admin, or integration client (the role the LIS's
    API tokens act as)."""
    if request.param == "pathologist":
        return other_department_pathologist
    department = other_department_pathologist.department
    role = Role.ADMIN if request.param == "admin" else Role.INTEGRATION
    return UserFactory.create(
        username=f"outsider-{request.param}", department=department, role=role
    )


def ours(world: World) -> dict[str, int]:
    """Counts of what the outsider must not change in our department."""
    department = world.demo.department
    return {
        "reports": Report.objects.filter(case__department=department).count(),
        "templates": TemplateVersion.objects.filter(template__department=department).count(),
        "routes": DeliveryRoute.objects.filter(department=department, enabled=True).count(),
        "deliveries": Delivery.objects.filter(department=department).count(),
        "endpoints": ModelEndpoint.objects.filter(department=department, enabled=True).count(),
        "rules": RoutingRule.objects.filter(department=department, active=True).count(),
        "tokens": ApiToken.objects.filter(department=department, revoked_at=None).count(),
        "messages": InboundMessage.objects.filter(department=department).count(),
        "golden": GoldenCase.objects.filter(workflow__department=department).count(),
        "shadow_runs": ShadowRun.objects.filter(
            workflow_version__workflow__department=department
        ).count(),
    }


def call(client: Client, method: str, url: str, body: Any) -> Any:
    send = getattr(client, method.lower())
    if body is None:
        return send(url)
    return send(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_another_department_gets_403_or_404_and_lists_leak_nothing(
    operation: str, world: World, outsider: User
) -> None:
    case = OPERATIONS[operation]
    method = operation.split()[0]
    before = ours(world)

    url, body = case.url(world), case.body(world)
    response = call(logged_in(outsider), method, url, body)

    content = b"" if response.streaming else response.content
    text = content.decode(errors="replace")
    if case.kind == OBJECT:
        assert response.status_code in (403, 404), (operation, response.status_code, text[:300])
    elif case.kind == REFERS:
        assert response.status_code in (400, 403, 404, 422), (operation, text[:300])
    else:
        assert response.status_code < 500, (operation, text[:300])
    # An error may echo what the outsider sent; anything else of ours is a leak.
    sent = url + json.dumps(body)
    leaked = [m for m in world.markers() if m in text and m not in sent]
    assert leaked == [], f"{operation} showed {leaked} to another department"
    assert ours(world) == before, f"{operation} changed another department's objects"


def test_the_owning_department_does_see_the_objects_the_outsider_could_not(
    world: World, pathologist: User
) -> None:
    """The other half: the same requests by our pathologist find the objects (so a 404 above
    is the department rule, not a broken URL)."""
    client = logged_in(pathologist)
    for operation in ("GET /api/v1/review/reports/{id}", "GET /api/v1/runs/{id}/"):
        assert client.get(OPERATIONS[operation].url(world)).status_code == 200
    queue = client.get(OPERATIONS["GET /api/v1/review/queue"].url(world)).json()
    assert world.accession in [item["accession"] for item in queue]
    found = client.get(OPERATIONS["GET /api/v1/portal/search"].url(world)).json()
    assert [c["accession"] for c in found] == [world.accession]


@pytest.mark.parametrize(
    "path", ["/api/v1/quality/settings", "/api/v1/workflows/0/golden-cases", "/api/v1/runs/"]
)
def test_a_method_no_view_handles_is_405_not_a_server_error(pathologist: User, path: str) -> None:
    """TRACE (or any method a view has no handler for) is refused as DRF would, naming the
    method; the policy is never asked for it (it used to raise: a 500)."""
    answer = logged_in(pathologist).generic("TRACE", path)
    assert answer.status_code == 405
    assert "TRACE" in answer.json()["detail"]


def test_options_and_head_on_every_operation_are_answered_without_a_leak_or_a_server_error(
    world: World, pathologist: User, other_department_pathologist: User
) -> None:
    """OPTIONS (DRF's description of an operation) and HEAD are reading: every path answers
    them for its department and the other one without a 5xx (OPTIONS on views whose policy
    names only GET, POST or PUT was a 500, found by the schemathesis soak), and the other
    department's answer holds nothing of ours."""
    urls = sorted({case.url(world) for case in OPERATIONS.values()})
    ours_client = logged_in(pathologist)
    outsider_client = logged_in(other_department_pathologist)
    problems = []
    for url in urls:
        for method in ("OPTIONS", "HEAD"):
            for who, client in (("ours", ours_client), ("outsider", outsider_client)):
                answer = client.generic(method, url)
                text = b"" if answer.streaming else answer.content
                shown = text.decode(errors="replace")
                leaked = [m for m in world.markers() if m in shown and m not in url]
                if answer.status_code >= 500 or (who == "outsider" and leaked):
                    problems.append(f"{method} {url} ({who}): {answer.status_code} {leaked}")
    assert problems == []
