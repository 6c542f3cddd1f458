"""The routing table: which department an order is for and which workflow it starts.

A message is for the department whose code is MSH-6 (receiving facility, first component,
case-insensitive), or for ``PATHFLOW_MLLP_DEFAULT_DEPARTMENT`` when MSH-6 is empty. Within the
department the active rules are tried in order of priority, then specificity (order code and
specimen type, then one of them, then neither), against each specimen of the order in message
order; the first match routes the whole order, to its workflow's latest published version.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.conf import settings

from orchestrator.accounts.models import Department
from orchestrator.designs.models import VersionStatus, Workflow, WorkflowVersion
from orchestrator.integrations.hl7.message import (
    APPLICATION_INTERNAL_ERROR,
    TABLE_VALUE_NOT_FOUND,
    UNKNOWN_KEY_IDENTIFIER,
    Problem,
)
from orchestrator.integrations.hl7.orders import SpecimenOrder
from orchestrator.integrations.inbound_models import RoutingRule


class NoRoute(ValueError):
    """The order cannot be routed; ``problem`` says where and why, for the ACK."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.text)
        self.problem = problem


@dataclass(frozen=True)
class Route:
    rule: RoutingRule
    workflow: Workflow


@dataclass
class RoutingTable:
    """The departments, active rules and workflows with a published version, read in three
    queries. The listener reuses one for ``MLLP_ROUTING_CACHE_S`` seconds (an edit reaches it
    within that time); everyone else reads a fresh one."""

    departments: dict[str, Department]
    rules: dict[int, list[RoutingRule]]
    published: set[int]
    read_at: float = field(default_factory=time.monotonic)

    @classmethod
    def read(cls) -> RoutingTable:
        departments = {d.code.lower(): d for d in Department.objects.all()}
        rules: dict[int, list[RoutingRule]] = {}
        active = RoutingRule.objects.filter(active=True).select_related("workflow", "department")
        for rule in sorted(active, key=lambda r: (r.priority, _specificity(r), r.pk)):
            rules.setdefault(rule.department_id, []).append(rule)
        published = set(
            WorkflowVersion.objects.filter(status=VersionStatus.PUBLISHED).values_list(
                "workflow_id", flat=True
            )
        )
        return cls(departments, rules, published)

    def department_for(self, receiving_facility: str) -> Department:
        code = receiving_facility.strip() or settings.MLLP_DEFAULT_DEPARTMENT
        department = self.departments.get(code.strip().lower()) if code else None
        if department is None:
            text = (
                f"receiving facility {receiving_facility!r} names no department here"
                if receiving_facility.strip()
                else "MSH-6 receiving facility is empty and no default department is set"
            )
            raise NoRoute(Problem("MSH", 1, 6, UNKNOWN_KEY_IDENTIFIER, text))
        return department

    def route(self, department: Department, specimens: list[SpecimenOrder]) -> Route:
        """The rule and workflow for an order's specimens, or :class:`NoRoute`."""
        rules = self.rules.get(department.pk, [])
        for index, specimen in enumerate(specimens, start=1):
            for rule in rules:
                if rule.matches(specimen.order_code, specimen.specimen_type):
                    return self._published(rule, index)
        first = specimens[0] if specimens else None
        raise NoRoute(
            Problem(
                "OBR",
                1,
                4,
                TABLE_VALUE_NOT_FOUND,
                f"no routing rule of department {department.code} for order code "
                f"{first.order_code if first else ''!r} and specimen type "
                f"{first.specimen_type if first else ''!r}",
                component=1,
            )
        )

    def _published(self, rule: RoutingRule, sequence: int) -> Route:
        if rule.workflow_id not in self.published:
            raise NoRoute(
                Problem(
                    "OBR",
                    sequence,
                    4,
                    APPLICATION_INTERNAL_ERROR,
                    f"the routed workflow {rule.workflow.slug} has no published version",
                    component=1,
                )
            )
        return Route(rule, rule.workflow)


def _specificity(rule: RoutingRule) -> int:
    return -(bool(rule.order_code) + bool(rule.specimen_type))


_cached: RoutingTable | None = None


def cached_table() -> RoutingTable:
    """The routing table, read again when older than ``MLLP_ROUTING_CACHE_S``."""
    global _cached
    ttl = settings.MLLP_ROUTING_CACHE_S
    if _cached is None or ttl <= 0 or time.monotonic() - _cached.read_at > ttl:
        _cached = RoutingTable.read()
    return _cached
