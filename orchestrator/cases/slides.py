"""Whole-slide images that specimens reference, read with OpenSlide.

A specimen's ``tiles`` may hold slide references ``{"uri": "slide:<name>", "stain": ...}``;
``<name>`` is a file below ``MEDIA_ROOT/slides`` (pyramidal TIFF, SVS and every other format
OpenSlide reads) and never an arbitrary path. A reference that a model should read also
carries ``"region": [x, y, width, height]`` in level-0 pixels and optionally ``"level"`` (the
pyramid level to read it at; default 0), e.g.
``{"uri": "slide:demo/ihc-ki67.tiff", "region": [0, 0, 512, 512], "level": 0}``.

Open slides are kept in a small LRU per process (opening a slide parses its whole TIFF
directory), keyed by path, size and modification time so a replaced file is opened again.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import openslide
from django.conf import settings
from numpy.typing import NDArray
from openslide.deepzoom import DeepZoomGenerator
from PIL import Image

SLIDE_SCHEME: Final = "slide"
# Deep Zoom's classic shape: 254 px + 1 px overlap on each inner edge = 256 px tiles.
DZ_TILE_SIZE: Final = 254
DZ_OVERLAP: Final = 1
DZ_FORMAT: Final = "jpeg"
DZ_JPEG_QUALITY: Final = 80
SLIDE_CACHE_SIZE: Final = 8
MIN_REGION_SIDE: Final = 8
# The same bound the ihc-dab service applies to one tile: larger regions must be split.
MAX_REGION_PIXELS: Final = 4096 * 4096
# Folder segments of letters, digits, '.', '_' and '-', not starting with '.', so a name can
# neither climb out of the slide store nor reach a hidden file.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


class SlideError(ValueError):
    """A slide reference cannot be served; the message is safe to show to the user."""


class SlideNotFound(SlideError):
    """The reference names no readable slide in the slide store."""


class TileNotFound(SlideError):
    """A Deep Zoom level, column or row outside the slide's pyramid."""


def slide_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "slides"


def slide_name(reference: dict[str, Any]) -> str | None:
    """The slide name of a ``slide:<name>`` reference, None for other references."""
    scheme, _, rest = str(reference.get("uri", "")).partition(":")
    return rest if scheme == SLIDE_SCHEME else None


def slide_reference_problems(reference: dict[str, Any]) -> list[str]:
    """What is wrong with a slide reference's shape, before any file is read (a case may be
    ordered before its slide is scanned); nothing for other references."""
    name = slide_name(reference)
    if name is None:
        return []
    problems = []
    if not _NAME.match(name):
        problems.append(f"slide name {name!r} is not a file name in the slide store")
    region, level = reference.get("region"), reference.get("level", 0)
    if region is not None and not (
        isinstance(region, list)
        and len(region) == 4
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in region)
    ):
        problems.append("region must be [x, y, width, height] in whole level-0 pixels")
    if isinstance(level, bool) or not isinstance(level, int) or level < 0:
        problems.append("level must be a whole number from 0")
    return problems


