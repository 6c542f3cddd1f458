"""Analytics tables as CSV: the columns are the row serializer's fields, in order."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.renderers import BaseRenderer


def csv_table(
    serializer: type[serializers.Serializer[Any]], rows: list[dict[str, Any]]
) -> dict[str, Any]:
    columns = list(serializer().fields)
    data = serializer(rows, many=True).data
    return {"columns": columns, "rows": [[row[c] for c in columns] for row in data]}


def _cell(value: Any) -> Any:
    """A cell as text; one that a spreadsheet would run as a formula is quoted with '."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class CsvRenderer(BaseRenderer):
    """``?format=csv``: a table (``{"columns", "rows"}``) as RFC 4180 CSV with a header row;
    an error answer as one ``detail`` column."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        if isinstance(data, dict) and "columns" in data and "rows" in data:
            writer.writerow(data["columns"])
            writer.writerows([_cell(v) for v in row] for row in data["rows"])
        else:
            problems = data.get("problems") if isinstance(data, dict) else None
            detail = data.get("detail", "") if isinstance(data, dict) else data
            writer.writerow(["detail"])
            writer.writerows([[_cell(p)] for p in problems or [detail]])
        return out.getvalue().encode(self.charset)
