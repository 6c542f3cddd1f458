"""Compact embedding of CID-keyed CFF fonts (Noto Sans CJK): why our Chinese PDFs are small.

WeasyPrint 70 subsets every font *retaining glyph ids*: the content streams keep the original
glyph ids, so the subset keeps an empty slot for every glyph below the highest one used. Chinese
glyphs sit high in Noto Sans CJK (ids up to 65,535), so each embedded weight carried ~63,000
empty CharStrings entries, an ``hmtx`` and a ``vmtx`` of 250 KB each: 166 KB compressed per
weight for ~200 glyphs whose outlines take 24 KB (measured on the breast report, 2 weights →
344 KB PDF).

Noto Sans CJK is CID-keyed with the identity ordering (CID n is glyph n), and a PDF reader
finds the glyphs of a *bare* CID-keyed CFF program (``FontFile3 /CIDFontType0C``, the classic
way CJK fonts are embedded) through the CFF charset, by CID. So for such fonts we subset
*without* retaining glyph ids (HarfBuzz keeps each glyph's CID in the charset), embed only the
``CFF`` table, and leave WeasyPrint's content streams, widths and ToUnicode map — all keyed by
the original ids, which are the CIDs — untouched. A font that is not CID-keyed with identity
CIDs falls back to WeasyPrint's own subsetting.

``install()`` patches two WeasyPrint functions; WeasyPrint is pinned (pyproject.toml) and the
patch checks the version, so an upgrade fails loudly in tests instead of printing wrong glyphs.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import weasyprint
from fontTools.cffLib import CFFFontSet  # type: ignore[import-untyped]
from weasyprint import pdf as weasy_pdf
from weasyprint.pdf import fonts as weasy_fonts
from weasyprint.text.ffi import ffi, harfbuzz, harfbuzz_subset

logger = logging.getLogger(__name__)

SUPPORTED_WEASYPRINT = "70.0"
_DROPPED_TABLES = (b"BASE", b"DSIG", b"EBDT", b"EBLC", b"EBSC", b"GPOS", b"GSUB", b"JSTF")
_installed = False


def _table(face: Any, tag: bytes) -> bytes:
    blob = harfbuzz.hb_face_reference_table(face, harfbuzz.hb_tag_from_string(tag, -1))
    length = ffi.new("unsigned int *")
    data = harfbuzz.hb_blob_get_data(blob, length)
    content = b"" if data == ffi.NULL else bytes(ffi.unpack(data, int(length[0])))
    harfbuzz.hb_blob_destroy(blob)
    return content


def _compact_cff(font: Any, glyph_ids: list[int]) -> bytes | None:
    """The bare CFF table of ``font`` subset to ``glyph_ids`` (new, dense glyph ids; CIDs kept),
    or None when the font is not CID-keyed with identity CIDs."""
    subset_input = ffi.gc(
        harfbuzz_subset.hb_subset_input_create_or_fail(), harfbuzz_subset.hb_subset_input_destroy
    )
    glyph_set = harfbuzz_subset.hb_subset_input_glyph_set(subset_input)
    wanted = sorted({0, *glyph_ids})
    array = ffi.new(f"hb_codepoint_t[{len(wanted)}]", wanted)
    harfbuzz.hb_set_add_sorted_array(glyph_set, array, len(wanted))
    drop_set = harfbuzz_subset.hb_subset_input_set(
        subset_input, harfbuzz_subset.HB_SUBSET_SETS_DROP_TABLE_TAG
    )
    tags = sorted(harfbuzz.hb_tag_from_string(name, -1) for name in _DROPPED_TABLES)
    tag_array = ffi.new(f"hb_codepoint_t[{len(tags)}]", tags)
    harfbuzz.hb_set_add_sorted_array(drop_set, tag_array, len(tags))
    harfbuzz_subset.hb_subset_input_set_flags(
        subset_input,
        harfbuzz_subset.HB_SUBSET_FLAGS_DESUBROUTINIZE | harfbuzz_subset.HB_SUBSET_FLAGS_NO_HINTING,
    )
    face = harfbuzz_subset.hb_subset_or_fail(font.hb_face, subset_input)
    if face == ffi.NULL:
        return None
    face = ffi.gc(face, harfbuzz.hb_face_destroy)
    cff = _table(face, b"CFF ")
    if not cff:
        return None
    fonts = CFFFontSet()
    fonts.decompile(io.BytesIO(cff), None)
    top = fonts[fonts.fontNames[0]]
    if not hasattr(top, "ROS"):
        return None  # name-keyed CFF: readers would not look glyphs up by CID
    expected = {".notdef", *(f"cid{gid:05d}" for gid in wanted if gid)}
    if not expected <= set(top.charset):
        # The CIDs are not the original glyph ids. (HarfBuzz may add a few glyphs through
        # layout closure; they cost a little and do no harm.)
        return None
    return cff


def _subset(self: Any, to_unicode: dict[int, str], hinting: bool) -> None:
    if to_unicode and not self.missing and "CFF " in self.tables and "fvar" not in self.tables:
        cff = _compact_cff(self, list(to_unicode))
        if cff is not None:
            self.file_content = cff
            self.bare_cid_cff = True
            return
    _original_subset(self, to_unicode, hinting)


def _font_type(self: Any) -> str:
    if getattr(self, "bare_cid_cff", False):
        return "otf"  # a CFF program: WeasyPrint writes FontFile3 and a CIDFontType0
    return "otf" if self.file_content[:4] == b"OTTO" else "ttf"


def _resolve(pdf: Any, reference: bytes) -> Any:
    """The object behind a pydyf reference (``b"12 0 R"``)."""
    return pdf.objects[int(reference.split()[0])]


def _build_fonts_dictionary(pdf: Any, fonts: Any, compress: Any, subset: Any, options: Any) -> Any:
    pdf_fonts = _original_build(pdf, fonts, compress, subset, options)
    bare = {font.hash for font in fonts.values() if getattr(font, "bare_cid_cff", False)}
    for font_hash, reference in pdf_fonts.items():
        if font_hash not in bare:
            continue
        font_dict = _resolve(pdf, reference)
        cid_font = _resolve(pdf, font_dict["DescendantFonts"][0])
        descriptor = _resolve(pdf, cid_font["FontDescriptor"])
        _resolve(pdf, descriptor["FontFile3"]).extra["Subtype"] = "/CIDFontType0C"
    return pdf_fonts


_original_subset = weasy_fonts.Font.subset
_original_build = weasy_fonts.build_fonts_dictionary


def install() -> None:
    """Switch WeasyPrint to compact CID-keyed CFF embedding (idempotent)."""
    global _installed
    if _installed:
        return
    if weasyprint.__version__ != SUPPORTED_WEASYPRINT:
        raise RuntimeError(
            f"compact CJK font embedding was written for WeasyPrint {SUPPORTED_WEASYPRINT}, "
            f"found {weasyprint.__version__}: check orchestrator/reports/renderer/fonts.py"
        )
    weasy_fonts.Font.subset = _subset
    weasy_fonts.Font.type = property(_font_type)
    weasy_pdf.build_fonts_dictionary = _build_fonts_dictionary
    _installed = True
