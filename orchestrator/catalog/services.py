"""The endpoint catalog's services: register, change, disable, test-call, and who uses an entry.

An entry is a *model endpoint* (spoken to over a model protocol of ``workflows.protocols``) or a
*delivery destination* (receiving reports over a delivery channel); which one follows from its
protocol, and the protocols on offer are read from the engine's registries at use, so a new
protocol or channel class needs no change here. A secret is never stored: ``secret_ref`` names
the environment variable that holds it on the workers.

Every change is checked first (``CatalogInvalid`` lists every problem) and audited; a test-call
goes through the same protocol client, outbound-HTTP limits and catalog resolution as a run.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from orchestrator.accounts.models import Department, User
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.cases.models import Case
from orchestrator.catalog.models import (
    ModelEndpoint,
    address_problems,
    endpoint_kinds,
    is_destination_kind,
    output_measures_problems,
)
from orchestrator.designs.models import VersionStatus, WorkflowVersion
from orchestrator.runs.bridge import DjangoServices
from orchestrator.runs.models import Run
from workflows.context import RunContext
from workflows.errors import NodeError
from workflows.executor import json_safe
from workflows.http import new_client
from workflows.nodes.model_call import call_model, call_problems
from workflows.registry import REGISTRY

logger = logging.getLogger(__name__)

MODEL = "model"
DESTINATION = "destination"
# An environment variable name: what a secret reference is (never the secret itself).
SECRET_REF = re.compile(r"^[A-Z][A-Z0-9_]{0,99}$")
MAX_TIMEOUT_S = 300.0
# A test-call happens inside a web request: never longer than this, whatever the entry says.
TEST_CALL_MAX_SECONDS = 30.0
# Protocols whose calls name a model on the server (http_json posts to a path instead).
NEEDS_MODEL_NAME = frozenset({"open_inference_v2", "openai_chat"})
EDITABLE = (
    "name",
    "protocol",
    "base_url",
    "model_name",
    "secret_ref",
    "timeout_s",
    "max_attempts",
    "outputs",
)
# A destination's attempts before a delivery fails: at most this many (about a week of hourly
# retries at the longest backoff).
MAX_DELIVERY_ATTEMPTS = 1000


class CatalogInvalid(ValueError):
    """A catalog change or test-call refused; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Kind:
    """A protocol an entry may have: a model protocol or a delivery channel's."""

    name: str
    kind: str  # MODEL or DESTINATION
    title: str


def catalog_kinds() -> list[Kind]:
    """Every protocol on offer, from the engine's registries (model protocols, then delivery
    channels), as the catalog model computes them."""
    return [Kind(name, kind_of(name), title) for name, title in endpoint_kinds()]


def kind_of(protocol: str) -> str:
    return DESTINATION if is_destination_kind(protocol) else MODEL


def department_entries(department_id: int) -> QuerySet[ModelEndpoint]:
    return ModelEndpoint.objects.filter(department_id=department_id).order_by("slug")


# --- checks -----------------------------------------------------------------------------------


def check_entry(values: dict[str, Any]) -> None:
    """Every problem of an entry's editable values (after the serializer's type checks)."""
    problems: list[str] = []
    known = {k.name for k in catalog_kinds()}
    protocol = values.get("protocol", "")
    if protocol not in known:
        problems.append(f"protocol: {protocol!r} is not one of {', '.join(sorted(known))}")
    else:
        problems += [
            f"base_url: {p}" for p in address_problems(protocol, values.get("base_url", ""))
        ]
    if protocol in NEEDS_MODEL_NAME and not values.get("model_name"):
        problems.append(f"model_name: a {protocol} endpoint needs the model's name on the server")
    secret_ref = values.get("secret_ref", "")
    if secret_ref and not SECRET_REF.match(secret_ref):
        problems.append(
            "secret_ref: give the NAME of the environment variable that holds the secret "
            "(capital letters, digits and _, e.g. BREAST_FNA_TOKEN), never the secret itself"
        )
    problems += [f"outputs: {p}" for p in output_measures_problems(values.get("outputs", {}))]
    timeout = values.get("timeout_s", 30.0)
    if not 0 < timeout <= MAX_TIMEOUT_S:
        problems.append(f"timeout_s: must be more than 0 and at most {MAX_TIMEOUT_S:g} seconds")
    max_attempts = values.get("max_attempts")
    if max_attempts is not None:
        if protocol in known and not is_destination_kind(protocol):
            problems.append(
                "max_attempts: only a delivery destination retries deliveries (a model call's "
                "retries are set on its node in the workflow)"
            )
        elif not 1 <= max_attempts <= MAX_DELIVERY_ATTEMPTS:
            problems.append(f"max_attempts: must be from 1 to {MAX_DELIVERY_ATTEMPTS}")
    if problems:
        raise CatalogInvalid(problems)


