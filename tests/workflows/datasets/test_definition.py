"""Dataset definitions: parsing, and every problem of a definition listed at once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.workflows.datasets.support import (
    HUGE,
    PRECISION,
    breast_dataset_document,
    label,
    small_dataset,
    yes_no_answers,
)
from workflows.datasets import (
    Dataset,
    DatasetInvalid,
    definition_problems,
    parse_dataset,
)
from workflows.expressions import TOO_DEEP


def test_the_breast_dataset_parses(breast: Dataset) -> None:
    assert breast.slug == "breast-carcinoma"
    assert breast.title["en"] == "Invasive breast carcinoma — synoptic report"
    assert [s.id for s in breast.sections][:3] == ["specimen", "tumour", "extent"]
    size = breast.element("tumour_size_mm")
    assert size is not None
    assert (size.type, size.unit, size.minimum, size.maximum) == ("number", "mm", 0, 300)


def test_it_rejects_a_dataset_definition_listing_every_problem() -> None:
    document = {
        "slug": "broken",
        "title": {"zh": "坏", "en": "Broken"},
        "sections": [
            {
                "id": "one",
                "title": {"zh": "一", "en": "One"},
                "elements": [
                    {"id": "a", "type": "slider", "label": {"zh": "甲", "en": "A"}},
                    {"id": "b", "type": "single_select", "label": {"zh": "乙", "en": "B"}},
                    {"id": "c", "type": "text", "label": {"en": "C"}},
                    {"id": "a", "type": "text", "label": {"zh": "甲", "en": "A"}},
                    {"id": "d", "type": "text", "label": {"zh": "丁", "en": "D"},
                     "visible_if": "a =="},
                ],
            }
        ],
    }  # fmt: skip

    with pytest.raises(DatasetInvalid) as raised:
        parse_dataset(document)

    problems = raised.value.problems
    assert len(problems) == 5
    assert problems[0].startswith("section 'one' element 'a': type 'slider' is not one of ")
    assert "section 'one' element 'b': a select element needs answers" in problems
    assert "section 'one' element 'c': needs a label in zh and en (missing: zh)" in problems
    assert "section 'one': element id 'a' is empty or repeated" in problems
    assert any(
        p.startswith("section 'one' element 'd': visible_if 'a ==' does not compile")
        for p in problems
    )


def test_it_rejects_a_dataset_without_a_title_in_both_languages() -> None:
    document = breast_dataset_document()
    document["title"] = {"en": "Breast"}

    with pytest.raises(DatasetInvalid) as raised:
        parse_dataset(document)

    assert raised.value.problems == ["title: needs a label in zh and en (missing: zh)"]


def test_it_lists_every_problem_of_numbers_answers_help_and_conditions() -> None:
    document = small_dataset(
        {"id": "size", "type": "number", "label": label("Size"), "min": 10, "max": 5,
         "precision": -1},
        {"id": "site", "type": "single_select", "label": label("Site"),
         "answers": yes_no_answers("left", "left"), "help": {"en": "only English"}},
        {"id": "later", "type": "text", "label": label("Later"),
         "visible_if": "after == 'x' and ghost > 1"},
        {"id": "after", "type": "text", "label": label("After"), "visible_if": "after"},
        {"id": "9lives", "type": "text", "label": label("Nine"), "min": 1},
        {"id": "flag", "type": "boolean", "label": label("Flag"), "required": "yes",
         "when_hidden": "not_applicable"},
    )  # fmt: skip

    with pytest.raises(DatasetInvalid) as raised:
        parse_dataset(document)

    where = "section 'main' element"
    assert sorted(raised.value.problems) == sorted(
        [
            f"{where} 'size': min 10 is greater than max 5",
            f"{where} 'size': precision (decimal places) must be 0 or more and at most 10, not -1",
            f"{where} 'site': answer code 'left' is listed twice",
            f"{where} 'site': needs help text in zh and en (missing: zh)",
            f"{where} 'later': visible_if \"after == 'x' and ghost > 1\" reads 'after', which "
            "comes after it; a condition may only read elements above it (this also rules out "
            "cycles)",
            f"{where} 'later': visible_if \"after == 'x' and ghost > 1\" names 'ghost', which is "
            "not an element of this dataset",
            f"{where} 'after': visible_if 'after' reads the element itself",
            f"{where} '9lives': min only apply to number elements",
            f"{where} '9lives': an element id must be letters, digits and underscores, not "
            "starting with a digit, so that conditions can name it",
            f"{where} 'flag': required must be true or false, not 'yes'",
            f"{where} 'flag': when_hidden only applies to an element with visible_if",
        ]
    )


def test_it_refuses_a_dataset_schema_version_it_does_not_read() -> None:
    document = breast_dataset_document()
    document["schema_version"] = 2

    assert definition_problems(document) == [
        "schema_version 2 is not supported; this Pathflow reads dataset schema_version 1"
    ]


def test_the_breast_definition_has_no_problems() -> None:
    assert definition_problems(breast_dataset_document()) == []


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ({"precision": 150_000_000}, f"{PRECISION} 150000000"),
        ({"precision": 2**31}, f"{PRECISION} 2147483648"),
        ({"precision": 11}, f"{PRECISION} 11"),
        ({"min": HUGE}, "min must be a number, not 10000000000000000000…(401 characters)"),
        ({"max": -HUGE}, "max must be a number, not -1000000000000000000…(402 characters)"),
    ],
)
def test_number_bounds_and_precision_out_of_range_are_definition_problems(
    field: dict[str, Any], reason: str
) -> None:
    document = small_dataset({"id": "size", "type": "number", "label": label("Size"), **field})

    assert definition_problems(document) == [f"section 'main' element 'size': {reason}"]


def test_a_condition_nested_too_deeply_is_a_definition_problem() -> None:
    condition = "(" * 3000 + "a" + ")" * 3000
    document = small_dataset(
        {"id": "a", "type": "boolean", "label": label("A")},
        {"id": "b", "type": "boolean", "label": label("B"), "visible_if": condition},
    )

    (problem,) = definition_problems(document)
    assert problem.startswith("section 'main' element 'b': visible_if")
    assert problem.endswith("does not compile: " + TOO_DEEP)


@pytest.mark.parametrize("code", [1, 1.5, True, None, ""])
def test_an_answer_code_must_be_text(code: Any) -> None:
    answers = [{"code": code, "label": label("One")}, {"code": "2", "label": label("Two")}]
    document = small_dataset(
        {"id": "grade", "type": "single_select", "label": label("Grade"), "answers": answers}
    )

    (problem,) = definition_problems(document)
    assert problem.startswith(f"section 'main' element 'grade' answers[0]: code {code!r} must be")
