"""The query-parameter filters the integration lists share (inbound messages, integrators'
cases): exact matches, a value from a fixed set, and a date-time range. Every problem is
collected and answered at once as a 400 naming the parameters at fault."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

M = TypeVar("M", bound=Model)

DATE_TIME_PROBLEM = "must be an ISO 8601 date-time, e.g. 2026-03-01T00:00:00Z"


class QueryFilters:
    """``QueryFilters(request.query_params)``, then ``exact``/``one_of``/``between`` on a
    queryset, then ``done`` (raises ValidationError when a parameter was malformed)."""

    def __init__(self, params: Any) -> None:
        self.params = params
        self.problems: dict[str, list[str]] = {}

    def exact(self, rows: QuerySet[M], lookups: Iterable[tuple[str, str]]) -> QuerySet[M]:
        """For each (parameter, lookup) given a value: rows whose lookup equals it."""
        for name, lookup in lookups:
            if self.params.get(name):
                rows = rows.filter(**{lookup: self.params[name]})
        return rows

    def one_of(
        self, rows: QuerySet[M], name: str, lookup: str, allowed: Iterable[str]
    ) -> QuerySet[M]:
        """Rows whose lookup equals the parameter, which must be one of ``allowed``."""
        value = self.params.get(name)
        if not value:
            return rows
        choices = list(allowed)
        if value not in choices:
            self.problems[name] = [f"must be one of {', '.join(choices)}"]
        return rows.filter(**{lookup: value})

    def between(self, rows: QuerySet[M], field: str, after: str, before: str) -> QuerySet[M]:
        """Rows whose ``field`` is at or after the ``after`` parameter and before the
        ``before`` one (ISO 8601 date-times; either may be absent)."""
        for name, lookup in ((after, "gte"), (before, "lt")):
            if self.params.get(name):
                try:
                    moment = parse_datetime(self.params[name])
                except ValueError:  # well formed, not a real moment (2026-13-45T00:00)
                    moment = None
                if moment is None:
                    self.problems[name] = [DATE_TIME_PROBLEM]
                else:
                    rows = rows.filter(**{f"{field}__{lookup}": moment})
        return rows

    def done(self, rows: QuerySet[M]) -> QuerySet[M]:
        if self.problems:
            raise serializers.ValidationError(self.problems)
        return rows
