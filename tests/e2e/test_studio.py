"""The workflow editor in a real browser, against the real server, a real Celery worker and the
reference MLServer: an admin builds the breast resection + AI Ki-67 application by dragging
nodes from the palette and connecting their ports, fixes the problem the canvas shows,
test-runs it on a sample case, publishes it and finds it in the history — in English and in
Chinese; and a colleague's stale save is refused with the conflict named."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.db import connection
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from pytest_django.live_server_helper import LiveServer

from orchestrator import devstack
from orchestrator.accounts.models import Role, User
from orchestrator.cases.services import create_case
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import DemoData
from orchestrator.runs.models import NodeRun, Run, RunStatus
from orchestrator.runs.services import execute_run, start_run
from tests.conftest import PASSWORD, case_document, pdf_text
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, CspViolation, csp_violations, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

GUIDE_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"

ROOT = Path(__file__).resolve().parents[2]
DEMO_SLUG = "breast-resection-ki67"
DEMO_NAME = "Breast resection + AI Ki-67"
DEMO_GRAPH = json.loads((ROOT / "demo" / "workflows" / f"{DEMO_SLUG}.json").read_text())["graph"]


T = TypeVar("T")


def in_thread(work: Callable[[], T]) -> T:
    """Run ORM work beside Playwright's event loop (Django refuses it in an async context)."""

    def run() -> T:
        try:
            return work()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def config_of(graph: dict[str, Any], node_id: str) -> dict[str, Any]:
    config: dict[str, Any] = next(n for n in graph["nodes"] if n["id"] == node_id)["config"]
    return config


# What the admin types: the demo workflow's settings (the Ki-67 model over the slide's tiles,
# the index from its results, the pathologist's findings), with a condition for the switch.
IHC_CONFIG = config_of(DEMO_GRAPH, "ihc")
KI67_CONFIG = config_of(DEMO_GRAPH, "ki67")
FIELDS_CONFIG = config_of(DEMO_GRAPH, "fields")
EXPRESSION = "case.specimens[0].tiles | length > 0"
NODES = ["case", "triage", "ihc", "ki67", "fields", "merge", "report"]

TEXT = {
    "en": {
        "published": "Published version 1",
        "conflict": "changed this draft",
        "refused": "Not connected",
        "note": "First version: FNA triage and Ki-67",
    },
    "zh": {
        "published": "已发布版本 1",
        "conflict": "修改了此草稿",
        "refused": "未连接",
        "note": "第一版：细针穿刺分诊与 Ki-67",
    },
}


def node(page: Page, node_id: str) -> Locator:
    return page.locator(f".react-flow__node[data-id='{node_id}']")


def card(page: Page, node_id: str) -> Locator:
    """The node as the editor draws it (status and problem count as data attributes)."""
    return node(page, node_id).get_by_test_id("canvas-node")


def handle(page: Page, node_id: str, port: str, kind: str) -> Locator:
    return node(page, node_id).locator(f".react-flow__handle.{kind}[data-handleid='{port}']")


def drag_from_palette(page: Page, node_type: str, x: int, y: int) -> None:
    page.drag_and_drop(
        f"[data-testid=palette-item][data-type={node_type}]",
        "[data-testid=canvas] .react-flow__pane",
        target_position={"x": x, "y": y},
    )


def connect(page: Page, source: str, source_port: str, target: str, target_port: str) -> None:
    start = handle(page, source, source_port, "source").bounding_box()
    end = handle(page, target, target_port, "target").bounding_box()
    assert start, f"port {source}.{source_port} is not on screen"
    assert end, f"port {target}.{target_port} is not on screen"
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    page.mouse.up()


def click_node(page: Page, node_id: str) -> None:
    page.get_by_test_id("fit-view").click()
    page.wait_for_timeout(300)  # the fit-view animation
    node(page, node_id).locator(".pf-node-title").click()


def select(page: Page, node_id: str) -> None:
    page.get_by_test_id("tab-inspector").click()
    click_node(page, node_id)
    expect(page.get_by_test_id("inspector")).to_have_attribute("data-node-id", node_id)


def rename(page: Page, old: str, new: str) -> None:
    select(page, old)
    field = page.get_by_test_id("inspector-id")
    field.fill(new)
    field.press("Enter")
    expect(node(page, new)).to_be_visible()


