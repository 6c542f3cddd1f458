"""The template designer and the endpoint catalog in a real browser, in English and Chinese: an
admin of an empty department clones a library template, adds an element with a condition built
in the builder, drags it into place, arranges the layout in two columns with a page break, sees
the PDF preview redrawn, publishes; then registers the breast-fna endpoint and test-calls it
against a real MLServer. The English run takes the user guide's screenshots; they replace those
in docs/img/ only when asked (`PATHFLOW_GUIDE_SCREENSHOTS=1`), so a test run leaves the
checkout as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from orchestrator.accounts.models import Role
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.designs.models import ReportTemplate, VersionStatus
from tests.conftest import PASSWORD, REPO, ModelServices, case_document
from tests.e2e.conftest import browser_page, sign_in
from tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
GUIDE_IMAGES = REPO / "docs" / "img"

# The few UI words the test reads, per language (the rest is found by test ids and names).
UI: dict[str, dict[str, str]] = {
    "en": {
        "locale": "en-US",
        "clone": "Create draft",
        "add_element": "Add element",
        "add_condition": "Add condition",
        "layout": "Layout",
        "dataset": "Sections and elements",
        "history": "History",
        "save": "Save draft",
        "saved": "Draft saved",
        "publish": "Publish",
        "published": "Published as v1",
        "register": "Register an endpoint",
        "create": "Register",
        "call": "Call the endpoint",
        "patient": "Sample Patient",
        "label": "Perineural invasion",
        "page_break": "Add a page break",
        "answered": "Answered in",
        "not_signed": "Not signed",
        "add_output": "Add output",
    },
    "zh": {
        "locale": "zh-CN",
        "clone": "创建草稿",
        "add_element": "添加项目",
        "add_condition": "添加条件",
        "layout": "版式",
        "dataset": "章节与项目",
        "history": "历史版本",
        "save": "保存草稿",
        "saved": "草稿已保存",
        "publish": "发布",
        "published": "已发布为 v1",
        "register": "登记端点",
        "create": "登记",
        "call": "调用端点",
        "patient": "示例患者",
        "label": "神经周围侵犯",
        "page_break": "添加分页",
        "answered": "毫秒应答",
        "not_signed": "未签发",
        "add_output": "添加输出",
    },
}


def drag(page: Page, item: Locator, target: Locator) -> None:
    """Drag ``item`` by its handle with the mouse as a person would (dnd-kit starts a drag after
    a few pixels), bringing its middle onto the target."""
    handle = item.locator(".drag-handle").first
    # Both ends on screen (the mouse cannot drag to where the page is scrolled away) and out of
    # the top and bottom fifths, where dnd-kit scrolls the page while a drag hovers.
    target.evaluate("e => { e.scrollIntoView({block: 'start'}); window.scrollBy(0, -300); }")
    grip, box = handle.bounding_box(), item.bounding_box()
    assert grip is not None
    assert box is not None
    x, y = grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2
    offset = (box["y"] + box["height"] / 2) - y  # from the pointer to the item's middle
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 6, y + 6)
    end = target.bounding_box()
    assert end is not None
    # A quarter below the target's middle: the items the drag passes shift down by one, so
    # exactly the middle is as close to the item above as to the target.
    to_y = end["y"] + end["height"] * 0.75 - offset
    page.mouse.move(end["x"] + end["width"] / 2, to_y, steps=15)
    page.mouse.move(end["x"] + end["width"] / 2, to_y + 1, steps=2)
    page.mouse.up()


def preview_drawn(page: Page) -> int:
    return int(page.get_by_test_id("preview-text").get_attribute("data-drawn") or 0)


def wait_for_new_preview(page: Page, after: int) -> None:
    page.wait_for_function(
        "n => Number(document.querySelector('[data-testid=preview-text]').dataset.drawn) > n",
        arg=after,
        timeout=30_000,
    )


def fna_request() -> dict[str, Any]:
    return {
        "inputs": [
            {
                "name": "features",
                "datatype": "FP64",
                "shape": [1, 30],
                "value": "case.specimens[0].data.fna_features",
            }
        ],
        "outputs": ["predict_proba"],
    }


def design_template(
    page: Page, base: str, slug: str, ui: dict[str, str], shots: Path | None
) -> None:
    page.goto(f"{base}/app/studio/templates")
    library = page.locator("[data-testid=library-template][data-slug=breast-carcinoma]")
    library.get_by_role("button").first.click()
    library.locator("input[name=slug]").fill(slug)
    library.get_by_role("button", name=ui["clone"]).click()
    expect(page).to_have_url(f"{base}/app/studio/templates/{slug}")

    # The preview of the clone is drawn by pdf.js from the server's PDF.
    expect(page.get_by_test_id("preview-text")).to_contain_text(ui["patient"], timeout=30_000)

    # A new element at the end of the tumour section, labelled in both languages.
    tumour = page.locator("li.section-item[data-name=tumour]")
    tumour.get_by_role("button", name=ui["add_element"]).click()
    editor = page.locator(".element-editor")
    drawn = preview_drawn(page)
    editor.locator("input[name=label_en]").fill("Perineural invasion")
    editor.locator("input[name=label_zh]").fill("神经周围侵犯")
    editor.locator("input[name=id]").fill("perineural_invasion")
    wait_for_new_preview(page, drawn)
    expect(page.get_by_test_id("preview-text")).to_contain_text(ui["label"])

    # Its condition, built in the builder: shown only for an invasive carcinoma NST.
    editor.get_by_role("button", name=ui["add_condition"]).click()
    clause = editor.get_by_test_id("condition-clause")
    clause.locator("select").nth(0).select_option("histologic_type")
    clause.locator("select").nth(1).select_option("eq")
    clause.locator("select").nth(2).select_option("invasive_nst")
    expect(editor.locator("input[name=visible_if]")).to_have_value(
        "histologic_type == 'invasive_nst'"
    )

    # Drag it up to just below the element its condition reads (a condition may read only
    # elements above it: dragged to the very top, the preview would list that problem).
    new = tumour.locator("li.element-item[data-name=perineural_invasion]")
    second = tumour.locator("li.element-item").nth(1)
    drawn = preview_drawn(page)
    drag(page, new, second)
    expect(tumour.locator("li.element-item").nth(1)).to_have_attribute(
        "data-name", "perineural_invasion"
    )
    wait_for_new_preview(page, drawn)
    expect(page.locator(".preview-pane [role=alert]")).to_have_count(0)
    if shots:
        page.screenshot(path=str(shots / "designer-dataset.png"))

    # The layout: specimens beside the patient block, a page break before the signatures.
    page.get_by_role("tab", name=ui["layout"]).click()
    patient_row = page.locator("li.layout-row").filter(has=page.locator("[data-block=patient]"))
    patient_row.locator("select").select_option("2")
    specimens = page.locator("[data-block=specimens]")
    right = patient_row.locator("ol.layout-column").nth(1)
    drawn = preview_drawn(page)
    drag(page, specimens, right)
    expect(right.locator("[data-block=specimens]")).to_have_count(1)
    wait_for_new_preview(page, drawn)
    canvases = page.get_by_test_id("preview-pages").locator("canvas")
    pages = canvases.count()
    drawn = preview_drawn(page)
    page.get_by_role("button", name=ui["page_break"]).click()
    wait_for_new_preview(page, drawn)
    # The signatures, after the break, start a page of their own.
    expect(canvases).to_have_count(pages + 1)
    last_page = page.get_by_test_id("preview-text").inner_text().split("\n")[-1]
    assert ui["not_signed"] in last_page
    if shots:
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(shots / "designer-layout.png"))

    page.get_by_role("button", name=ui["save"]).click()
    expect(page.get_by_text(ui["saved"])).to_be_visible()
    page.get_by_role("button", name=ui["publish"], exact=True).click()
    expect(page.get_by_text(ui["published"])).to_be_visible()


def register_and_test_call(
    page: Page, base: str, url: str, ui: dict[str, str], shots: Path | None
) -> None:
    page.goto(f"{base}/app/studio/catalog")
    page.get_by_role("button", name=ui["register"]).click()
    form = page.locator("form.entry-form")
    form.locator("input[name=slug]").fill("breast-fna")
    form.locator("input[name=name]").fill("Breast FNA classifier")
    form.locator("select[name=protocol]").select_option("open_inference_v2")
    form.locator("input[name=base_url]").fill(url)
    form.locator("input[name=model_name]").fill("breast-fna")
    form.get_by_role("button", name=ui["add_output"]).click()
    output = form.get_by_test_id("output-row")
    for index, text in enumerate(["predict_proba", "FNA malignancy", "Papanicolaou", "1"]):
        output.locator("input").nth(index).fill(text)
    form.get_by_role("button", name=ui["create"], exact=True).click()
    expect(page.locator("[data-testid=catalog-entry][data-slug=breast-fna]")).to_be_visible()
    expect(page.get_by_test_id("entry-outputs")).to_contain_text(
        "predict_proba: FNA malignancy · Papanicolaou · 1"
    )

    panel = page.locator("section.test-call")
    panel.locator("textarea[name=request]").fill(json.dumps(fna_request(), indent=2))
    panel.locator("textarea[name=case]").fill(json.dumps(case_document("breast-fna-malignant")))
    panel.get_by_role("button", name=ui["call"]).click()
    result = page.get_by_test_id("test-call-result")
    expect(result).to_contain_text("predict_proba", timeout=30_000)
    expect(result).to_contain_text(ui["answered"])
    if shots:
        page.screenshot(path=str(shots / "catalog-test-call.png"))

    # A delivery destination, and how many attempts a delivery to it gets before it fails.
    page.get_by_role("button", name=ui["register"]).click()
    form = page.locator("form.entry-form")
    expect(form.locator("input[name=max_attempts]")).to_have_count(0)  # a model protocol
    form.locator("input[name=slug]").fill("lis")
    form.locator("input[name=name]").fill("LIS results")
    form.locator("select[name=protocol]").select_option("hl7_mllp")
    form.locator("input[name=base_url]").fill("10.1.2.3:2575")
    form.locator("input[name=max_attempts]").fill("5")
    form.get_by_role("button", name=ui["create"], exact=True).click()
    expect(page.locator("[data-testid=catalog-entry][data-slug=lis]")).to_be_visible()
    expect(page.get_by_test_id("entry-max-attempts")).to_have_text("5")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_an_admin_designs_a_template_and_registers_an_endpoint_in_the_browser(
    language: str, live_server: LiveServer, model_services: ModelServices, tmp_path: Path
) -> None:
    ui = UI[language]
    department = DepartmentFactory.create(code=f"new-{language}", name="New pathology")
    UserFactory.create(username=f"admin-{language}", department=department, role=Role.ADMIN)
    slug = f"breast-ours-{language}"
    shots = None
    if language == "en":
        shots = GUIDE_IMAGES if os.environ.get("PATHFLOW_GUIDE_SCREENSHOTS") else tmp_path
        shots.mkdir(parents=True, exist_ok=True)

    with browser_page(ui["locale"]) as page:
        page.set_viewport_size({"width": 1680, "height": 1050})
        page.add_init_script(f"localStorage.setItem('pathflow.lang', '{language}')")
        sign_in(page, live_server.url, f"admin-{language}", PASSWORD)
        design_template(page, live_server.url, slug, ui, shots)
        register_and_test_call(page, live_server.url, model_services.url, ui, shots)

    version = ReportTemplate.objects.get(department=department, slug=slug).versions.get()
    assert version.status == VersionStatus.PUBLISHED
    tumour = next(s for s in version.dataset["sections"] if s["id"] == "tumour")
    added = tumour["elements"][1]
    assert added["id"] == "perineural_invasion"
    assert added["visible_if"] == "histologic_type == 'invasive_nst'"
    assert added["label"] == {"zh": "神经周围侵犯", "en": "Perineural invasion"}
    assert version.layout_spec is not None
    rows = version.layout_spec["rows"]
    patient_row = next(r for r in rows if "columns" in r and {"type": "patient"} in r["columns"][0])
    assert patient_row["columns"][1] == [{"type": "specimens"}]
    assert {"page_break": True} in rows
    endpoint = ModelEndpoint.objects.get(department=department, slug="breast-fna")
    assert endpoint.enabled
    assert endpoint.outputs == {
        "predict_proba": {"marker": "FNA malignancy", "stain": "Papanicolaou", "unit": "1"}
    }
    lis = ModelEndpoint.objects.get(department=department, slug="lis")
    assert (lis.protocol, lis.max_attempts) == ("hl7_mllp", 5)