# --- changes ----------------------------------------------------------------------------------


def _audit(action: AuditAction, entry: ModelEndpoint, user: User, **detail: Any) -> None:
    record_event(
        action,
        entry,
        actor=user,
        department=entry.department,
        slug=entry.slug,
        protocol=entry.protocol,
        **detail,
    )


def register_entry(department: Department, slug: str, values: dict[str, Any], user: User) -> Any:
    """A new catalog entry of ``department``; refuses a slug the department already uses."""
    check_entry(values)
    with transaction.atomic():
        if ModelEndpoint.objects.filter(department=department, slug=slug).exists():
            raise CatalogInvalid([f"slug: {slug!r} is already in the department's catalog"])
        entry = ModelEndpoint.objects.create(
            department=department, slug=slug, **{k: values[k] for k in EDITABLE if k in values}
        )
        _audit(AuditAction.CATALOG_REGISTERED, entry, user, kind=kind_of(entry.protocol))
    return entry


def update_entry(entry: ModelEndpoint, changes: dict[str, Any], user: User) -> ModelEndpoint:
    """Change an entry's editable values (the slug never changes: graphs name it)."""
    merged = {key: getattr(entry, key) for key in EDITABLE} | changes
    check_entry(merged)
    changed = sorted(k for k in EDITABLE if k in changes and changes[k] != getattr(entry, k))
    with transaction.atomic():
        for key in changed:
            setattr(entry, key, changes[key])
        entry.save()
        # The names of the fields, not their values: a URL may carry a token by mistake.
        _audit(AuditAction.CATALOG_UPDATED, entry, user, fields=changed)
    return entry


def set_enabled(entry: ModelEndpoint, enabled: bool, user: User) -> ModelEndpoint:
    """Disable (runs calling it fail, naming it) or enable again an entry."""
    with transaction.atomic():
        entry.enabled = enabled
        entry.save(update_fields=["enabled", "updated_at"])
        action = AuditAction.CATALOG_ENABLED if enabled else AuditAction.CATALOG_DISABLED
        _audit(action, entry, user)
    return entry


# --- test-call --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TestCallResult:
    ok: bool
    outputs: dict[str, Any] = field(default_factory=dict)
    model_name: str = ""
    model_version: str = ""
    error: str = ""
    duration_ms: int = 0


class _TestCallServices(DjangoServices):
    """The run's services, limited to the one entry under test (which may be disabled: an
    admin tries an entry before enabling it again)."""

    def __init__(self, entry: ModelEndpoint) -> None:
        super().__init__(Run(case=_sample_case(entry.department)))
        self.endpoints = {entry.slug: _enabled_copy(entry)}

    def delivery_withheld(self) -> str | None:
        return "a test-call never delivers"


def _sample_case(department: Department) -> Case:
    # Unsaved: the bridge's services read only its department.
    return Case(department=department)


def _enabled_copy(entry: ModelEndpoint) -> ModelEndpoint:
    copy = ModelEndpoint(**{f.attname: getattr(entry, f.attname) for f in entry._meta.fields})
    copy.enabled = True
    return copy


def check_test_call(entry: ModelEndpoint, request: Any, case: Any) -> dict[str, Any]:
    """The model-call config a test-call sends, or CatalogInvalid listing every problem."""
    if kind_of(entry.protocol) != MODEL:
        raise CatalogInvalid(
            [f"{entry.slug!r} is a delivery destination: it receives reports and is tried by a "
             "test run of a workflow (test runs build the delivery but never send it)"]
        )  # fmt: skip
    problems = []
    if not isinstance(request, dict):
        problems.append("request: must be an object (the protocol part of a model-call node)")
        request = {}
    if not isinstance(case, dict):
        problems.append("case: must be an object (the sample case the expressions read)")
    config = {**request, "endpoint": entry.slug, "protocol": entry.protocol}
    model_call = REGISTRY.get("model_call", 1)
    assert model_call is not None
    problems += [f"request: {p}" for p in model_call.config_problems(config)]
    problems += call_problems(config, "request: ")
    if problems:
        raise CatalogInvalid(list(dict.fromkeys(problems)))
    return config


