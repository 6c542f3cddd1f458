"""Slide references read with OpenSlide: the demo pyramid, regions for models, safe names."""

from __future__ import annotations

import io

import numpy as np
import openslide
import pytest
from PIL import Image

from orchestrator.accounts.models import Department
from orchestrator.cases.services import CaseDocumentInvalid, create_case
from orchestrator.cases.slide_pyramid import (
    bundled_ihc_tile,
    mirrored_mosaic,
    write_pyramidal_tiff,
)
from orchestrator.cases.slides import open_slide, slide_root
from orchestrator.cases.tiles import load_tile_png
from tests.conftest import case_document
from workflows.errors import NodeError


def png_pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"))


def test_the_demo_slide_is_a_generic_tiff_pyramid_openslide_reads(demo_slide: str) -> None:
    opened = open_slide(demo_slide)

    assert openslide.OpenSlide.detect_format(str(slide_root() / demo_slide)) == "generic-tiff"
    assert opened.dimensions == (4096, 4096)
    assert opened.slide.level_dimensions == (
        (4096, 4096),
        (2048, 2048),
        (1024, 1024),
        (512, 512),
        (256, 256),
    )
    assert opened.microns_per_pixel == pytest.approx(0.5)
    # Deep Zoom halves down to 1 px: ceil(log2(4096)) + 1 levels, 17 x 17 tiles at the top.
    assert opened.deepzoom.level_count == 13
    assert opened.deepzoom.level_tiles[12] == (17, 17)


def test_a_level_0_region_holds_exactly_the_pixels_written(demo_slide: str) -> None:
    png = load_tile_png({"uri": f"slide:{demo_slide}", "region": [0, 0, 512, 512]})

    assert np.array_equal(png_pixels(png), bundled_ihc_tile())


def test_a_region_at_a_lower_level_is_read_downsampled(demo_slide: str) -> None:
    png = load_tile_png(
        {"uri": f"slide:{demo_slide}", "region": [1024, 512, 2048, 1024], "level": 2}
    )

    assert png_pixels(png).shape == (256, 512, 3)


def test_it_refuses_a_whole_slide_or_a_bad_region_for_a_model_naming_every_problem(
    demo_slide: str,
) -> None:
    with pytest.raises(NodeError, match=r'a model reads a region of it: add "region"'):
        load_tile_png({"uri": f"slide:{demo_slide}"})
    with pytest.raises(NodeError) as raised:
        load_tile_png({"uri": f"slide:{demo_slide}", "region": [4000, 0, 512, 512], "level": 7})
    assert "level 7 does not exist (the slide has 0-4)" in str(raised.value)
    assert "region [4000, 0, 512, 512] is not inside the slide (4096x4096)" in str(raised.value)
    assert raised.value.permanent


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "/etc/passwd", "demo/../../secret_key", ".hidden.tiff", "x.tiff"]
)
def test_it_resolves_slide_names_only_to_files_in_the_slide_store(
    demo_slide: str, name: str
) -> None:
    with pytest.raises(NodeError, match="in the slide store"):
        load_tile_png({"uri": f"slide:{name}", "region": [0, 0, 64, 64]})


def test_a_file_that_is_not_a_slide_is_refused_with_its_name(demo_slide: str) -> None:
    (slide_root() / "notes.tiff").write_text("not an image")

    with pytest.raises(NodeError, match=r"'notes\.tiff' is not an image OpenSlide can read"):
        load_tile_png({"uri": "slide:notes.tiff", "region": [0, 0, 64, 64]})


def test_an_open_slide_is_reused_from_the_processes_cache(demo_slide: str) -> None:
    assert open_slide(demo_slide) is open_slide(demo_slide)


def test_a_replaced_slide_file_is_opened_again(demo_slide: str) -> None:
    tile = bundled_ihc_tile()
    path = slide_root() / "replaced.tiff"
    write_pyramidal_tiff(mirrored_mosaic(tile, 2), path)
    before = open_slide("replaced.tiff")
    write_pyramidal_tiff(mirrored_mosaic(tile, 4), path)

    after = open_slide("replaced.tiff")

    assert before.dimensions == (1024, 1024)
    assert after.dimensions == (2048, 2048)
    assert after.version != before.version


@pytest.mark.django_db
def test_a_case_document_with_malformed_slide_references_lists_every_problem(
    department: Department,
) -> None:
    document = case_document("breast-resection")
    document["specimens"][0]["tiles"] = [
        {"uri": "slide:../outside.svs"},
        {"uri": "slide:ok.svs", "region": [0, 0, 512], "level": -1},
        {"uri": "slide:not-scanned-yet.svs", "region": [0, 0, 512, 512]},
    ]

    with pytest.raises(CaseDocumentInvalid) as raised:
        create_case(department, document)

    assert raised.value.problems == [
        "specimens[0].tiles[0]: slide name '../outside.svs' is not a file name in the slide store",
        "specimens[0].tiles[1].region: must be [x, y, width, height] in whole level-0 pixels",
        "specimens[0].tiles[1].level: must be a whole number from 0",
    ]
