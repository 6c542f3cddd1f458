"""Decoding of ``ihc-dab`` request tensors: accepted encodings and precise rejections."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from model_services.tiles import MAX_TILE_PIXELS, TileError, tile_from_tensor

RNG = np.random.default_rng(7)
TILE = RNG.integers(0, 256, size=(24, 32, 3), dtype=np.uint8)


def encode(image: Image.Image, image_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


def png_bytes(rgb: NDArray[np.uint8] = TILE) -> bytes:
    return encode(Image.fromarray(rgb))


def decode_bytes_element(element: object) -> NDArray[np.uint8]:
    return tile_from_tensor("BYTES", [1], [element])


@pytest.mark.parametrize(
    "element",
    [
        base64.b64encode(png_bytes()).decode("ascii"),
        base64.b64encode(png_bytes()),
        png_bytes(),
        "data:image/png;base64," + base64.b64encode(png_bytes()).decode("ascii"),
        base64.encodebytes(png_bytes()).decode("ascii"),
        base64.urlsafe_b64encode(png_bytes()).decode("ascii"),
    ],
    ids=["base64-str", "base64-bytes", "raw-bytes", "data-uri", "mime-wrapped", "url-safe"],
)
def test_it_decodes_a_png_tile_in_every_supported_encoding(element: object) -> None:
    np.testing.assert_array_equal(decode_bytes_element(element), TILE)


def test_it_decodes_a_jpeg_tile() -> None:
    rgb = decode_bytes_element(encode(Image.fromarray(TILE), "JPEG"))

    assert rgb.shape == TILE.shape
    assert rgb.dtype == np.uint8


def test_it_flattens_transparency_onto_white() -> None:
    transparent = Image.new("RGBA", (16, 16), (10, 20, 30, 0))

    rgb = decode_bytes_element(encode(transparent))

    assert (rgb == 255).all()


def test_it_accepts_a_uint8_tensor_with_or_without_batch_dimension() -> None:
    flat = TILE.ravel().tolist()

    np.testing.assert_array_equal(tile_from_tensor("UINT8", [24, 32, 3], flat), TILE)
    np.testing.assert_array_equal(tile_from_tensor("UINT8", [1, 24, 32, 3], TILE.tolist()), TILE)


@pytest.mark.parametrize(
    ("datatype", "shape", "data", "message"),
    [
        ("BYTES", [1], [base64.b64encode(b"plain text").decode()], "not a PNG or JPEG"),
        ("BYTES", [1], ["%%%"], "valid base64"),
        ("BYTES", [1], ["ünïcode"], "non-ASCII"),
        ("BYTES", [1], [png_bytes()[:60]], "could not be decoded"),
        ("BYTES", [2], [png_bytes(), png_bytes()], "exactly one"),
        ("BYTES", [1], [12345], "base64 string or bytes"),
        ("BYTES", [1], [encode(Image.new("L", (16, 16)))], "greyscale"),
        ("BYTES", [1], [encode(Image.new("RGB", (4, 4)))], "at least 8"),
        ("BYTES", [1], [encode(Image.new("RGB", (16, 16)), "GIF")], "neither a PNG or JPEG"),
        ("FP32", [16, 16, 3], [0.0] * 768, "expected BYTES"),
        ("UINT8", [16, 16], [0] * 256, "shape [H, W, 3]"),
        ("UINT8", [16, 16, 3], [0] * 700, "needs 768"),
        ("UINT8", [16, 16, 3], [256] * 768, "0..255"),
        ("UINT8", [16, 16, 3], [0.5] * 768, "integers"),
        ("UINT8", [16, 16, 3], [[0, 0], [0]], "rectangular"),
    ],
    ids=[
        "not-an-image",
        "not-base64",
        "non-ascii",
        "truncated-png",
        "two-images",
        "not-text",
        "greyscale",
        "too-small",
        "gif",
        "float-tensor",
        "missing-channels",
        "too-few-values",
        "out-of-range",
        "fractional",
        "ragged",
    ],
)
def test_it_rejects_an_unusable_tile_with_a_specific_message(
    datatype: str, shape: list[int], data: list[object], message: str
) -> None:
    with pytest.raises(TileError, match=re.escape(message)):
        tile_from_tensor(datatype, shape, data)


def test_it_rejects_a_tile_too_large_to_analyse_before_decoding_pixels() -> None:
    side = int(MAX_TILE_PIXELS**0.5) + 1

    with pytest.raises(TileError, match="at most"):
        tile_from_tensor("UINT8", [side, side, 3], [])
