"""The CSV renderer: a header row and the rows as text; a cell a spreadsheet would run as a
formula is quoted; an error answer is one ``detail`` column listing each problem."""

from __future__ import annotations

import csv
import io

from orchestrator.analytics.csv_export import CsvRenderer


def read(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode())))


def test_a_table_with_a_header_and_formula_cells_quoted() -> None:
    table = {
        "columns": ["destination", "failed", "rate"],
        "rows": [['=HYPERLINK("x")', 2, -0.5], ["@lis", None, 1.0], ["lis,a", 0, "+1"]],
    }
    assert read(CsvRenderer().render(table)) == [
        ["destination", "failed", "rate"],
        ['\'=HYPERLINK("x")', "2", "-0.5"],
        ["'@lis", "", "1.0"],
        ["lis,a", "0", "+1"],
    ]


def test_an_error_answer_lists_each_problem() -> None:
    answer = {"detail": "a; b", "problems": ["from: bad", "to: bad"]}
    assert read(CsvRenderer().render(answer)) == [["detail"], ["from: bad"], ["to: bad"]]
    assert read(CsvRenderer().render({"detail": "denied"})) == [["detail"], ["denied"]]
