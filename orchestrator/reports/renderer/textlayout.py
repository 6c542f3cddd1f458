"""Text layout in the renderer child: shape each line once, set each style up once.

WeasyPrint 70 lays a line out with a Pango layout, then *deactivates* it (drops the layout and
keeps its text) to save memory, and when drawing the page *reactivates* it: a new Pango
context and layout, the same text set again, and the whole line itemised and shaped a second
time before its glyphs are written. On the 20-page bench report that is ~3,400 lines shaped
twice (docs/performance.md has the figures).

``install()`` keeps the layout alive instead, and the first reactivation of a line uses it as
it is when nothing that drawing needs could differ from a fresh layout:

* the same style object (a ``::first-line`` copy, for instance, takes WeasyPrint's own path);
* no justification spacing (justified text is set again with word spacing added);
* no paragraph separator in the text. Drawing sets Pango's *single-paragraph mode*, which
  would make Pango lay the line out again; for text without separators the mode changes
  nothing, so such text is laid out in that mode from the start.

The kept layout may still carry the width the line was broken at (a fresh one has none): the
text fits that width on one line — WeasyPrint keeps a width only then; a split line is set
again without one — and the glyphs and advances of a line that fits do not depend on it.
Every later reactivation (a box drawn twice) and every other case take WeasyPrint's path;
after drawing, the layout is released as before.

Two per-call costs are also paid once per style object instead (WeasyPrint shares a computed
style between elements that cascade alike, so ~100 styles serve the 20-page report's ~4,000
layouts): what ``Layout.setup`` derives from the style (Pango context, language, font
description, decoration metrics, font features) and ``strut`` (line height and baseline,
which WeasyPrint looks up under a string key built from 16 style values on every call).

The page content is the same, operator for operator: tests/orchestrator/reports/
test_text_layout.py compares every library template in both languages, and text that takes
WeasyPrint's own path, with and without this module.
"""

from __future__ import annotations

from typing import Any

import weasyprint
from weasyprint.css import computed_values, units
from weasyprint.layout import inline
from weasyprint.text import line_break
from weasyprint.text.constants import LST_TO_ISO, PANGO_DIRECTION
from weasyprint.text.ffi import FROM_UNITS, ffi, gobject, pango, unicode_to_char_p
from weasyprint.text.fonts import font_features, get_font_description

SUPPORTED_WEASYPRINT = "70.0"
# Characters Pango may treat as paragraph or line separators (pango_find_paragraph_boundary
# and the line-breaking classes BK, CR, LF, NL).
_SEPARATORS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")

_STRUT_USERS = (line_break, inline, units, computed_values)  # modules that imported strut
_original: dict[str, Any] = {}


def _style_setup(style: Any) -> tuple[Any, ...]:
    """What ``Layout.setup`` derives from a style, computed once per style object: the Pango
    context, language, font description, decoration metrics and font-feature attribute.
    WeasyPrint shares one computed style between elements that cascade alike, and never
    changes a style's font, language or direction once computed (it changes copies)."""
    memo: tuple[Any, ...] | None = style.__dict__.get("_pathflow_setup")
    if memo is not None:
        return memo
    pango_context = ffi.gc(
        pango.pango_font_map_create_context(style.font_config.font_map), gobject.g_object_unref
    )
    pango.pango_context_set_round_glyph_positions(pango_context, False)
    pango.pango_context_set_base_dir(pango_context, PANGO_DIRECTION[style["direction"]])
    if style["font_language_override"] != "normal":
        lang_p, lang = unicode_to_char_p(
            LST_TO_ISO.get(style["font_language_override"].lower(), style["font_language_override"])
        )
    elif style["lang"]:
        lang_p, lang = unicode_to_char_p(style["lang"])
    else:
        lang = None
        language = pango.pango_language_get_default()
    if lang:
        language = pango.pango_language_from_string(lang_p)
        pango.pango_context_set_language(pango_context, language)
    font_description = get_font_description(style)
    metrics: tuple[Any, ...] = (None, None, None)
    if style["text_decoration_line"] != "none":
        font_metrics = ffi.gc(
            pango.pango_context_get_metrics(pango_context, font_description, language),
            pango.pango_font_metrics_unref,
        )
        metrics = (
            FROM_UNITS * pango.pango_font_metrics_get_ascent(font_metrics),
            FROM_UNITS * pango.pango_font_metrics_get_underline_position(font_metrics),
            FROM_UNITS * pango.pango_font_metrics_get_strikethrough_position(font_metrics),
            FROM_UNITS * pango.pango_font_metrics_get_underline_thickness(font_metrics),
            FROM_UNITS * pango.pango_font_metrics_get_strikethrough_thickness(font_metrics),
        )
    features = font_features(
        style["font_kerning"],
        style["font_variant_ligatures"],
        style["font_variant_position"],
        style["font_variant_caps"],
        style["font_variant_numeric"],
        style["font_variant_alternates"],
        style["font_variant_east_asian"],
        style["font_feature_settings"],
    )
    features_attr = None
    if features:
        key = ",".join(f"{name} {value}" for name, value in features.items()).encode()
        features_attr = style.font_config.font_features.setdefault(
            key, pango.pango_attr_font_features_new(key)
        )
    memo = (pango_context, language, font_description, metrics, features_attr)
    style._pathflow_setup = memo
    return memo


