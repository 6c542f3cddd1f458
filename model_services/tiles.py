"""Conversion of ``ihc-dab`` request tensors into RGB pixel arrays.

Everything here is pure (no MLServer import) so the wire-format rules can be unit-tested
without a server. Every rejection raises :class:`TileError` whose message is meant to be
returned verbatim to the API client, so it names the input and what was wrong with it.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
from collections.abc import Sequence
from typing import Final

import numpy as np
from numpy.typing import NDArray
from PIL import Image

INPUT_NAME: Final = "tile"
MIN_TILE_SIDE: Final = 8
# Bounds memory and latency (~0.3 s per 512x512 tile, linear in pixels); larger slides must be
# tiled by the caller.
MAX_TILE_PIXELS: Final = 4096 * 4096

_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_JPEG_SIGNATURE: Final = b"\xff\xd8\xff"
# MPO is how Pillow reports multi-picture JPEGs written by some cameras and scanners.
_ACCEPTED_FORMATS: Final = frozenset({"PNG", "JPEG", "MPO"})
_GREYSCALE_MODES: Final = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "F"})
_DATA_URI_SEPARATOR: Final = b";base64,"

RGBImage = NDArray[np.uint8]


class TileError(ValueError):
    """The request's tile cannot be analysed; the message is safe to show to the client."""


def tile_from_tensor(datatype: str, shape: Sequence[int], data: object) -> RGBImage:
    """Decode the ``tile`` input tensor into an ``(H, W, 3)`` uint8 RGB array.

    ``BYTES`` tensors must hold exactly one element: a PNG or JPEG file, either raw or
    base64-encoded (str or bytes, optionally as a ``data:`` URI). ``UINT8`` tensors must have
    shape ``[H, W, 3]`` (or ``[1, H, W, 3]``) with values 0..255.
    """
    if datatype == "BYTES":
        elements = _flatten(data)
        if len(elements) != 1 or math.prod(shape) != 1:
            raise TileError(
                f"input '{INPUT_NAME}' must hold exactly one encoded image (shape [1]), "
                f"got shape {list(shape)} with {len(elements)} element(s)"
            )
        return decode_image(image_bytes_from_element(elements[0]))
    if datatype == "UINT8":
        return rgb_from_uint8_tensor(shape, data)
    raise TileError(
        f"input '{INPUT_NAME}' has datatype {datatype}; expected BYTES (one base64-encoded "
        "PNG/JPEG) or UINT8 (an [H, W, 3] RGB array)"
    )


def image_bytes_from_element(element: object) -> bytes:
    """Return the encoded image file held by one ``BYTES`` element.

    Raw PNG/JPEG bytes are returned unchanged (MLServer's base64 codec or a gRPC client may
    already have decoded them); anything else must be standard or URL-safe base64 text.
    """
    if isinstance(element, (bytes, bytearray, memoryview)):
        raw = bytes(element)
        if _has_image_signature(raw):
            return raw
    elif isinstance(element, str):
        try:
            raw = element.encode("ascii")
        except UnicodeEncodeError as exc:
            raise TileError(
                f"input '{INPUT_NAME}' is not base64 text (non-ASCII characters)"
            ) from exc
    else:
        raise TileError(
            f"input '{INPUT_NAME}' element must be a base64 string or bytes, "
            f"got {type(element).__name__}"
        )
    return _decode_base64(raw)


def decode_image(data: bytes) -> RGBImage:
    """Decode PNG or JPEG bytes into an RGB array; transparency is flattened onto white.

    Greyscale images are rejected: colour deconvolution needs all three channels.
    """
    if not _has_image_signature(data):
        raise TileError(
            f"input '{INPUT_NAME}' is not a PNG or JPEG image (unrecognised file signature)"
        )
    try:
        # verify() catches truncated files even where a library in the same process (WeasyPrint)
        # has switched on PIL's global LOAD_TRUNCATED_IMAGES.
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in _ACCEPTED_FORMATS:
                raise TileError(
                    f"input '{INPUT_NAME}' is a {image.format} image; expected PNG/JPEG"
                )
            _check_size(image.height, image.width)
            if image.mode in _GREYSCALE_MODES:
                raise TileError(
                    f"input '{INPUT_NAME}' is a greyscale image (mode {image.mode}); "
                    "an RGB brightfield tile is required"
                )
            rgb = _to_rgb(image)
    except TileError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise TileError(f"input '{INPUT_NAME}' could not be decoded as an image: {exc}") from exc
    return np.asarray(rgb, dtype=np.uint8)