def set_config(page: Page, node_id: str, config: dict[str, Any]) -> None:
    select(page, node_id)
    editor = page.get_by_test_id("config-json")
    editor.locator("xpath=..").locator("summary").click()
    editor.fill(json.dumps(config))
    page.get_by_test_id("config-json-apply").click()


def save(page: Page) -> None:
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("save-state")).not_to_have_text(re.compile("…"))


def build_the_application(page: Page, lang: str) -> None:
    """Drag six nodes from the palette, lay them out, name them and connect their ports."""
    box = page.get_by_test_id("canvas").bounding_box()
    assert box is not None
    for index, node_type in enumerate(
        ["condition", "map", "transform", "transform", "join", "render_report"]
    ):
        drag_from_palette(page, node_type, 80 + index * 60, 60 + index * 60)
    expect(page.locator(".react-flow__node")).to_have_count(7)
    auto_layout(page)
    for old, new in [
        ("condition", "triage"),
        ("map", "ihc"),
        ("transform", "ki67"),
        ("transform_2", "fields"),
        ("join", "merge"),
        ("render_report", "report"),
    ]:
        rename(page, old, new)

    # A case cannot go where report fields are expected: the canvas refuses and says why.
    connect(page, "case", "case", "report", "findings")
    expect(page.get_by_test_id("connection-refused")).to_contain_text(TEXT[lang]["refused"])
    expect(page.locator(".react-flow__edge")).to_have_count(0)

    for edge in [
        ("case", "case", "triage", "in"),
        ("triage", "true", "ihc", "in"),
        ("ihc", "results", "ki67", "in"),
        ("case", "case", "fields", "in"),
        ("fields", "findings", "merge", "in"),
        ("ki67", "findings", "merge", "in"),
        ("merge", "findings", "report", "findings"),
    ]:
        connect(page, *edge)
    expect(page.locator(".react-flow__edge")).to_have_count(7)
    auto_layout(page)


def pin_and_rerun(page: Page, node_id: str) -> None:
    """Pin ``node_id``'s outputs in the bench and test-run again; the node is recorded pinned,
    run no attempt of its own, and the run succeeds."""
    click_node(page, node_id)
    page.get_by_test_id("tab-bench").click()
    bench_node = page.get_by_test_id("bench-node")
    expect(bench_node).to_have_attribute("data-node-id", node_id)
    bench_node.get_by_test_id("pin-toggle").click()
    expect(bench_node.get_by_test_id("bench-pin")).to_have_attribute("data-pinned", "true")
    expect(card(page, node_id)).to_have_attribute("data-pinned", "true")
    expect(page.get_by_test_id("bench-pins")).to_contain_text(node_id)
    before = page.get_by_test_id("bench-run").get_attribute("data-run-id")
    page.get_by_test_id("test-run").click()
    expect(page.get_by_test_id("bench-run")).not_to_have_attribute("data-run-id", before or "")
    expect(page.get_by_test_id("bench-run")).to_have_attribute(
        "data-status", "succeeded", timeout=120_000
    )
    run_id = page.get_by_test_id("bench-run").get_attribute("data-run-id")
    for other in NODES:
        expect(card(page, other)).to_have_attribute("data-status", "succeeded")
    bar = page.locator(f"[data-testid=timeline-row][data-node-id={node_id}] [data-kind=attempt]")
    expect(bar).to_have_attribute("data-pinned", "true")
    expect(page.get_by_test_id("bench-was-pinned")).to_be_visible()
    run = page.request.get(f"{page.url.split('/app/')[0]}/api/v1/runs/{run_id}/").json()
    attempts = [a for a in run["node_runs"] if a["node_id"] == node_id]
    assert [(a["attempt"], a["pinned"], a["duration_ms"]) for a in attempts] == [(1, True, 0)]
    assert all(not a["pinned"] for a in run["node_runs"] if a["node_id"] != node_id)


def auto_layout(page: Page) -> None:
    # The draft saves itself after edits, and its problems then grow the nodes that have
    # some: lay out once they are drawn, so that no node ends up under another.
    expect(page.get_by_test_id("save-state")).to_have_attribute("data-state", "saved")
    page.wait_for_timeout(300)  # the canvas measures the grown nodes a frame or two later
    done = int(page.get_by_test_id("editor").get_attribute("data-layouts") or 0)
    page.get_by_test_id("auto-layout").click()
    expect(page.get_by_test_id("editor")).to_have_attribute("data-layouts", str(done + 1))
    page.wait_for_timeout(300)