def _setup(self: Any, style: Any) -> None:
    """``Layout.setup`` with the per-style part computed once (``_style_setup``); the same
    Pango calls on the layout itself as WeasyPrint's."""
    self.style = style
    self.first_line_direction = 0
    pango_context, self.language, font_description, metrics, features_attr = _style_setup(style)
    self.layout = ffi.gc(pango.pango_layout_new(pango_context), gobject.g_object_unref)
    pango.pango_layout_set_auto_dir(self.layout, False)
    pango.pango_layout_set_font_description(self.layout, font_description)
    if metrics[0] is None:
        self.ascent = self.underline_position = self.strikethrough_position = None
    else:
        (
            self.ascent,
            self.underline_position,
            self.strikethrough_position,
            self.underline_thickness,
            self.strikethrough_thickness,
        ) = metrics
    if features_attr is not None:
        attr_list = pango.pango_attr_list_new()
        pango.pango_attr_list_insert(attr_list, features_attr)
        pango.pango_layout_set_attributes(self.layout, attr_list)


def _strut(style: Any) -> Any:
    """``strut`` remembered on the style object (WeasyPrint caches it by a string key built
    from 16 style values on every call: ~7,000 calls on the 20-page report)."""
    memo = style.__dict__.get("_pathflow_strut")
    if memo is None:
        memo = style._pathflow_strut = _original["strut"](style)
    return memo


def _set_text(self: Any, text: str, justify: bool = False) -> None:
    _original["set_text"](self, text, justify)
    if _SEPARATORS.isdisjoint(self.text):
        pango.pango_layout_set_single_paragraph_mode(self.layout, True)


def _deactivate(self: Any) -> None:
    if getattr(self, "_pathflow_drawn", False):
        _original["deactivate"](self)
    else:
        self._pathflow_kept = True  # laid out, not drawn yet: keep the shaped layout


def _reactivate(self: Any, style: Any) -> None:
    self._pathflow_drawn = True
    if getattr(self, "_pathflow_kept", False):
        self._pathflow_kept = False
        if (
            style is self.style
            and not self.justification_spacing
            and pango.pango_layout_get_single_paragraph_mode(self.layout)
        ):
            return
    _original["reactivate"](self, style)


def install() -> None:
    """Patch WeasyPrint's text layouts (idempotent)."""
    if _original:
        return
    if weasyprint.__version__ != SUPPORTED_WEASYPRINT:
        raise RuntimeError(
            f"kept text layouts were written for WeasyPrint {SUPPORTED_WEASYPRINT}, "
            f"found {weasyprint.__version__}: check orchestrator/reports/renderer/textlayout.py"
        )
    try:
        pango.pango_layout_get_single_paragraph_mode  # noqa: B018 (declared by WeasyPrint?)
    except AttributeError:
        ffi.cdef("gboolean pango_layout_get_single_paragraph_mode (PangoLayout *layout);")
    layout_class = line_break.Layout
    _original.update(
        setup=layout_class.setup,
        set_text=layout_class.set_text,
        deactivate=layout_class.deactivate,
        reactivate=layout_class.reactivate,
        strut=line_break.strut,
    )
    layout_class.setup = _setup
    layout_class.set_text = _set_text
    layout_class.deactivate = _deactivate
    layout_class.reactivate = _reactivate
    for module in _STRUT_USERS:
        module.strut = _strut


def uninstall() -> None:
    """Restore WeasyPrint's own text layouts (for tests that compare both)."""
    if not _original:
        return
    layout_class = line_break.Layout
    layout_class.setup = _original.pop("setup")
    layout_class.set_text = _original.pop("set_text")
    layout_class.deactivate = _original.pop("deactivate")
    layout_class.reactivate = _original.pop("reactivate")
    strut = _original.pop("strut")
    for module in _STRUT_USERS:
        module.strut = strut
