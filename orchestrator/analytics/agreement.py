"""How often pathologists kept the AI's value at sign-out, per model endpoint + model version +
element, over time and per workflow version (docs/analytics.md defines every term).

For each case signed in the range (its ``final`` version whose signature was not recalled, from
a run that is not a test run) and each element the AI proposed a value for:

- the **AI value** is the run's first AI draft's value; a field a person changed at review is
  read back from its first ``FieldOverride`` (``old_value``), and so is the model source
  (``old_provenance``), because the draft's provenance for that field then names the person;
- the element counts for every **model source** of that value (``{"kind": "model"}`` in the
  provenance: endpoint, model name, model version), once per signed case;
- it is **accepted** when the signed value equals the AI value (JSON equality: 87.5 == 87.5,
  "G2" == "G2"), **cleared** when the signed value is empty (absent, null, "" or []), and
  **edited** otherwise.

An element whose AI value was empty is not counted (the AI proposed nothing). An override
stored before ``old_provenance`` was kept cannot be attributed to a model and is not counted.

Four queries whatever the number of cases: the signed versions, their runs' AI drafts, the
overrides, and nothing per case.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from orchestrator.analytics.filters import Filters, bucket_of, local_day
from orchestrator.analytics.timeline import ai_drafts
from orchestrator.reports.models import FieldOverride, Report, ReportStatus

OUTCOMES = ("accepted", "edited", "cleared")


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def outcome(ai_value: Any, signed_value: Any) -> str:
    """``accepted``, ``edited`` or ``cleared``: what became of a non-empty AI value."""
    if is_empty(signed_value):
        return "cleared"
    return "accepted" if signed_value == ai_value else "edited"


@dataclass(frozen=True)
class Proposal:
    """One element the AI proposed for one signed case, with its fate."""

    day: date
    case_type: str
    workflow: str
    workflow_version: int
    endpoint: str
    model_name: str
    model_version: str
    element: str
    outcome: str


def _signed(filters: Filters) -> list[dict[str, Any]]:
    found = Report.objects.filter(
        case__department_id=filters.department_id,
        status=ReportStatus.FINAL,
        signature__recalled_at__isnull=True,
        signature__signed_at__gte=filters.start,
        signature__signed_at__lt=filters.end,
        run__isnull=False,
        run__is_test=False,
    ).exclude(case__source="sample")
    if filters.case_type:
        found = found.filter(case__case_type=filters.case_type)
    return [
        dict(row)
        for row in found.values(
            "run_id",
            "data",
            "signature__signed_at",
            "case__case_type",
            "run__workflow_version__workflow__slug",
            "run__workflow_version__number",
        )
    ]


def _model_sources(sources: Any) -> list[dict[str, Any]]:
    return [
        s
        for s in sources or []
        if isinstance(s, dict) and s.get("kind") == "model" and s.get("endpoint")
    ]


def proposals(filters: Filters) -> Iterator[Proposal]:
    """Every (signed case, element, model source) the AI proposed a value for."""
    signed = _signed(filters)
    runs = {row["run_id"] for row in signed}
    drafts: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    for run_id, data, provenance in (
        ai_drafts()
        .filter(run_id__in=runs)
        .order_by("-version_no")
        .values_list("run_id", "data", "provenance")
    ):
        drafts[run_id] = (data, provenance)  # the last one written is the lowest version
    first_change: dict[int, dict[str, tuple[Any, Any]]] = defaultdict(dict)
    for run_id, element, old_value, old_provenance in (
        FieldOverride.objects.filter(report__run_id__in=runs)
        .order_by("at", "id")
        .values_list("report__run_id", "element", "old_value", "old_provenance")
    ):
        first_change[run_id].setdefault(element, (old_value, old_provenance))
    for row in signed:
        draft = drafts.get(row["run_id"])
        if draft is None:
            continue
        data, provenance = draft
        changed = first_change.get(row["run_id"], {})
        for element in sorted(set(provenance) | set(changed)):
            if element in changed:
                ai_value, sources = changed[element]
            else:
                ai_value, sources = data.get(element), provenance.get(element)
            if is_empty(ai_value):
                continue
            fate = outcome(ai_value, row["data"].get(element))
            for source in _model_sources(sources):
                yield Proposal(
                    day=local_day(row["signature__signed_at"]),
                    case_type=row["case__case_type"],
                    workflow=row["run__workflow_version__workflow__slug"],
                    workflow_version=row["run__workflow_version__number"],
                    endpoint=str(source["endpoint"]),
                    model_name=str(source.get("model_name", "")),
                    model_version=str(source.get("model_version", "")),
                    element=element,
                    outcome=fate,
                )


def _rows(
    counts: dict[tuple[Any, ...], dict[str, int]], keys: tuple[str, ...]
) -> list[dict[str, Any]]:
    rows = []
    for key in sorted(counts):
        found = counts[key]
        total = sum(found[o] for o in OUTCOMES)
        rows.append(
            dict(zip(keys, key, strict=True))
            | {o: found[o] for o in OUTCOMES}
            | {"total": total, "acceptance_rate": round(found["accepted"] / total, 4)}
        )
    return rows


def agreement(filters: Filters) -> dict[str, list[dict[str, Any]]]:
    """Counts of accepted, edited and cleared AI values with the acceptance rate (accepted /
    total): per model endpoint + model + version + element (``by_model``), the same per day or
    week of sign-out (``over_time``), and per workflow version (``by_workflow``)."""
    model_keys = ("endpoint", "model_name", "model_version", "element")
    by_model: dict[tuple[Any, ...], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(OUTCOMES, 0)
    )
    over_time: dict[tuple[Any, ...], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(OUTCOMES, 0)
    )
    by_workflow: dict[tuple[Any, ...], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(OUTCOMES, 0)
    )
    for p in proposals(filters):
        model = (p.endpoint, p.model_name, p.model_version, p.element)
        by_model[model][p.outcome] += 1
        over_time[(bucket_of(p.day, filters.bucket), *model)][p.outcome] += 1
        by_workflow[(p.workflow, p.workflow_version, p.element)][p.outcome] += 1
    return {
        "by_model": _rows(by_model, model_keys),
        "over_time": _rows(over_time, ("bucket", *model_keys)),
        "by_workflow": _rows(by_workflow, ("workflow", "workflow_version", "element")),
    }