def slide_path(name: str) -> Path:
    """The file of slide ``name`` inside the slide store; raises :class:`SlideNotFound`."""
    root = slide_root().resolve()
    if not _NAME.match(name):
        raise SlideNotFound(f"slide name {name!r} is not a file name in the slide store")
    path = (root / name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise SlideNotFound(f"slide {name!r} is not a file in the slide store")
    return path


@dataclass(frozen=True)
class OpenedSlide:
    """An open slide with its Deep Zoom generator; ``version`` changes when the file does."""

    name: str
    slide: openslide.AbstractSlide
    deepzoom: DeepZoomGenerator
    version: str

    @property
    def dimensions(self) -> tuple[int, int]:
        width, height = self.slide.dimensions
        return int(width), int(height)

    @property
    def microns_per_pixel(self) -> float | None:
        value = self.slide.properties.get(openslide.PROPERTY_NAME_MPP_X)
        try:
            return float(value) if value else None
        except ValueError:
            return None


_cache: OrderedDict[tuple[str, int, int], OpenedSlide] = OrderedDict()
_cache_lock = threading.Lock()


def open_slide(name: str) -> OpenedSlide:
    """The slide ``name``, from this process's LRU of open slides when it is there."""
    path = slide_path(name)
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    try:
        slide = openslide.open_slide(path)
    except (openslide.OpenSlideError, OSError):
        raise SlideNotFound(f"slide {name!r} is not an image OpenSlide can read") from None
    deepzoom = DeepZoomGenerator(
        slide, tile_size=DZ_TILE_SIZE, overlap=DZ_OVERLAP, limit_bounds=True
    )
    version = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
    opened = OpenedSlide(name, slide, deepzoom, version)
    with _cache_lock:
        _cache[key] = opened
        while len(_cache) > SLIDE_CACHE_SIZE:
            # Not closed here: another thread may still be reading a tile from it; the
            # OpenSlide handle is released when the last reference goes.
            _cache.popitem(last=False)
    return opened


def dzi_descriptor(opened: OpenedSlide) -> str:
    """The Deep Zoom descriptor (XML) OpenSeadragon opens."""
    return str(opened.deepzoom.get_dzi(DZ_FORMAT))


def deepzoom_tile_jpeg(opened: OpenedSlide, level: int, col: int, row: int) -> bytes:
    """One Deep Zoom tile as JPEG; raises :class:`TileNotFound` naming the valid range."""
    deepzoom = opened.deepzoom
    if not 0 <= level < deepzoom.level_count:
        raise TileNotFound(
            f"level {level} does not exist: this slide has Deep Zoom levels "
            f"0-{deepzoom.level_count - 1}"
        )
    cols, rows = deepzoom.level_tiles[level]
    if not (0 <= col < cols and 0 <= row < rows):
        raise TileNotFound(
            f"tile {col}_{row} does not exist at level {level}: columns are 0-{cols - 1}, "
            f"rows 0-{rows - 1}"
        )
    tile = deepzoom.get_tile(level, (col, row)).convert("RGB")
    buffer = io.BytesIO()
    tile.save(buffer, format="JPEG", quality=DZ_JPEG_QUALITY)
    return buffer.getvalue()


@dataclass(frozen=True)
class SlideRegion:
    """A rectangle in level-0 pixels, read at ``level`` (downsampled by that level)."""

    x: int
    y: int
    width: int
    height: int
    level: int = 0


def parse_region(reference: dict[str, Any], opened: OpenedSlide) -> SlideRegion:
    """The region a reference names, checked against the slide; lists every problem."""
    raw_region, level = reference.get("region"), reference.get("level", 0)
    problems: list[str] = []
    level_count = opened.slide.level_count
    if isinstance(level, bool) or not isinstance(level, int):
        problems.append("level must be a whole number")
        level = 0
    elif not 0 <= level < level_count:
        problems.append(f"level {level} does not exist (the slide has 0-{level_count - 1})")
        level = 0
    if not (
        isinstance(raw_region, list)
        and len(raw_region) == 4
        and all(isinstance(v, int) and not isinstance(v, bool) for v in raw_region)
    ):
        problems.append("region must be [x, y, width, height] in whole level-0 pixels")
        raise SlideError(f"slide:{opened.name}: " + "; ".join(problems))
    region = SlideRegion(raw_region[0], raw_region[1], raw_region[2], raw_region[3], level)
    problems.extend(_region_problems(region, opened))
    if problems:
        raise SlideError(f"slide:{opened.name}: " + "; ".join(problems))
    return region


def _region_problems(region: SlideRegion, opened: OpenedSlide) -> list[str]:
    x, y, width, height, level = region.x, region.y, region.width, region.height, region.level
    slide_width, slide_height = opened.dimensions
    problems = []
    if x < 0 or y < 0 or x + width > slide_width or y + height > slide_height:
        problems.append(
            f"region [{x}, {y}, {width}, {height}] is not inside the slide "
            f"({slide_width}x{slide_height})"
        )
    out_w, out_h = _read_size(opened, region)
    if min(out_w, out_h) < MIN_REGION_SIDE:
        problems.append(f"region is {out_w}x{out_h} px at level {level}; at least 8 per side")
    if out_w * out_h > MAX_REGION_PIXELS:
        problems.append(
            f"region is {out_w}x{out_h} px at level {level}; at most {MAX_REGION_PIXELS} "
            "pixels, split it into smaller regions"
        )
    return problems


def _read_size(opened: OpenedSlide, region: SlideRegion) -> tuple[int, int]:
    downsample = float(opened.slide.level_downsamples[region.level])
    return max(1, math.ceil(region.width / downsample)), max(
        1, math.ceil(region.height / downsample)
    )


def read_region_rgb(opened: OpenedSlide, region: SlideRegion) -> NDArray[np.uint8]:
    """The region's pixels as an ``(H, W, 3)`` array; transparent (outside-scan) areas white."""
    size = _read_size(opened, region)
    rgba = opened.slide.read_region((region.x, region.y), region.level, size)
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    rgb = Image.alpha_composite(background, rgba).convert("RGB")
    return np.asarray(rgb, dtype=np.uint8)


def region_png(reference: dict[str, Any]) -> bytes:
    """PNG bytes of the region a slide reference names, for a model call."""
    name = slide_name(reference)
    if name is None:
        raise SlideError(f"{reference.get('uri')!r} is not a slide:<name> reference")
    opened = open_slide(name)
    if "region" not in reference:
        width, height = opened.dimensions
        raise SlideError(
            f"slide:{name} is a whole slide ({width}x{height} px); a model reads a region of "
            'it: add "region": [x, y, width, height] (and optionally "level")'
        )
    region = parse_region(reference, opened)
    buffer = io.BytesIO()
    Image.fromarray(read_region_rgb(opened, region)).save(buffer, format="PNG")
    return buffer.getvalue()
