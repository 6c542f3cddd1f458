"""A small dataset with one rule of each kind, shared by the engine, API and renderer tests."""

from __future__ import annotations

import copy
from typing import Any


def _label(en: str, zh: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


def _answers(*codes: tuple[str, str, str]) -> list[dict[str, Any]]:
    return [{"system": "pathflow", "code": c, "label": _label(en, zh)} for c, en, zh in codes]


SCORES = _answers(("1", "Score 1", "1 分"), ("2", "Score 2", "2 分"), ("3", "Score 3", "3 分"))
GRADE_VALUE = (
    "'grade_1' if (tubules|int + nuclei|int + mitoses|int) <= 5 else "
    "('grade_2' if (tubules|int + nuclei|int + mitoses|int) <= 7 else 'grade_3')"
)
MESSAGES = {
    "ln_involved_within_examined": _label(
        "Lymph nodes involved cannot exceed lymph nodes examined",
        "受累淋巴结数不能多于检出淋巴结数",
    ),
    "grade_from_scores": _label(
        "The Nottingham grade follows from its three scores", "Nottingham 分级应由三项评分得出"
    ),
    "nodal_none_alone": _label(
        "'None' cannot be chosen with a nodal procedure", "“无”不能与其他淋巴结手术同时选择"
    ),
    "distance_when_negative": _label(
        "A negative margin needs its distance", "切缘阴性时须填写距切缘距离"
    ),
}
RULES: list[dict[str, Any]] = [
    {
        "id": "ln_involved_within_examined",
        "kind": "constraint",
        "elements": ["ln_involved", "ln_examined"],
        "check": "ln_involved <= ln_examined",
        "message": MESSAGES["ln_involved_within_examined"],
    },
    {
        "id": "grade_from_scores",
        "kind": "derived",
        "element": "grade",
        "elements": ["tubules", "nuclei", "mitoses"],
        "value": GRADE_VALUE,
        "message": MESSAGES["grade_from_scores"],
    },
    {
        "id": "nodal_none_alone",
        "kind": "exclusive",
        "element": "nodal_procedure",
        "answers": ["none"],
        "message": MESSAGES["nodal_none_alone"],
    },
    {
        "id": "distance_when_negative",
        "kind": "requires",
        "when": "margin == 'negative'",
        "elements": ["margin_distance_mm"],
        "message": MESSAGES["distance_when_negative"],
    },
]
DOCUMENT: dict[str, Any] = {
    "schema_version": 1,
    "slug": "ruled",
    "title": _label("Ruled breast report", "规则示例乳腺报告"),
    "sections": [
        {
            "id": "tumour",
            "title": _label("Tumour", "肿瘤"),
            "elements": [
                {"id": "tubules", "type": "single_select", "label": _label("Tubules", "腺管形成"),
                 "required": True, "answers": SCORES},
                {"id": "nuclei", "type": "single_select", "label": _label("Nuclei", "核多形性"),
                 "required": True, "answers": SCORES},
                {"id": "mitoses", "type": "single_select", "label": _label("Mitoses", "核分裂"),
                 "required": True, "answers": SCORES},
                {"id": "grade", "type": "single_select", "label": _label("Grade", "组织学分级"),
                 "required": True,
                 "answers": _answers(("grade_1", "Grade 1", "1 级"), ("grade_2", "Grade 2", "2 级"),
                                     ("grade_3", "Grade 3", "3 级"))},
                {"id": "margin", "type": "single_select", "label": _label("Margin", "切缘"),
                 "required": True,
                 "answers": _answers(("negative", "Negative", "阴性"),
                                     ("positive", "Positive", "阳性"))},
                {"id": "margin_distance_mm", "type": "number",
                 "label": _label("Distance to margin", "距切缘距离"), "unit": "mm", "min": 0,
                 "precision": 1},
            ],
        },
        {
            "id": "nodes",
            "title": _label("Lymph nodes", "淋巴结"),
            "elements": [
                {"id": "nodal_procedure", "type": "multi_select",
                 "label": _label("Nodal procedure", "淋巴结手术"), "required": True,
                 "answers": _answers(("sentinel", "Sentinel node biopsy", "前哨淋巴结活检"),
                                     ("dissection", "Axillary dissection", "腋窝淋巴结清扫"),
                                     ("none", "None", "无"))},
                {"id": "ln_examined", "type": "number", "label": _label("Examined", "检出数"),
                 "required": True, "min": 0},
                {"id": "ln_involved", "type": "number", "label": _label("Involved", "受累数"),
                 "required": True, "min": 0},
            ],
        },
    ],
    "rules": RULES,
}  # fmt: skip
SAMPLE: dict[str, Any] = {
    "tubules": "3",
    "nuclei": "2",
    "mitoses": "2",
    "grade": "grade_2",
    "margin": "negative",
    "margin_distance_mm": 3.5,
    "nodal_procedure": ["sentinel"],
    "ln_examined": 3,
    "ln_involved": 1,
}
# Breaks every rule at once: 4 involved of 2 examined, grade 3 for scores adding to 7, "none"
# with a sentinel biopsy, a negative margin without its distance.
VIOLATING: dict[str, Any] = {
    **{k: v for k, v in SAMPLE.items() if k != "margin_distance_mm"},
    "grade": "grade_3",
    "nodal_procedure": ["sentinel", "none"],
    "ln_examined": 2,
    "ln_involved": 4,
}


def ruled_document() -> dict[str, Any]:
    return copy.deepcopy(DOCUMENT)


def ruled_sample() -> dict[str, Any]:
    return copy.deepcopy(SAMPLE)


AI_ELEMENTS: list[dict[str, Any]] = [
    {"id": "ki67_ai", "type": "number", "label": _label("Ki-67 index (AI)", "Ki-67 指数（AI）"),
     "unit": "%", "min": 0, "max": 100, "precision": 1, "source": "model",
     "measures": {"marker": "Ki-67", "stain": "IHC", "unit": "%"}},
    {"id": "her2_ai", "type": "single_select",
     "label": _label("HER2 score (AI)", "HER2 评分（AI）"),
     "source": "model_confirmed", "measures": {"marker": "HER2", "stain": "IHC"},
     "answers": _answers(("ihc_0", "0", "0"), ("ihc_1plus", "1+", "1+"),
                         ("ihc_2plus", "2+", "2+"), ("ihc_3plus", "3+", "3+"))},
    {"id": "pdl1_ai", "type": "number", "label": _label("PD-L1 TPS (AI)", "PD-L1 TPS（AI）"),
     "unit": "%", "min": 0, "max": 100, "precision": 1, "source": "model",
     "visible_if": "margin == 'positive'",
     "measures": {"marker": "PD-L1", "stain": "IHC", "unit": "%"}},
]  # fmt: skip
MODEL = {
    "kind": "model",
    "endpoint": "ihc-dab",
    "model_name": "ihc-dab",
    "model_version": "3.1",
    "run": "42",
}


def ai_document() -> dict[str, Any]:
    """The ruled dataset with model-sourced elements in the tumour section, where a careless
    layout would interleave them with the pathologist's determinations."""
    document = ruled_document()
    document["sections"][0]["elements"][5:5] = copy.deepcopy(AI_ELEMENTS)
    return document


def ruled_case_document(accession: str) -> dict[str, Any]:
    """A case for the ruled template (as a LIS would send it): the lab's answers as findings
    and one specimen with a stained tile for the AI scores."""
    return {
        "accession": accession,
        "case_type": "breast-resection",
        "patient": {"name": "王五", "mrn": "MRN-RULED", "sex": "F", "birth_date": "1968-03-01"},
        "clinical_info": "Left breast mass",
        "ordering_physician": "Dr Zhao",
        "findings": ruled_sample(),
        "specimens": [
            {
                "label": "A",
                "site": "Left breast",
                "procedure": "Lumpectomy",
                "tiles": [{"uri": "sample:immunohistochemistry", "stain": "Ki-67 (DAB)"}],
            }
        ],
    }
