"""The renderer child's work: sandboxed Jinja2 layout → HTML → WeasyPrint → PDF/A-3b.

Runs only inside the renderer subprocess (``worker``), never in the Django process, and imports
no Django. Template HTML can reach nothing but its own assets and ``data:`` URLs: the URL
fetcher refuses ``file://`` outside the asset folder, every network scheme and redirects, and
attachments declared in HTML (``<link rel=attachment>``, ``<a rel=attachment>``) are dropped;
the only attachment is ours, the report's structured data. What is reused between renders: the
font configuration, parsed stylesheets, compiled layouts, prepared figures and decoded images;
the user-agent stylesheet leaves out per-element pseudo-elements reports do not use (``ua``), and
each line of text is shaped once, not again when it is drawn (``textlayout``).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import weasyprint
from jinja2 import ChoiceLoader, DictLoader, FileSystemLoader, StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError
from markupsafe import Markup
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from orchestrator.reports.renderer import fonts, pdfwrite, textlayout
from orchestrator.reports.renderer.figures import FigureError, prepare_figure
from orchestrator.reports.renderer.ua import ReportHTML
from workflows.expressions import LimitedSandbox

logger = logging.getLogger(__name__)

# A 20-page report is ~300 KB of HTML; a layout printing megabytes is a runaway loop.
MAX_HTML_CHARS = 8_000_000
PDF_VARIANT = "pdf/a-3b"
_CSS_UNSAFE = re.compile(r'[\\"<>&\n\r\t\x00-\x1f\x7f]')
_IMAGE_CACHE_LIMIT = 64


class TemplateProblem(Exception):
    """The layout or its data is wrong: the message says what to fix (the child survives)."""


def css_string(value: Any) -> Markup:
    """Escape a value for use inside a double-quoted CSS string (e.g. @page content)."""
    escaped = _CSS_UNSAFE.sub(lambda m: f"\\{ord(m.group()):x} ", str(value))
    return Markup(escaped)  # noqa: S704 (every character that could end the string is escaped)


class AssetFetcher(URLFetcher):  # type: ignore[misc]
    """Serves only files inside the asset folders and ``data:`` URLs; refuses everything else."""

    def __init__(self, asset_dirs: tuple[Path, ...]) -> None:
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False, timeout=2)
        self.asset_dirs = tuple(d.resolve() for d in asset_dirs)

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
        parts = urlsplit(url)
        if parts.scheme == "file":
            path = Path(unquote(parts.path)).resolve()
            inside = any(path.is_relative_to(d) for d in self.asset_dirs)
            if parts.netloc not in ("", "localhost") or not inside:
                logger.warning("refused a template resource outside its assets")
                raise ValueError("only the template's own assets may be loaded")
            if not path.is_file():
                raise ValueError("no such asset")
        elif parts.scheme != "data":
            logger.warning("refused a template resource with scheme %r", parts.scheme)
            raise ValueError("only the template's own assets and data: URLs may be loaded")
        return super().fetch(url, headers)


class Engine:
    """One per renderer child; keeps everything reusable between renders."""

    def __init__(self, base_dir: Path) -> None:
        fonts.install()
        pdfwrite.install()
        textlayout.install()
        self.base_dir = base_dir.resolve()
        self.font_config = FontConfiguration()
        self.image_cache: dict[str, Any] = {}
        self._environments: OrderedDict[str, LimitedSandbox] = OrderedDict()

    # --- layout ---------------------------------------------------------------------------

    def environment(self, custom_layout: str) -> LimitedSandbox:
        key = hashlib.sha256(custom_layout.encode()).hexdigest()
        if key in self._environments:
            self._environments.move_to_end(key)
            return self._environments[key]
        loaders: list[Any] = [FileSystemLoader(self.base_dir)]
        if custom_layout:
            loaders.insert(0, DictLoader({"report.html.j2": custom_layout}))
        env = LimitedSandbox(
            loader=ChoiceLoader(loaders), autoescape=True, undefined=StrictUndefined
        )
        env.filters["css_string"] = css_string
        self._environments[key] = env
        if len(self._environments) > 32:
            self._environments.popitem(last=False)
        return env

    def render_html(self, context: dict[str, Any], custom_layout: str) -> str:
        try:
            template = self.environment(custom_layout).get_template("report.html.j2")
            return _bounded_join(template.generate(context))
        except TemplateProblem:
            raise
        except SecurityError as exc:
            raise TemplateProblem(f"the report layout is not allowed to do this: {exc}") from None
        except (TemplateError, TypeError, ValueError, LookupError, ArithmeticError) as exc:
            raise TemplateProblem(
                f"the report layout failed: {type(exc).__name__}: {exc}"
            ) from None
        except RecursionError:
            raise TemplateProblem(
                "the report layout failed: it calls itself (a macro or include) too deeply"
            ) from None
        except MemoryError:
            raise
        except Exception as exc:  # e.g. {{ (1, 2)|dictsort }}: AttributeError
            raise TemplateProblem(
                f"the report layout failed: {type(exc).__name__}: {exc}"
            ) from None

    # --- PDF ------------------------------------------------------------------------------

    @lru_cache(maxsize=32)  # noqa: B019 (one Engine per process: the cache lives as long)
    def stylesheet(self, css: str, asset_dir: Path | None) -> weasyprint.CSS:
        base = asset_dir or self.base_dir
        return weasyprint.CSS(
            string=css,
            font_config=self.font_config,
            url_fetcher=self.fetcher(asset_dir),
            base_url=base.as_uri() + "/",
        )

    @lru_cache(maxsize=1)  # noqa: B019
    def base_css(self) -> str:
        return (self.base_dir / "report.css").read_text(encoding="utf-8")

    def fetcher(self, asset_dir: Path | None) -> AssetFetcher:
        return AssetFetcher((self.base_dir, asset_dir) if asset_dir else (self.base_dir,))

    def render_pdf(
        self,
        html: str,
        *,
        layout_css: str,
        asset_dir: Path | None,
        attachment: dict[str, Any] | None,
    ) -> tuple[bytes, int]:
        stylesheets = [self.stylesheet(self.base_css(), None)]
        if layout_css:
            stylesheets.append(self.stylesheet(layout_css, asset_dir))
        if len(self.image_cache) > _IMAGE_CACHE_LIMIT:
            self.image_cache.clear()
        fetcher = self.fetcher(asset_dir)
        document = ReportHTML(
            string=html,
            base_url=(asset_dir or self.base_dir).as_uri() + "/",
            url_fetcher=fetcher,
        ).render(stylesheets=stylesheets, font_config=self.font_config, cache=self.image_cache)
        # Attachments are ours to add (the structured data); a template must not embed files.
        document.metadata.attachments = []
        for page in document.pages:
            page.links = [link for link in page.links if link[0] != "attachment"]
        attachments = []
        if attachment is not None:
            attachments.append(
                weasyprint.Attachment(
                    string=attachment["content"],
                    url_fetcher=fetcher,
                    name=attachment["name"],
                    description=attachment.get("description", ""),
                    relationship="Data",
                )
            )
        content = document.write_pdf(
            pdf_variant=PDF_VARIANT, attachments=attachments, cache=self.image_cache
        )
        return content, len(document.pages)

    # --- one request ----------------------------------------------------------------------

    def render(self, request: dict[str, Any], blobs: list[bytes]) -> tuple[dict[str, Any], bytes]:
        context = dict(request["context"])
        try:
            context["figures"] = [
                {
                    "src": (figure := prepare_figure(blobs[f["blob"]], f["width_mm"])).src,
                    "caption": f.get("caption", ""),
                    "width_mm": f["width_mm"],
                    "width_px": figure.width_px,
                    "height_px": figure.height_px,
                }
                for f in request.get("figures", [])
            ]
            logo = request.get("logo")
            if logo is not None:
                context["department"] = {
                    **context.get("department", {}),
                    "logo": prepare_figure(blobs[logo["blob"]], logo["width_mm"]).src,
                }
        except FigureError as exc:
            raise TemplateProblem(str(exc)) from None
        html = self.render_html(context, request.get("layout_html", ""))
        if request.get("format") == "html":
            # A lone surrogate ({{ '\\ud800' }}) is not UTF-8: printed as U+FFFD.
            return {"ok": True}, html.encode(errors="replace")
        asset_dir = Path(request["asset_dir"]) if request.get("asset_dir") else None
        try:
            content, pages = self.render_pdf(
                html,
                layout_css=request.get("layout_css", ""),
                asset_dir=asset_dir,
                attachment=request.get("attachment"),
            )
        except MemoryError:
            raise
        except Exception as exc:  # WeasyPrint raises many kinds; the message says which
            raise TemplateProblem(f"PDF layout failed: {type(exc).__name__}: {exc}") from None
        return {"ok": True, "pages": pages}, content


def _bounded_join(chunks: Iterable[str]) -> str:
    parts: list[str] = []
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > MAX_HTML_CHARS:
            raise TemplateProblem(
                f"the report layout produced more than {MAX_HTML_CHARS:,} characters of HTML "
                "(a loop that never ends, or a value repeated too often)"
            )
        parts.append(chunk)
    return "".join(parts)


def warm_up(engine: Engine) -> None:
    """Load fonts (regular and bold, Chinese and Latin) so the first real render is fast."""
    html = "<p>病理报告 Pathology report <b>浸润性 0123</b></p>"
    engine.render_pdf(html, layout_css="", asset_dir=None, attachment=None)
