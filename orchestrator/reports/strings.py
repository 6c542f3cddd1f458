"""Fixed wording of the shared letterhead, in Chinese and English."""

from __future__ import annotations

from typing import Any

REPORT_STRINGS: dict[str, dict[str, Any]] = {
    "zh": {
        "patient": "姓名", "mrn": "病历号", "sex": "性别", "birth_date": "出生日期",
        "accession": "病理号", "clinician": "送检医生", "specimens": "标本",
        "clinical_info": "临床信息", "provenance": "AI 结果来源", "prov_endpoint": "模型端点",
        "prov_model": "模型", "prov_version": "版本", "prov_run": "运行编号",
        "ai_note": "标注的数值由 AI 模型生成，须经病理医师复核后签发。",
        "signed_by": "签发医师", "signed_at": "签发时间",
        "not_signed": "未签发：AI 草稿，待病理医师复核",
        "generated": "生成时间", "watermark": "初步报告 未签发",
        "page_before": "第 ", "page_middle": " 页 / 共 ", "page_after": " 页",
        "sex_labels": {"F": "女", "M": "男", "O": "其他", "U": "未知"},
        "status": {"draft": "草稿", "preliminary": "初步报告", "final": "正式报告",
                   "amended": "修订报告", "corrected": "更正报告", "addendum": "补充报告"},
    },
    "en": {
        "patient": "Patient", "mrn": "MRN", "sex": "Sex", "birth_date": "Date of birth",
        "accession": "Accession", "clinician": "Requesting clinician", "specimens": "Specimens",
        "clinical_info": "Clinical information", "provenance": "Sources of AI values",
        "prov_endpoint": "Endpoint", "prov_model": "Model", "prov_version": "Version",
        "prov_run": "Run",
        "ai_note": "Marked values were produced by AI models and must be reviewed by a "
                   "pathologist before sign-out.",
        "signed_by": "Signed by", "signed_at": "Signed at",
        "not_signed": "Not signed: AI draft awaiting pathologist review",
        "generated": "Generated", "watermark": "PRELIMINARY · NOT SIGNED",
        "page_before": "Page ", "page_middle": " of ", "page_after": "",
        "sex_labels": {"F": "Female", "M": "Male", "O": "Other", "U": "Unknown"},
        "status": {"draft": "Draft", "preliminary": "Preliminary", "final": "Final",
                   "amended": "Amended", "corrected": "Corrected", "addendum": "Addendum"},
    },
}
