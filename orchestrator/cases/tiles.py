"""Resolving the slide/tile references a case carries into PNG bytes for model calls.

References are ``{"uri": "sample:immunohistochemistry"}`` (scikit-image's bundled IHC image,
for demos and tests), ``{"uri": "file:<relative path>"}`` below TILE_ROOT, or a region of a
whole-slide image ``{"uri": "slide:<name>", "region": [x, y, w, h], "level": 0}`` read with
OpenSlide (see ``slides.py``); nothing else.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from orchestrator.cases.slides import SlideError, region_png
from workflows.errors import NodeError

SAMPLE_TILES = ("immunohistochemistry",)


@lru_cache(maxsize=4)
def _sample_png(name: str) -> bytes:
    from skimage import data  # imported lazily: heavy, and only demos need it

    array = getattr(data, name)()
    buffer = io.BytesIO()
    Image.fromarray(array).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def _file_png(relative: str) -> bytes:
    root = Path(settings.TILE_ROOT).resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NodeError(f"tile 'file:{relative}' is not a file in the tile store", permanent=True)
    try:
        with Image.open(path) as image:
            image.load()
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="PNG")
    except (UnidentifiedImageError, OSError):
        raise NodeError(f"tile 'file:{relative}' is not a readable image", permanent=True) from None
    return buffer.getvalue()


def load_tile_png(reference: dict[str, Any]) -> bytes:
    uri = str(reference.get("uri", ""))
    scheme, _, rest = uri.partition(":")
    if scheme == "sample" and rest in SAMPLE_TILES:
        return _sample_png(rest)
    if scheme == "file" and rest:
        return _file_png(rest)
    if scheme == "slide" and rest:
        try:
            return region_png(reference)
        except SlideError as exc:
            raise NodeError(str(exc), permanent=True) from None
    raise NodeError(
        f"tile reference {uri!r} is not sample:<name>, file:<path> or slide:<name>",
        permanent=True,
    )
