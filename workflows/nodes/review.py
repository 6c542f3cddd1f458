"""Park the run until a person reviews it: a decision (e.g. approve / reject) and the report
fields the person completes.

The node never finishes by itself: ``run`` raises ``AwaitingPerson`` with the review request,
the executor records the node as ``waiting`` and the run ends ``waiting_review``. The host
checks a person's decision with ``decision_problems`` and stores ``decision_outputs`` as the
node's succeeded outputs; the resumed run then continues from here. The decision ``approve``
activates the ``approved`` port, any other decision the ``rejected`` port; both carry the
decision record (decision, comment, reviewer, time) together with the person's ``values`` and
their ``provenance`` (kind ``person``), so they can feed a render node directly. ``decision``
(the same record) and ``findings`` (values and provenance only) are always active.
"""

from __future__ import annotations

from typing import Any

from workflows.context import RunContext
from workflows.datasets import OVERRIDES
from workflows.errors import AwaitingPerson
from workflows.ports import PortType
from workflows.registry import NodeType, Port, register

DEFAULT_DECISIONS = ("approve", "reject")
APPROVE = "approve"
_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}


def review_request(config: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """What the person is asked, as stored with the waiting node: the node's config with its
    defaults, plus the values already proposed upstream for the fields to complete."""
    fields = list(config.get("fields", []))
    proposed: dict[str, Any] = {}
    for value in inputs.get("in", []):
        if isinstance(value, dict) and isinstance(value.get("values"), dict):
            proposed.update({k: v for k, v in value["values"].items() if k in fields})
    return {
        "kind": "review",
        "title": config["title"],
        "instructions": config.get("instructions", ""),
        "fields": fields,
        "decisions": list(config.get("decisions") or DEFAULT_DECISIONS),
        "proposed": proposed,
    }


def decision_problems(request: dict[str, Any], decision: Any) -> list[str]:
    """Every way ``decision`` (``{"decision": str, "values": {field: value}, "comment": str}``)
    does not answer ``request``; empty when it does."""
    if not isinstance(decision, dict):
        return ["the decision must be an object with 'decision' and optional 'values'"]
    problems: list[str] = []
    allowed = request.get("decisions", list(DEFAULT_DECISIONS))
    choice = decision.get("decision")
    if choice not in allowed:
        problems.append(f"'decision' must be one of {', '.join(allowed)} (got {choice!r})")
    values = decision.get("values", {})
    if not isinstance(values, dict):
        problems.append("'values' must be an object of report element id → value")
    else:
        fields = request.get("fields", [])
        problems.extend(
            f"values: element '{key}' is not one this review asks for "
            f"({', '.join(fields) or 'none'})"
            for key in values
            if key not in fields and key != OVERRIDES
        )
        # A reviewer may keep their value of a derived field with a reason (``_overrides``),
        # for the fields this review asks for.
        overrides = values.get(OVERRIDES, {})
        if not isinstance(overrides, dict):
            problems.append(f'values: {OVERRIDES} must map element ids to {{"reason": text}}')
        else:
            problems.extend(
                f"values: {OVERRIDES}: element '{key}' is not one this review asks for"
                for key in overrides
                if key not in fields
            )
    if not isinstance(decision.get("comment", ""), str):
        problems.append("'comment' must be text")
    unknown = set(decision) - {"decision", "values", "comment"}
    if unknown:
        problems.append(f"unknown keys {', '.join(sorted(unknown))}")
    return problems


def decision_outputs(
    decision: dict[str, Any], reviewer: dict[str, Any], decided_at: str
) -> dict[str, Any]:
    """The review node's outputs once a person decided; ``decision`` was checked first."""
    values = dict(decision.get("values") or {})
    source = {
        "kind": "person",
        "user": reviewer.get("id"),
        # The name prints in the report ("AI, verified by <name>") as it was when decided.
        "name": reviewer.get("name") or reviewer.get("username", ""),
        "at": decided_at,
    }
    provenance = {key: [source] for key in values if key != OVERRIDES}
    findings = {"values": values, "provenance": provenance}
    # The decision port carries the person's findings too, so that e.g. a render node fed from
    # `approved` runs only on approval and shows who filled what.
    record = {
        "decision": decision["decision"],
        "comment": decision.get("comment", ""),
        "reviewer": reviewer,
        "decided_at": decided_at,
        **findings,
    }
    port = "approved" if decision["decision"] == APPROVE else "rejected"
    return {port: record, "decision": record, "findings": findings}


@register
class Review(NodeType):
    name = "review"
    title = "Review by a person"
    description = (
        "Parks the run until a person decides (e.g. approve or reject) and completes the listed "
        "report fields; continues on `approved` for the decision `approve`, else on `rejected`."
    )
    config_schema = {
        "type": "object",
        "required": ["title"],
        "properties": {
            "title": {"type": "string", "minLength": 1},
            "instructions": {"type": "string"},
            "fields": {
                "type": "array",
                "items": {**_NAME, "description": "report element id"},
                "uniqueItems": True,
            },
            "decisions": {
                "type": "array",
                "items": _NAME,
                "minItems": 1,
                "uniqueItems": True,
                "default": list(DEFAULT_DECISIONS),
            },
        },
        "additionalProperties": False,
    }
    inputs = (Port("in", PortType.ANY, required=True, multiple=True, title="After"),)
    outputs = (
        Port("approved", PortType.FINDINGS, title="Approved (decision and fields)"),
        Port("rejected", PortType.FINDINGS, title="Rejected (decision and fields)"),
        Port("decision", PortType.JSON, title="Decision, values, reviewer"),
        Port("findings", PortType.FINDINGS, title="Fields the person completed"),
    )

    def output_ports(self, config: dict[str, Any]) -> tuple[Port, ...]:
        """``approved`` only when ``approve`` is one of the decisions and ``rejected`` only when
        another one is: an edge from a port no decision can activate is a validation problem,
        not a branch that silently never runs."""
        decisions = list(config.get("decisions") or DEFAULT_DECISIONS)
        present = {
            "approved": APPROVE in decisions,
            "rejected": any(d != APPROVE for d in decisions),
        }
        return tuple(p for p in self.outputs if present.get(p.name, True))

    def fills(self, config: dict[str, Any]) -> frozenset[str]:
        return frozenset(config.get("fields", []))

    def guarded(self, config: dict[str, Any]) -> frozenset[str]:
        """A person fills the fields, seeing which apply."""
        return self.fills(config)

    async def run(
        self, context: RunContext, inputs: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        raise AwaitingPerson(review_request(config, inputs))
