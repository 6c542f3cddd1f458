"""The dashboard's API: aggregate figures of the caller's department.

    GET analytics/case-types     the case types with cases (the dashboard's filter)
    GET analytics/turnaround     durations between milestones, per case type and per day
    GET analytics/throughput     cases received, drafted, signed and delivered per day
    GET analytics/queue          the review queue's length at the end of each day
    GET analytics/agreement      accepted / edited / cleared AI values per model and element
    GET analytics/failures       failed runs and failed deliveries per day

Every figure takes ``from``/``to`` (YYYY-MM-DD, inclusive) and ``case_type``; agreement also
``bucket`` (day or week). ``?format=csv&table=<name>`` answers one table of the figure as CSV.

Admins and pathologists of the department may read them (``Permission.ANALYTICS_READ``);
clinicians, integration clients and the model team may not (403, audited). Only the caller's
department is counted; no answer carries a patient identifier or an accession. Every read is
audited (``analytics.viewed``, a CSV download ``analytics.exported``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestrator.accounts.models import User
from orchestrator.accounts.policy import Permission, PolicyPermission
from orchestrator.analytics import serializers as s
from orchestrator.analytics.agreement import agreement
from orchestrator.analytics.csv_export import CsvRenderer, csv_table
from orchestrator.analytics.filters import BUCKETS, FilterError, Filters, parse_filters
from orchestrator.analytics.timeline import (
    case_types,
    failures,
    queue_length,
    throughput,
    turnaround,
)
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event

RANGE_PARAMETERS = [
    OpenApiParameter(
        "from", OpenApiTypes.DATE, description="first day (default: 29 days before to)"
    ),
    OpenApiParameter("to", OpenApiTypes.DATE, description="last day, inclusive (default: today)"),
    OpenApiParameter("case_type", str, description="only cases of this case type"),
]


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # PolicyPermission admits signed-in users with a department
    assert user.department is not None
    return user


class FigureView(APIView):
    """One figure: its tables computed for the request's filters, as JSON or one table as CSV."""

    permission_classes = [PolicyPermission]
    policy = Permission.ANALYTICS_READ
    renderer_classes = [JSONRenderer, CsvRenderer]
    figure: ClassVar[str]
    tables: ClassVar[dict[str, type[serializers.Serializer[Any]]]]

    def answer(self, request: Request) -> Response:
        user = _user(request)
        try:
            filters = parse_filters(user.department_id or 0, request.query_params)
        except FilterError as exc:
            return Response({"detail": str(exc), "problems": exc.problems}, status=400)
        wants_csv = getattr(request.accepted_renderer, "format", "") == "csv"
        table = request.query_params.get("table", "")
        if wants_csv and table not in self.tables:
            problem = f"table: must be one of {', '.join(self.tables)}"
            return Response({"detail": problem, "problems": [problem]}, status=400)
        computed = self.compute(filters)
        assert user.department is not None
        record_event(
            AuditAction.ANALYTICS_EXPORTED if wants_csv else AuditAction.ANALYTICS_VIEWED,
            user.department,
            actor=user,
            department=user.department,
            figure=self.figure,
            table=table if wants_csv else "",
            date_from=filters.date_from.isoformat(),
            date_to=filters.date_to.isoformat(),
            case_type=filters.case_type,
        )
        if wants_csv:
            serializer = self.tables[table]
            name = f"{self.figure}-{table}-{filters.date_from}-{filters.date_to}.csv"
            return Response(
                csv_table(serializer, computed[table]),
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        answer = {"filters": filters.as_dict()} | {
            name: serializer(computed[name], many=True).data
            for name, serializer in self.tables.items()
        }
        return Response(answer)

    def compute(self, filters: Filters) -> dict[str, list[dict[str, Any]]]:
        raise NotImplementedError


def _schema(
    operation: str, response: type[serializers.Serializer[Any]], tables: list[str], extra: Any = ()
) -> Callable[[Any], Any]:
    return extend_schema(
        operation_id=operation,
        parameters=[
            *RANGE_PARAMETERS,
            *extra,
            OpenApiParameter("format", str, enum=["json", "csv"], description="csv: one table"),
            OpenApiParameter("table", str, enum=tables, description="the table ?format=csv gives"),
        ],
        responses={(200, "application/json"): response, (200, "text/csv"): OpenApiTypes.STR},
    )


class TurnaroundView(FigureView):
    figure = "turnaround"
    tables = {"by_case_type": s.SegmentSummarySerializer, "by_day": s.TurnaroundDaySerializer}

    def compute(self, filters: Filters) -> dict[str, list[dict[str, Any]]]:
        return turnaround(filters)

    @_schema("analytics_turnaround", s.TurnaroundSerializer, list(tables))
    def get(self, request: Request) -> Response:
        """Minutes between received, draft ready, signed and delivered, for cases signed in
        the range: per case type and segment, and per day of sign-out."""
        return self.answer(request)


class ThroughputView(FigureView):
    figure = "throughput"
    tables = {"by_day": s.ThroughputDaySerializer}

    def compute(self, filters: Filters) -> dict[str, list[dict[str, Any]]]:
        return throughput(filters)

    @_schema("analytics_throughput", s.ThroughputSerializer, list(tables))
    def get(self, request: Request) -> Response:
        """Per day and case type: cases received, AI drafts ready, signed and delivered."""
        return self.answer(request)


class QueueView(FigureView):
    figure = "queue"
    tables = {"by_day": s.QueueDaySerializer}

    def compute(self, filters: Filters) -> dict[str, list[dict[str, Any]]]:
        return queue_length(filters)

    @_schema("analytics_queue", s.QueueSerializer, list(tables))
    def get(self, request: Request) -> Response:
        """The review queue (AI draft ready, not yet signed) at the end of each day."""
        return self.answer(request)


class AgreementView(FigureView):
    figure = "agreement"
    tables = {
        "by_model": s.AgreementModelSerializer,
        "over_time": s.AgreementBucketSerializer,
        "by_workflow": s.AgreementWorkflowSerializer,
    }

    def compute(self, filters: Filters) -> dict[str, list[dict[str, Any]]]:
        return agreement(filters)

    @_schema(
        "analytics_agreement",
        s.AgreementSerializer,
        list(tables),
        [OpenApiParameter("bucket", str, enum=list(BUCKETS), description="over_time per")],
    )
    def get(self, request: Request) -> Response:
        """How often the AI's values were accepted, edited or cleared at sign-out."""
        return self.answer(request)


class FailuresView(FigureView):
    figure = "failures"
    tables = {"runs": s.FailedRunsSerializer, "deliveries": s.FailedDeliveriesSerializer}

    def compute(self, filters: Filters) -> dict[str, list[dict[str, Any]]]:
        return failures(filters)

    @_schema("analytics_failures", s.FailuresSerializer, list(tables))
    def get(self, request: Request) -> Response:
        """Finished and failed runs, queued and failed or stopped deliveries, per day."""
        return self.answer(request)


class CaseTypesView(APIView):
    permission_classes = [PolicyPermission]
    policy = Permission.ANALYTICS_READ

    @extend_schema(operation_id="analytics_case_types", responses=s.CaseTypesSerializer)
    def get(self, request: Request) -> Response:
        """The case types your department has cases of."""
        user = _user(request)
        return Response({"case_types": case_types(user.department_id or 0)})