def rgb_from_uint8_tensor(shape: Sequence[int], data: object) -> RGBImage:
    """Validate and reshape a ``UINT8`` tensor of shape ``[H, W, 3]`` or ``[1, H, W, 3]``."""
    dims = [int(dim) for dim in shape]
    if len(dims) == 4 and dims[0] == 1:
        dims = dims[1:]
    if len(dims) != 3 or dims[2] != 3:
        raise TileError(
            f"input '{INPUT_NAME}' UINT8 tensor must have shape [H, W, 3], got {list(shape)}"
        )
    _check_size(dims[0], dims[1])
    values = _as_array(data)
    if values.size != math.prod(dims):
        raise TileError(
            f"input '{INPUT_NAME}' has {values.size} values but shape {list(shape)} "
            f"needs {math.prod(dims)}"
        )
    if values.dtype.kind not in "iu":
        raise TileError(f"input '{INPUT_NAME}' UINT8 tensor must hold integers 0..255")
    if values.size and (int(values.min()) < 0 or int(values.max()) > 255):
        raise TileError(f"input '{INPUT_NAME}' UINT8 values must lie in 0..255")
    return values.astype(np.uint8).reshape(dims)


def check_rgb_array(array: NDArray[np.generic]) -> RGBImage:
    """Validate an in-process ``(H, W, 3)`` uint8 array against the same limits as requests."""
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise TileError(f"tile must be a uint8 (H, W, 3) array, got {array.dtype} {array.shape}")
    _check_size(array.shape[0], array.shape[1])
    return array.astype(np.uint8, copy=False)


def _decode_base64(text: bytes) -> bytes:
    if text.startswith(b"data:") and _DATA_URI_SEPARATOR in text:
        text = text.split(_DATA_URI_SEPARATOR, 1)[1]
    # Line-wrapped (MIME) and URL-safe encodings are common in hand-written clients.
    compact = b"".join(text.split()).replace(b"-", b"+").replace(b"_", b"/")
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise TileError(
            f"input '{INPUT_NAME}' is neither a PNG or JPEG file nor valid base64: {exc}"
        ) from exc


def _has_image_signature(data: bytes) -> bool:
    return data.startswith(_PNG_SIGNATURE) or data.startswith(_JPEG_SIGNATURE)


def _check_size(height: int, width: int) -> None:
    if height < MIN_TILE_SIDE or width < MIN_TILE_SIDE:
        raise TileError(
            f"input '{INPUT_NAME}' is {height}x{width} pixels; each side must be at least "
            f"{MIN_TILE_SIDE}"
        )
    if height * width > MAX_TILE_PIXELS:
        raise TileError(
            f"input '{INPUT_NAME}' is {height}x{width} pixels; at most {MAX_TILE_PIXELS} "
            "pixels are accepted, split larger regions into tiles"
        )


def _to_rgb(image: Image.Image) -> Image.Image:
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    if not has_alpha:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    # Transparent pixels carry no tissue; white is what an empty brightfield field looks like.
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _as_array(data: object) -> NDArray[np.generic]:
    root = getattr(data, "root", data)
    try:
        return np.asarray(root).ravel()
    except ValueError as exc:
        # numpy refuses ragged nested lists; that is a client-side shape error.
        raise TileError(f"input '{INPUT_NAME}' data is not a rectangular array: {exc}") from exc


def _flatten(data: object) -> list[object]:
    root = getattr(data, "root", data)
    if isinstance(root, np.ndarray):
        return list(root.ravel())
    if isinstance(root, (list, tuple)):
        flat: list[object] = []
        for item in root:
            flat.extend(_flatten(item) if isinstance(item, (list, tuple)) else [item])
        return flat
    return [root]
