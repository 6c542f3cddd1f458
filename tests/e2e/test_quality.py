"""Release safety in a real browser, against the live server, a real Celery worker and the
reference MLServer: from the workflow editor an admin opens the workflow's quality page, starts a
shadow run over the last four signed FNA cases, watches it finish, and sees which cases and
elements differ from what was signed, side by side — in English and in Chinese."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from orchestrator import devstack
from orchestrator.accounts.models import User
from orchestrator.demo_data import DemoData
from tests.conftest import PASSWORD, ModelServices
from tests.e2e.conftest import browser_page, sign_in
from tests.orchestrator.quality.history import fna_case, model_probability, seeded_signed

pytestmark = pytest.mark.django_db(transaction=True)

SLUG = "breast-fna-cytology"
TEXT = {
    "en": {
        "link": "Golden cases & shadow runs",
        "agreement": "2 of 4 cases agree on every element (50%)",
        "differing": "Cases that differ",
        "recommendation": "Recommended next step",
        "core_biopsy": "core_biopsy",
    },
    "zh": {
        "link": "金标准病例与影子运行",
        "agreement": "2 / 4 例所有项目一致（50%）",
        "differing": "不一致的病例",
        "recommendation": "处理建议",
        "core_biopsy": "core_biopsy",
    },
}


@pytest.mark.parametrize(("locale", "lang"), [("en-US", "en"), ("zh-CN", "zh")])
def test_a_shadow_runs_differences_are_visible_in_the_studio(
    demo: DemoData,
    model_services: ModelServices,
    live_server: LiveServer,
    celery_worker: devstack.ManagedProcess,
    locale: str,
    lang: str,
) -> None:
    pathologist = User.objects.get(username="pathologist")
    version = demo.fna_workflow_version
    probabilities = {}
    for i, name in enumerate(
        ["breast-fna-malignant", "breast-fna-benign", "breast-fna-malignant", "breast-fna-benign"]
    ):
        case = fna_case(demo, name, f"E2E-Q{i}")
        probability = model_probability(model_services.url, case)
        signed = {**case.findings, "fna_malignancy_probability": probability}
        if i == 0:  # the pathologist recommended a core biopsy instead
            signed["recommendation"] = "core_biopsy"
        if i == 1:  # and read the AI estimate 5 points higher
            signed["fna_malignancy_probability"] = round(probability + 5, 1)
        probabilities[case.accession] = (signed["fna_malignancy_probability"], probability)
        seeded_signed(case, version, signed, pathologist)
    text = TEXT[lang]

    with browser_page(locale) as page:
        sign_in(page, live_server.url, "admin", PASSWORD, f"/app/studio/workflows/{SLUG}")
        page.get_by_test_id("quality-link").click()
        expect(page).to_have_url(f"{live_server.url}/app/studio/workflows/{SLUG}/quality")
        expect(page.get_by_test_id("quality-link")).to_have_count(0)
        page.get_by_test_id("source-recent").check()
        page.get_by_test_id("shadow-limit").fill("4")
        page.get_by_test_id("shadow-start").click()

        expect(page).to_have_url(re.compile(rf"/app/studio/workflows/{SLUG}/quality/runs/\d+$"))
        result = page.get_by_test_id("shadow-result")
        expect(result).to_have_attribute("data-status", "finished", timeout=90_000)
        expect(page.get_by_test_id("agreement")).to_have_text(text["agreement"])
        expect(result.get_by_role("heading", name=text["differing"])).to_be_visible()
        rows = page.get_by_test_id("difference")
        expect(rows).to_have_count(2)
        recommendation = page.locator('[data-testid=difference][data-element="recommendation"]')
        expect(recommendation).to_contain_text("E2E-Q0")
        expect(recommendation).to_contain_text(text["recommendation"])
        expect(recommendation.locator(".expected")).to_have_text(text["core_biopsy"])
        expect(recommendation.locator(".got")).to_have_text("histology_before_treatment")
        estimate = page.locator(
            '[data-testid=difference][data-element="fna_malignancy_probability"]'
        )
        expect(estimate).to_contain_text("E2E-Q1")
        signed, model = probabilities["E2E-Q1"]
        expect(estimate.locator(".expected")).to_have_text(f"{signed:g}")
        expect(estimate.locator(".got")).to_have_text(f"{model:g}")
        # The run is listed, and its page is a real URL that opens again.
        page.reload()
        expect(page.get_by_test_id("agreement")).to_have_text(text["agreement"])
