"""Figures (e.g. a stained tile) as small ``data:`` URIs sized for print.

A 512×512 PNG tile printed 60 mm wide needs about 470 pixels at 200 dpi: we cap the pixel size
for the print width, drop alpha, and keep whichever of an optimised PNG and a quality-85 JPEG
is smaller (photographs of tissue compress far better as JPEG; diagrams stay PNG). Decoding
runs in the renderer child, under its memory limit, and refuses images above a pixel budget.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections import OrderedDict
from dataclasses import dataclass

from PIL import Image

PRINT_DPI = 200
MAX_SOURCE_PIXELS = 40_000_000
JPEG_QUALITY = 85
_CACHE_SIZE = 16


class FigureError(ValueError):
    """A figure could not be read as an image."""


@dataclass(frozen=True)
class PreparedFigure:
    src: str  # data: URI
    width_px: int
    height_px: int
    bytes: int


_cache: OrderedDict[tuple[str, float], PreparedFigure] = OrderedDict()


def _encode(image: Image.Image) -> tuple[str, bytes]:
    png = io.BytesIO()
    image.save(png, format="PNG", optimize=True)
    jpeg = io.BytesIO()
    image.convert("RGB").save(jpeg, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return min(
        ("image/png", png.getvalue()), ("image/jpeg", jpeg.getvalue()), key=lambda c: len(c[1])
    )


def prepare_figure(data: bytes, print_width_mm: float) -> PreparedFigure:
    """Downscale and compress ``data`` for printing ``print_width_mm`` wide (cached by content:
    the designer's preview and a case's re-renders reuse the same tiles)."""
    key = (hashlib.sha256(data).hexdigest(), print_width_mm)
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    try:
        with Image.open(io.BytesIO(data)) as source:
            if source.width * source.height > MAX_SOURCE_PIXELS:
                raise FigureError(
                    f"a figure of {source.width}×{source.height} pixels is larger than "
                    f"{MAX_SOURCE_PIXELS:,} pixels"
                )
            image = source.convert("RGBA" if "A" in source.getbands() else "RGB")
    except (OSError, Image.DecompressionBombError) as exc:
        raise FigureError(f"a figure is not a readable image ({exc})") from None
    if image.mode == "RGBA":
        flattened = Image.new("RGB", image.size, "white")
        flattened.paste(image, mask=image.getchannel("A"))
        image = flattened
    max_width = max(16, round(print_width_mm / 25.4 * PRINT_DPI))
    if image.width > max_width:
        image = image.resize(
            (max_width, max(1, round(image.height * max_width / image.width))),
            Image.Resampling.LANCZOS,
        )
    mime, encoded = _encode(image)
    figure = PreparedFigure(
        f"data:{mime};base64,{base64.b64encode(encoded).decode()}",
        image.width,
        image.height,
        len(encoded),
    )
    _cache[key] = figure
    if len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return figure
