"""Writing pyramidal tiled TIFFs that OpenSlide reads as generic TIFF, and the demo slide.

OpenSlide's generic-TIFF reader takes every tiled directory as a pyramid level, largest first,
and needs the reduced levels marked as such (``NewSubfileType`` = reduced-resolution image).
Tiles are deflate-compressed: lossless, so a region read back at level 0 is exactly the pixels
written (tifffile cannot write JPEG tiles without imagecodecs, which we do not install).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Final

import numpy as np
import tifffile
from numpy.typing import NDArray
from PIL import Image

from orchestrator.cases.slides import slide_root

TIFF_TILE: Final = 256
SMALLEST_LEVEL: Final = 256
DEMO_SLIDE_NAME: Final = "demo/ihc-ki67.tiff"
DEMO_SLIDE_REPEAT: Final = 8  # 8 x 512 px = 4096 px square: 5 TIFF levels, 13 Deep Zoom levels
# The demo specimen's model region: the top-left copy, which is the bundled image unflipped.
DEMO_MODEL_REGION: Final = (0, 0, 512, 512)

_REDUCED_RESOLUTION: Final = 1


def pyramid_levels(rgb: NDArray[np.uint8]) -> list[NDArray[np.uint8]]:
    """``rgb`` and its successive halvings (box filter) down to ``SMALLEST_LEVEL`` px."""
    levels = [rgb]
    while max(levels[-1].shape[:2]) > SMALLEST_LEVEL:
        previous = Image.fromarray(levels[-1])
        half = (max(1, previous.width // 2), max(1, previous.height // 2))
        levels.append(np.asarray(previous.resize(half, Image.Resampling.BOX), dtype=np.uint8))
    return levels


def write_pyramidal_tiff(rgb: NDArray[np.uint8], path: Path, mpp: float | None = None) -> None:
    """Write ``rgb`` (H, W, 3) as a tiled pyramidal TIFF at ``path``, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels_per_cm = 1e4 / mpp if mpp else None
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    os.close(handle)
    try:
        with tifffile.TiffWriter(temporary) as tiff:
            for index, level in enumerate(pyramid_levels(rgb)):
                scale = 2**index
                tiff.write(
                    level,
                    photometric="rgb",
                    tile=(TIFF_TILE, TIFF_TILE),
                    compression="zlib",
                    subfiletype=_REDUCED_RESOLUTION if index else 0,
                    resolution=(
                        (pixels_per_cm / scale, pixels_per_cm / scale) if pixels_per_cm else None
                    ),
                    resolutionunit="CENTIMETER" if pixels_per_cm else None,
                    metadata=None,
                )
        # A reader (or another process building the same slide) never sees a half-written file.
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def mirrored_mosaic(tile: NDArray[np.uint8], repeat: int) -> NDArray[np.uint8]:
    """``repeat`` x ``repeat`` copies of ``tile``, every other one mirrored so edges meet."""
    row = np.concatenate([tile if j % 2 == 0 else tile[:, ::-1] for j in range(repeat)], axis=1)
    return np.concatenate([row if i % 2 == 0 else row[::-1] for i in range(repeat)], axis=0)


def bundled_ihc_tile() -> NDArray[np.uint8]:
    """scikit-image's bundled 512 x 512 Ki-67 IHC image (the demo's sample tile)."""
    from skimage import data  # imported lazily: heavy, and only demos and tests need it

    return np.asarray(data.immunohistochemistry(), dtype=np.uint8)  # type: ignore[no-untyped-call]


def ensure_demo_slide() -> str:
    """Build the demo slide from scikit-image's bundled IHC image unless it exists; its name."""
    path = slide_root() / DEMO_SLIDE_NAME
    if not path.is_file():
        tile = bundled_ihc_tile()
        # Mirrored copies rather than an upscale keep nuclei at their scanned size (the IHC
        # analysis is tuned for it) while giving a pyramid deep enough to zoom through.
        write_pyramidal_tiff(mirrored_mosaic(tile, DEMO_SLIDE_REPEAT), path, mpp=0.5)
    return DEMO_SLIDE_NAME
