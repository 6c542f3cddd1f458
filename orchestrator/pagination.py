"""The API's one pagination: limit/offset pages whose parameters are checked and documented."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

MAX_LIMIT = 500
# Large enough for any list, small enough for every database's OFFSET.
MAX_OFFSET = 2**31 - 1


def _strict_int(request: Request, name: str, low: int, high: int) -> int | None:
    values = request.query_params.getlist(name)
    if not values:
        return None
    text = values[-1]
    if len(values) > 1 or not text.isascii() or not text.isdigit() or len(text) > 12:
        raise ValidationError({name: [f"must be one whole number from {low} to {high}"]})
    value = int(text)
    if not low <= value <= high:
        raise ValidationError({name: [f"must be one whole number from {low} to {high}"]})
    return value


class Pagination(LimitOffsetPagination):
    """Limit/offset pages whose parameters are checked: a limit outside 1–500 or an offset
    that is not a whole number (or is beyond what a database can skip) is a 400 naming it,
    never a silently ignored value or a database overflow."""

    max_limit = MAX_LIMIT

    def get_limit(self, request: Request) -> int | None:
        limit = _strict_int(request, self.limit_query_param, 1, MAX_LIMIT)
        return self.default_limit if limit is None else limit

    def get_offset(self, request: Request) -> int:
        return _strict_int(request, self.offset_query_param, 0, MAX_OFFSET) or 0

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: (1, MAX_LIMIT),
            self.offset_query_param: (0, MAX_OFFSET),
        }
        for parameter in parameters:
            low, high = bounds[parameter["name"]]
            parameter["schema"] = {"type": "integer", "minimum": low, "maximum": high}
        return parameters