def open_editor(page: Page, base_url: str, slug: str) -> None:
    page.goto(f"{base_url}/app/studio/workflows/{slug}")
    expect(page.get_by_test_id("editor")).to_be_visible()


# Content-Security-Policy refusals on any page of the test's browser (new_page collects them).
CSP_REFUSALS: list[str] = []


@pytest.fixture
def browser() -> Any:
    CSP_REFUSALS.clear()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
            if CSP_REFUSALS:
                raise CspViolation("\n".join(CSP_REFUSALS))
        finally:
            chromium.close()


def new_page(browser: Browser, lang: str) -> Page:
    context = browser.new_context(
        locale="zh-CN" if lang == "zh" else "en-US", viewport={"width": 1600, "height": 1000}
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    csp_violations(page, CSP_REFUSALS)
    return page


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_admin_builds_tests_and_publishes_a_workflow_in_the_editor(
    demo: DemoData,
    live_server: LiveServer,
    celery_worker: devstack.ManagedProcess,
    browser: Browser,
    lang: str,
    tmp_path: Path,
) -> None:
    page = new_page(browser, lang)
    # The user guide's screenshots (docs/img), replaced only when asked for.
    shots = (
        GUIDE_IMAGES if lang == "en" and os.environ.get("PATHFLOW_GUIDE_SCREENSHOTS") else tmp_path
    )
    sign_in(page, live_server.url, "admin", PASSWORD)
    # An admin starts in the studio.
    expect(page).to_have_url(f"{live_server.url}/app/studio/workflows")

    page.get_by_test_id("create-name").fill("Breast resection studio")
    page.get_by_test_id("create-case-type").fill("breast-resection")
    page.get_by_test_id("create-template").select_option("breast-carcinoma")
    page.get_by_test_id("create-workflow").locator("button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/app/studio/workflows/breast-resection-studio")
    expect(node(page, "case")).to_be_visible()

    build_the_application(page, lang)
    set_config(page, "ihc", IHC_CONFIG)
    set_config(page, "ki67", KI67_CONFIG)
    set_config(page, "merge", {"mode": "merge"})
    set_config(page, "report", {"language": lang})

    # Saved without the transform's fields: the report elements it should fill are listed,
    # each leading to the render node; the condition without its expression is marked.
    save(page)
    page.get_by_test_id("tab-problems").click()
    unfilled = page.get_by_test_id("unfilled-element")
    expect(unfilled.first).to_be_visible()
    unfilled.first.click()
    expect(page.get_by_test_id("inspector")).to_have_attribute("data-node-id", "report")
    expect(card(page, "triage")).not_to_have_attribute("data-problems", "0")
    expect(node(page, "triage").get_by_test_id("node-problems")).to_contain_text("expression")
    page.screenshot(path=str(shots / "studio-problems.png"))

    # Fixed: the expression typed in the form, the transform's fields as JSON.
    select(page, "triage")
    page.locator("#root_expression").fill(EXPRESSION)
    set_config(page, "fields", FIELDS_CONFIG)
    save(page)
    for node_id in NODES:
        expect(card(page, node_id)).to_have_attribute("data-problems", "0")
    page.get_by_test_id("tab-problems").click()
    expect(page.get_by_test_id("unfilled-none")).to_be_visible()
    expect(page.get_by_test_id("problems-none")).to_be_visible()

    # Test run on the resection sample case (a Ki-67 slide scanned): every node succeeds, live
    # on the canvas.
    page.get_by_test_id("tab-bench").click()
    page.get_by_test_id("bench-sample").select_option("breast-resection")
    page.get_by_test_id("test-run").click()
    expect(page.get_by_test_id("bench-run")).to_have_attribute(
        "data-status", "succeeded", timeout=120_000
    )
    for node_id in NODES:
        expect(card(page, node_id)).to_have_attribute("data-status", "succeeded")
    click_node(page, "ihc")
    expect(page.get_by_test_id("bench-node")).to_have_attribute("data-node-id", "ihc")
    expect(page.get_by_test_id("bench-outputs").first).to_contain_text("positive_fraction")
    # One node again, alone, with the inputs it had (pinned) and its upstream nodes' outputs.
    click_node(page, "triage")
    page.get_by_test_id("bench-node").locator("details.pinned > summary").click()
    page.get_by_test_id("run-one").click()
    expect(page.get_by_test_id("run-one-result")).to_contain_text('"true"')
    pdf_url = page.get_by_test_id("bench-pdf").get_attribute("href")
    response = page.request.get(f"{live_server.url}{pdf_url}")
    assert response.status == 200
    (tmp_path / "report.pdf").write_bytes(response.body())
    text = pdf_text(tmp_path / "report.pdf")
    assert "TEST-" in text
    assert "Ki-67" in text

    # The timeline: a row per node, the map's tiles as bars of their own.
    timeline = page.get_by_test_id("timeline")
    expect(timeline.get_by_test_id("timeline-row")).to_have_count(len(NODES))
    expect(timeline.locator("[data-testid=timeline-bar][data-kind=item]").first).to_be_visible()
    expect(timeline.get_by_test_id("timeline-summary")).to_be_visible()

    # Pin the model's outputs and run again: the map is not called, its pin goes downstream.
    pin_and_rerun(page, "ihc")

    # An edit after the run: the node and everything downstream of it are stale.
    ki67 = config_of(DEMO_GRAPH, "ki67")
    formula = ki67["mapping"]["ki67_index"].replace("round(1)", "round(2)")
    set_config(page, "ki67", {"mapping": {"ki67_index": formula}})
    for node_id in ["ki67", "merge", "report"]:
        expect(card(page, node_id)).to_have_attribute("data-stale", "true")
    for node_id in ["case", "triage", "ihc", "fields"]:
        expect(card(page, node_id)).to_have_attribute("data-stale", "false")
    expect(page.get_by_test_id("save-state")).to_have_attribute("data-state", "saved")
    page.get_by_test_id("tab-bench").click()
    page.screenshot(path=str(shots / "studio-test-bench.png"))

    # Publish with a note; version 1 is in the history with it.
    page.get_by_test_id("publish").click()
    page.get_by_test_id("publish-note").fill(TEXT[lang]["note"])
    page.get_by_test_id("publish-confirm").click()
    expect(page.get_by_test_id("published")).to_contain_text(TEXT[lang]["published"])
    page.get_by_test_id("tab-history").click()
    version = page.locator("[data-testid=version][data-number='1']")
    expect(version).to_have_attribute("data-status", "published")
    expect(version.get_by_test_id("version-note")).to_have_text(TEXT[lang]["note"])

    published = page.request.get(
        f"{live_server.url}/api/v1/workflows/breast-resection-studio/versions/1"
    ).json()
    assert published["status"] == "published"
    assert [n["id"] for n in published["graph"]["nodes"]] == NODES


@pytest.fixture
def colleague(demo: DemoData) -> User:
    """A second admin of the demo department (created before any browser opens)."""
    return User.objects.create_user(
        "colleague",
        password=PASSWORD,
        department=demo.department,
        role=Role.ADMIN,
        display_name="Dr Chen",
    )


def test_a_stale_draft_save_from_a_second_browser_gets_the_conflict(
    colleague: User, live_server: LiveServer, browser: Browser
) -> None:
    mine, theirs = new_page(browser, "en"), new_page(browser, "en")
    sign_in(mine, live_server.url, "admin", PASSWORD)
    sign_in(theirs, live_server.url, "colleague", PASSWORD)
    expect(mine.get_by_test_id("nav-studio-workflows")).to_be_visible()
    expect(theirs.get_by_test_id("nav-studio-workflows")).to_be_visible()
    for page in (mine, theirs):
        open_editor(page, live_server.url, DEMO_SLUG)

    select(theirs, "ki67")
    theirs.get_by_test_id("inspector-title").fill("Ki-67 index (theirs)")
    save(theirs)
    expect(theirs.get_by_test_id("save-state")).to_have_text("Saved")

    select(mine, "ki67")
    mine.get_by_test_id("inspector-title").fill("Ki-67 index (mine)")
    # No click: the draft saves itself shortly after the edit, and that save is refused.
    conflict = mine.get_by_test_id("save-conflict")
    expect(conflict).to_contain_text("Dr Chen changed this draft")
    expect(mine.get_by_test_id("save-state")).to_have_attribute("data-state", "conflict")
    # Mine stays available as graph JSON, to copy before taking theirs.
    conflict.locator("details > summary").click()
    mine_json = json.loads(conflict.get_by_test_id("conflict-mine").input_value())
    assert next(n for n in mine_json["nodes"] if n["id"] == "ki67")["title"] == (
        "Ki-67 index (mine)"
    )
    # Saving again by hand is refused the same way: nothing is overwritten.
    mine.get_by_test_id("save").click()
    expect(mine.get_by_test_id("save-state")).to_have_attribute("data-state", "conflict")
    saved = mine.request.get(f"{live_server.url}/api/v1/workflows/{DEMO_SLUG}").json()
    ki67 = next(n for n in saved["draft"]["graph"]["nodes"] if n["id"] == "ki67")
    assert ki67["title"] == "Ki-67 index (theirs)"

    # Loading their version shows their change; saving then works.
    conflict.get_by_role("button", name="Load their version").click()
    expect(node(mine, "ki67")).to_contain_text("Ki-67 index (theirs)")
    save(mine)
    expect(mine.get_by_test_id("save-conflict")).to_have_count(0)


def test_a_failed_production_run_opens_in_the_editor_with_its_outputs_pinned_to_reproduce_it(
    demo: DemoData,
    live_server: LiveServer,
    celery_worker: devstack.ManagedProcess,
    browser: Browser,
) -> None:
    # The Ki-67 model server is down: the published workflow's run fails at the map.
    endpoint = ModelEndpoint.objects.filter(department=demo.department, slug="ihc-dab")

    def fail_a_run() -> tuple[str, Run]:
        working_url = endpoint.get().base_url
        endpoint.update(base_url=f"http://127.0.0.1:{devstack.free_port()}")
        case = create_case(demo.department, case_document("breast-resection"))
        run = execute_run(start_run(case, demo.workflow_version, enqueue=False).pk)
        assert run is not None
        return working_url, run

    working_url, failed = in_thread(fail_a_run)
    assert failed.status == RunStatus.FAILED

    page = new_page(browser, "en")
    sign_in(page, live_server.url, "admin", PASSWORD)
    page.goto(f"{live_server.url}/app/runs/{failed.pk}")
    page.get_by_test_id("open-in-editor").click()
    expect(page).to_have_url(
        f"{live_server.url}/app/studio/workflows/{DEMO_SLUG}?from_run={failed.pk}"
    )
    expect(page.get_by_test_id("from-run")).to_contain_text(f"run #{failed.pk}")
    # The run's results on the canvas and in the bench, what succeeded pinned.
    expect(page.get_by_test_id("bench-run")).to_have_attribute("data-run-id", str(failed.pk))
    expect(card(page, "ihc")).to_have_attribute("data-status", "failed")
    for node_id in ["case", "triage", "fields"]:
        expect(card(page, node_id)).to_have_attribute("data-status", "succeeded")
        expect(card(page, node_id)).to_have_attribute("data-pinned", "true")
    expect(card(page, "ihc")).to_have_attribute("data-pinned", "false")
    expect(page.get_by_test_id("timeline")).to_be_visible()

    # Reproduced on the run's own case: the map fails again the same way.
    page.get_by_test_id("test-run").click()
    expect(page.get_by_test_id("bench-run")).not_to_have_attribute("data-run-id", str(failed.pk))
    expect(page.get_by_test_id("bench-run")).to_have_attribute(
        "data-status", "failed", timeout=120_000
    )
    expect(card(page, "ihc")).to_have_attribute("data-status", "failed")

    # Fixed (the endpoint answers again): the test run renders its draft and stops at the
    # demo's sign-out review (a test run is never signed); the pinned nodes were not re-run.
    in_thread(lambda: endpoint.update(base_url=working_url))
    reproduced = page.get_by_test_id("bench-run").get_attribute("data-run-id")
    page.get_by_test_id("test-run").click()
    expect(page.get_by_test_id("bench-run")).not_to_have_attribute("data-run-id", reproduced or "")
    expect(page.get_by_test_id("bench-run")).to_have_attribute(
        "data-status", "waiting_review", timeout=120_000
    )
    expect(card(page, "report")).to_have_attribute("data-status", "succeeded")
    expect(card(page, "signout")).to_have_attribute("data-status", "waiting")
    fixed = int(page.get_by_test_id("bench-run").get_attribute("data-run-id") or 0)
    rows = in_thread(lambda: list(NodeRun.objects.filter(run_id=fixed)))
    assert {r.node_id for r in rows if r.pinned} == {"case", "triage", "fields"}
    assert [r.status for r in rows if r.node_id == "ihc"] == ["succeeded"]
    # The test runs ran the run's case and version (now the draft), never delivering.
    draft = page.request.get(f"{live_server.url}/api/v1/workflows/{DEMO_SLUG}").json()["draft"]
    assert [n["id"] for n in draft["graph"]["nodes"]] == [
        n["id"] for n in demo.workflow_version.spec["nodes"]
    ]


def test_shortcuts_copy_paste_undo_diff_rollback_export_and_import_in_the_editor(
    demo: DemoData, live_server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    page = new_page(browser, "en")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, live_server.url, "admin", PASSWORD)
    page.get_by_role("link", name=DEMO_NAME).click()
    expect(node(page, "ki67")).to_be_visible()

    page.keyboard.press("?")
    expect(page.get_by_test_id("help-overlay")).to_contain_text("Ctrl+Shift+Z")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("help-overlay")).to_have_count(0)

    # Copy a node and paste it (the clipboard holds graph JSON); undo and redo the paste.
    click_node(page, "ki67")
    page.keyboard.press("Control+c")
    clipboard = page.evaluate("navigator.clipboard.readText()")
    assert json.loads(clipboard)["nodes"][0]["id"] == "ki67"
    page.keyboard.press("Control+v")
    expect(node(page, "ki67_2")).to_be_visible()
    page.keyboard.press("Control+z")
    expect(node(page, "ki67_2")).to_have_count(0)
    page.keyboard.press("Control+Shift+z")
    expect(node(page, "ki67_2")).to_be_visible()
    click_node(page, "ki67_2")
    expect(node(page, "ki67_2")).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("Delete")
    expect(node(page, "ki67_2")).to_have_count(0)

    # Find a node by name.
    page.keyboard.press("Control+f")
    page.get_by_test_id("find-node").locator("input").fill("merge")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("inspector")).to_have_attribute("data-node-id", "merge")

    # A change, published as v2: the diff colours it and lists its config keys; v1 comes back.
    set_config(page, "ihc", {**IHC_CONFIG, "max_items": 8})
    page.get_by_test_id("publish").click()
    page.get_by_test_id("publish-note").fill("asks for one more output")
    page.get_by_test_id("publish-confirm").click()
    expect(page.get_by_test_id("published")).to_contain_text("Published version 2")
    page.get_by_test_id("tab-history").click()
    page.locator("[data-testid=version][data-number='2']").get_by_test_id("diff-previous").click()
    diff = page.get_by_test_id("diff-view")
    expect(diff.locator(".diff-node.diff--changed")).to_have_count(1)
    expect(diff.get_by_test_id("diff-changes")).to_contain_text("ihc")
    expect(diff.get_by_test_id("diff-changes")).to_contain_text("max_items")
    page.get_by_test_id("diff-dialog").get_by_role("button", name="Close").click()
    page.locator("[data-testid=version][data-number='1']").get_by_test_id("rollback").click()
    expect(page.locator("[data-testid=version][data-number='3']")).to_contain_text("republishes v1")

    # Export version 1 as a file and import it back as the draft.
    with page.expect_download() as download:
        page.locator("[data-testid=version][data-number='1']").get_by_test_id("export").click()
    exported = tmp_path / f"{DEMO_SLUG}-v1.json"
    download.value.save_as(exported)
    assert json.loads(exported.read_text())["workflow"]["slug"] == DEMO_SLUG
    page.get_by_test_id("import-file").set_input_files(str(exported))
    # The editor reopens on the imported draft (its side panel back on the inspector).
    expect(page.get_by_test_id("tab-history")).to_have_attribute("aria-selected", "false")
    expect(node(page, "ki67")).to_be_visible()
    page.get_by_test_id("tab-history").click()
    expect(page.locator("[data-testid=version][data-status=draft]")).to_have_count(1)
