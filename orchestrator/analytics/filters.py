"""What every analytics figure is filtered by: a date range (whole days in the server's time
zone, ``TIME_ZONE``), an optional case type, and for agreement the time bucket (day or week)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

DEFAULT_DAYS = 30
MAX_DAYS = 366
BUCKETS = ("day", "week")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,64}$")


class FilterError(ValueError):
    """The query parameters are not valid; ``problems`` names each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Filters:
    department_id: int
    date_from: date
    date_to: date  # inclusive
    case_type: str = ""
    bucket: str = "day"

    @property
    def start(self) -> datetime:
        """The first instant of ``date_from`` in the server's time zone."""
        return timezone.make_aware(datetime.combine(self.date_from, time.min))

    @property
    def end(self) -> datetime:
        """The first instant after ``date_to`` (the range is ``start <= t < end``)."""
        return timezone.make_aware(datetime.combine(self.date_to + timedelta(days=1), time.min))

    def days(self) -> Iterator[date]:
        day = self.date_from
        while day <= self.date_to:
            yield day
            day += timedelta(days=1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "date_from": self.date_from,
            "date_to": self.date_to,
            "case_type": self.case_type,
            "bucket": self.bucket,
            "time_zone": timezone.get_current_timezone_name(),
        }


def local_day(moment: datetime) -> date:
    """The calendar day of ``moment`` in the server's time zone."""
    return timezone.localtime(moment).date()


def bucket_of(day: date, bucket: str) -> date:
    """The bucket a day falls in: the day itself, or the Monday of its ISO week."""
    return day - timedelta(days=day.weekday()) if bucket == "week" else day


def parse_filters(department_id: int, params: Mapping[str, str]) -> Filters:
    """``from``/``to`` (YYYY-MM-DD, inclusive; default the last 30 days up to today),
    ``case_type`` (a slug) and ``bucket`` (day or week). Raises ``FilterError``."""
    problems: list[str] = []
    today = timezone.localdate()

    def day(name: str, default: date) -> date:
        raw = (params.get(name) or "").strip()
        if not raw:
            return default
        if not _DATE.match(raw):
            problems.append(f"{name}: must be a date YYYY-MM-DD, not {raw[:20]!r}")
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            problems.append(f"{name}: {raw} is not a calendar date")
            return default

    date_to = day("to", today)
    date_from = day("from", date_to - timedelta(days=DEFAULT_DAYS - 1))
    if date_from > date_to:
        problems.append("from: must not be after to")
    elif (date_to - date_from).days + 1 > MAX_DAYS:
        problems.append(f"to: the range may span at most {MAX_DAYS} days")
    case_type = (params.get("case_type") or "").strip()
    if case_type and not _SLUG.match(case_type):
        problems.append("case_type: must be a case type slug")
    bucket = (params.get("bucket") or "day").strip()
    if bucket not in BUCKETS:
        problems.append(f"bucket: must be one of {', '.join(BUCKETS)}")
    if problems:
        raise FilterError(problems)
    return Filters(department_id, date_from, date_to, case_type, bucket)
