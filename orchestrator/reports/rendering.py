"""Report rendering: sandboxed Jinja2 layout → HTML → WeasyPrint → PDF.

The only module that imports WeasyPrint. Template HTML can reach nothing but its own assets and
``data:`` URLs: the URL fetcher refuses ``file://`` outside the asset folder, every network
scheme and redirects, and attachments declared in HTML are dropped before the PDF is written.
Parsed stylesheets, the font configuration and compiled layouts are reused between renders.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import weasyprint
from django.conf import settings
from jinja2 import ChoiceLoader, DictLoader, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from workflows.expressions import LimitedSandbox

logger = logging.getLogger(__name__)

BASE_LAYOUT_DIR = Path(settings.REPORT_LIBRARY_DIR) / "_base"
_CSS_UNSAFE = re.compile(r'[\\"<>&\n\r\t\x00-\x1f\x7f]')


class RenderError(Exception):
    """Rendering failed; the message says what to fix in the template or the data."""


def css_string(value: Any) -> Markup:
    """Escape a value for use inside a double-quoted CSS string (e.g. @page content)."""
    escaped = _CSS_UNSAFE.sub(lambda m: f"\\{ord(m.group()):x} ", str(value))
    return Markup(escaped)  # noqa: S704 (every character that could end the string is escaped)


class AssetFetcher(URLFetcher):  # type: ignore[misc]
    """Serves only files inside ``asset_dir`` and ``data:`` URLs; refuses everything else."""

    def __init__(self, asset_dir: Path) -> None:
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False, timeout=2)
        self.asset_dir = asset_dir.resolve()

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
        parts = urlsplit(url)
        if parts.scheme == "file":
            path = Path(unquote(parts.path)).resolve()
            if parts.netloc not in ("", "localhost") or not path.is_relative_to(self.asset_dir):
                logger.warning("refused a template resource outside its assets")
                raise ValueError("only the template's own assets may be loaded")
            if not path.is_file():
                raise ValueError("no such asset")
        elif parts.scheme != "data":
            logger.warning("refused a template resource with scheme %r", parts.scheme)
            raise ValueError("only the template's own assets and data: URLs may be loaded")
        return super().fetch(url, headers)


@lru_cache(maxsize=1)
def _font_config() -> FontConfiguration:
    return FontConfiguration()


@lru_cache(maxsize=32)
def _stylesheet(css: str, asset_dir: Path) -> weasyprint.CSS:
    return weasyprint.CSS(
        string=css,
        font_config=_font_config(),
        url_fetcher=AssetFetcher(asset_dir),
        base_url=asset_dir.as_uri() + "/",
    )


@lru_cache(maxsize=32)
def _layout_environment(custom_layout: str) -> LimitedSandbox:
    loaders: list[Any] = [FileSystemLoader(BASE_LAYOUT_DIR)]
    if custom_layout:
        loaders.insert(0, DictLoader({"report.html.j2": custom_layout}))
    env = LimitedSandbox(
        loader=ChoiceLoader(loaders),
        autoescape=True,
        undefined=StrictUndefined,
        auto_reload=False,
    )
    env.filters["css_string"] = css_string
    return env


def render_html(context: dict[str, Any], *, custom_layout: str = "") -> str:
    try:
        template = _layout_environment(custom_layout).get_template("report.html.j2")
        return template.render(context)
    except Exception as exc:
        raise RenderError(f"the report layout failed: {type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    sha256: str
    pages: int


@lru_cache(maxsize=1)
def base_css() -> str:
    return (BASE_LAYOUT_DIR / "report.css").read_text(encoding="utf-8")


def render_pdf(html: str, *, extra_css: str = "", asset_dir: Path = BASE_LAYOUT_DIR) -> RenderedPdf:
    """Lay out ``html`` with the base stylesheet (and a template's own CSS) into a PDF."""
    asset_dir = asset_dir.resolve()
    stylesheets = [_stylesheet(base_css(), BASE_LAYOUT_DIR.resolve())]
    if extra_css:
        stylesheets.append(_stylesheet(extra_css, asset_dir))
    try:
        document = weasyprint.HTML(
            string=html, base_url=asset_dir.as_uri() + "/", url_fetcher=AssetFetcher(asset_dir)
        ).render(stylesheets=stylesheets, font_config=_font_config())
        # Attachments are ours to add (structured data); a template must not embed files.
        document.metadata.attachments = []
        content = document.write_pdf()
    except Exception as exc:
        raise RenderError(f"PDF layout failed: {type(exc).__name__}: {exc}") from exc
    return RenderedPdf(content, hashlib.sha256(content).hexdigest(), len(document.pages))