async def _call(services: _TestCallServices, config: dict[str, Any], case: dict[str, Any]) -> Any:
    async with new_client() as http:
        context = RunContext(
            run_id=f"test-call-{uuid.uuid4().hex[:12]}",
            case=case,
            services=services,
            http=http,
            node_id="test-call",
        )
        key = f"{context.run_id}:test-call"
        return await asyncio.wait_for(call_model(context, config, key), TEST_CALL_MAX_SECONDS)


def test_call(entry: ModelEndpoint, request: Any, case: Any, user: User) -> TestCallResult:
    """Call a model endpoint once with a sample request, as a model-call node would (same
    protocol client, outbound-HTTP limits and secret resolution), in this process, with no
    retries and at most ``TEST_CALL_MAX_SECONDS``. Stores nothing but an audit event; a
    failing call is a result with the error a run would show."""
    config = check_test_call(entry, request, case)
    started = time.monotonic()
    result = TestCallResult(ok=False)
    try:
        answer = asyncio.run(_call(_TestCallServices(entry), config, case))
        model = answer["model"]
        result = TestCallResult(
            ok=True,
            outputs=json_safe(answer["result"]),
            model_name=model["model_name"],
            model_version=model["model_version"],
        )
    except NodeError as exc:
        result = TestCallResult(ok=False, error=str(exc))
    except TimeoutError:
        result = TestCallResult(
            ok=False, error=f"no answer within {min(entry.timeout_s, TEST_CALL_MAX_SECONDS):g} s"
        )
    except Exception as exc:  # a bug in a protocol client is shown, not a 500
        logger.exception("test-call of endpoint %s raised", entry.slug)
        result = TestCallResult(ok=False, error=f"internal error: {type(exc).__name__}: {exc}")
    duration_ms = int((time.monotonic() - started) * 1000)
    _audit(AuditAction.CATALOG_TEST_CALLED, entry, user, ok=result.ok, duration_ms=duration_ms)
    return TestCallResult(
        result.ok,
        result.outputs,
        result.model_name,
        result.model_version,
        result.error,
        duration_ms,
    )


# --- who uses an entry ------------------------------------------------------------------------


@dataclass(frozen=True)
class Use:
    workflow: str
    name: str
    version: int
    status: str
    nodes: list[str]


def _names(node: dict[str, Any]) -> set[str]:
    """The catalog slugs a node's config names (model call, map's call, deliver)."""
    config = node.get("config")
    if not isinstance(config, dict):
        return set()
    found = {config.get("endpoint"), config.get("destination")}
    call = config.get("call")
    if isinstance(call, dict):
        found.add(call.get("endpoint"))
    return {name for name in found if isinstance(name, str)}


def used_by(entry: ModelEndpoint) -> list[Use]:
    """The draft and latest published version of every workflow of the entry's department
    whose graph has a node naming the entry, with those nodes' ids."""
    versions = (
        WorkflowVersion.objects.filter(workflow__department=entry.department_id)
        .select_related("workflow")
        .order_by("workflow__slug", "-number")
    )
    uses: list[Use] = []
    seen_published: set[int] = set()
    for version in versions:
        if version.status == VersionStatus.PUBLISHED:
            if version.workflow_id in seen_published:
                continue  # only the latest published version runs new cases
            seen_published.add(version.workflow_id)
        nodes = version.spec.get("nodes") if isinstance(version.spec, dict) else None
        ids = [
            str(n.get("id"))
            for n in (nodes if isinstance(nodes, list) else [])
            if isinstance(n, dict) and entry.slug in _names(n)
        ]
        if ids:
            workflow = version.workflow
            uses.append(Use(workflow.slug, workflow.name, version.number, version.status, ids))
    return uses
