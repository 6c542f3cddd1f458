"""The renderer child's life: started lazily and kept warm, replaced after a timeout or running
out of memory, shared safely by threads, and usable from daemonic (Celery prefork) processes."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from orchestrator.reports import rendering
from orchestrator.reports.renderer.client import RendererProcess
from orchestrator.reports.rendering import (
    BASE_LAYOUT_DIR,
    RenderError,
    render_report_document,
    render_report_html,
)
from tests.orchestrator.reports.conftest import read_pdf, text_of


def context(accession: str) -> dict[str, Any]:
    return {"case": {"accession": accession}}


LAYOUT = "<p>Accession {{ case.accession }}</p>"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_child_starts_on_first_use_and_is_reused_warm() -> None:
    process = RendererProcess(BASE_LAYOUT_DIR, timeout_s=10, memory_mb=1500)
    try:
        assert process.pid is None
        render_report_document(context("S1"), layout_html=LAYOUT, process=process)
        first = process.pid

        start = time.monotonic()
        pdf = render_report_document(context("S2"), layout_html=LAYOUT, process=process)
        warm = time.monotonic() - start

        assert process.pid == first
        assert process.starts == 1
        assert "Accession S2" in text_of(read_pdf(pdf.content))
        assert warm < 2.0  # no WeasyPrint import, no font loading: the child stayed warm
    finally:
        process.close()
    assert first is not None
    time.sleep(0.1)
    assert not alive(first)


def test_a_timeout_kills_the_child_and_the_next_render_gets_a_fresh_one() -> None:
    process = RendererProcess(BASE_LAYOUT_DIR, timeout_s=1.5, memory_mb=1500)
    try:
        render_report_html(context("S1"), layout_html=LAYOUT, process=process)
        first = process.pid
        assert first is not None
        hang = "{% for i in range(20000) %}<div style='break-after: page'>x</div>{% endfor %}"

        with pytest.raises(RenderError, match=r"took longer than 1\.5 s"):
            render_report_document(context("S1"), layout_html=hang, process=process)
        assert not alive(first)

        html = render_report_html(context("S3"), layout_html=LAYOUT, process=process)
        assert "Accession S3" in html
        assert process.starts == 2
    finally:
        process.close()


def test_a_render_that_needs_too_much_memory_is_stopped_with_a_clear_error() -> None:
    process = RendererProcess(BASE_LAYOUT_DIR, timeout_s=20, memory_mb=700)
    try:
        render_report_html(context("S1"), layout_html=LAYOUT, process=process)
        with pytest.raises(RenderError, match=r"ran out of memory \(limit 700 MB\)"):
            render_report_html(
                context("S1"), layout_html="{{ '%.600000000f' | format(1.0) }}", process=process
            )
        assert "Accession S2" in render_report_html(
            context("S2"), layout_html=LAYOUT, process=process
        )
    finally:
        process.close()


def test_threads_share_one_child_and_each_gets_its_own_report() -> None:
    process = RendererProcess(BASE_LAYOUT_DIR, timeout_s=30, memory_mb=1500)
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def render(accession: str) -> None:
        try:
            pdf = render_report_document(context(accession), layout_html=LAYOUT, process=process)
            results[accession] = text_of(read_pdf(pdf.content))
        except BaseException as exc:  # reported by the assertions
            errors.append(exc)

    try:
        threads = [threading.Thread(target=render, args=(f"T{i}",)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        process.close()
    assert errors == []
    assert process.starts == 1
    for accession, text in results.items():
        assert f"Accession {accession}" in text
    assert len(results) == 6


def _render_in_daemon(queue: Any) -> None:
    process = RendererProcess(BASE_LAYOUT_DIR, timeout_s=30, memory_mb=1500)
    try:
        queue.put(render_report_html(context("D1"), layout_html=LAYOUT, process=process))
    except BaseException as exc:  # reported by the assertions
        queue.put(f"failed: {exc!r}")
    finally:
        process.close()


def test_a_daemonic_worker_process_can_render() -> None:
    # Celery's prefork pool runs tasks in daemonic processes, which multiprocessing forbids
    # to have children; the renderer child is a plain subprocess, so it works there.
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    worker = ctx.Process(target=_render_in_daemon, args=(queue,), daemon=True)
    worker.start()
    result = queue.get(timeout=60)
    worker.join(timeout=10)
    assert "Accession D1" in result


def test_the_shared_renderer_follows_the_settings(settings: Settings) -> None:
    settings.REPORT_RENDER_TIMEOUT_S = 7
    first = rendering.renderer()
    assert first is rendering.renderer()
    assert first.timeout_s == 7
    assert first.memory_mb == settings.REPORT_RENDER_MAX_MEMORY_MB


def test_the_child_does_not_see_the_servers_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SECRET_KEY", "do-not-leak")
    monkeypatch.setenv("DATABASE_URL", "postgres://user:password@db/pathflow")
    process = RendererProcess(BASE_LAYOUT_DIR, timeout_s=30, memory_mb=1500)
    try:
        render_report_html(context("S1"), layout_html=LAYOUT, process=process)
        environment = Path(f"/proc/{process.pid}/environ").read_bytes()
    finally:
        process.close()
    assert b"do-not-leak" not in environment
    assert b"password" not in environment
    assert b"PATH=" in environment


class Interrupted(Exception):
    """Raised by a signal handler in the middle of a render (not a timeout, not a crash)."""


def test_an_interrupted_render_never_hands_its_report_to_the_next_caller() -> None:
    import signal

    process = RendererProcess(BASE_LAYOUT_DIR, timeout_s=20, memory_mb=1500)
    slow = (
        "{% for i in range(100000) %}{% for j in range(100) %}{{ '' }}{% endfor %}{% endfor %}"
        "REPORT OF PATIENT A"
    )

    def interrupt(*_: Any) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        render_report_html(context("S1"), layout_html=LAYOUT, process=process)
        first = process.pid
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(Interrupted):
            render_report_html(context("A"), layout_html=slow, process=process)
        assert process.pid is None  # the child with the unread reply is gone
        assert first is not None
        assert not alive(first)

        html = render_report_html(context("B"), layout_html="REPORT OF PATIENT B", process=process)
        assert html.endswith("REPORT OF PATIENT B")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        process.close()


def test_a_reply_to_another_request_is_refused_and_the_child_replaced() -> None:
    from orchestrator.reports.renderer.protocol import encode

    process = RendererProcess(BASE_LAYOUT_DIR, timeout_s=20, memory_mb=1500)
    try:
        render_report_html(context("S1"), layout_html=LAYOUT, process=process)
        stray = {"format": "html", "context": {}, "layout_html": "REPORT OF PATIENT A", "id": -1}
        assert process._process is not None
        assert process._process.stdin is not None
        process._process.stdin.write(encode(stray))  # a reply nobody will read in turn
        process._process.stdin.flush()

        with pytest.raises(RenderError, match="stopped while laying out"):
            render_report_html(context("B"), layout_html="PATIENT B", process=process)
        assert render_report_html(context("C"), layout_html="PATIENT C", process=process) == (
            "PATIENT C"
        )
        assert process.starts == 2
    finally:
        process.close()


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("{{ (1, 2)|dictsort }}", "AttributeError"),
        ("{{ {'a': 1}|dictsort(by='x') }}", "FilterArgumentError|ValueError|by"),
    ],
)
def test_a_layout_mistake_of_any_kind_is_reported_and_the_child_lives_on(
    layout: str, message: str
) -> None:
    process = RendererProcess(BASE_LAYOUT_DIR, timeout_s=20, memory_mb=1500)
    try:
        render_report_html(context("S1"), layout_html=LAYOUT, process=process)
        first = process.pid
        with pytest.raises(RenderError, match=f"the report layout failed: .*({message})"):
            render_report_html(context("S1"), layout_html=layout, process=process)
        assert process.pid == first
    finally:
        process.close()


def test_a_lone_surrogate_in_a_layout_or_in_the_data_is_a_clear_problem() -> None:
    process = RendererProcess(BASE_LAYOUT_DIR, timeout_s=20, memory_mb=1500)
    try:
        html = render_report_html(
            context("S1"), layout_html="<p>{{ '\\ud800' }}</p>", process=process
        )
        assert html == "<p>?</p>"  # not UTF-8: replaced
        first = process.pid
        with pytest.raises(RenderError, match="not valid text"):
            render_report_html(context("\ud800"), layout_html=LAYOUT, process=process)
        assert process.pid == first
    finally:
        process.close()
