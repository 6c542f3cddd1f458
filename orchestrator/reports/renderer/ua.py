"""The user-agent stylesheet for reports: WeasyPrint's HTML one, minus per-element pseudo-elements.

WeasyPrint's UA stylesheet styles ``::footnote-call``, ``::footnote-marker``, ``::note-*`` and
``::marker`` on *every* element, so the cascade computes up to five pseudo-element styles per
element. On a 20-page specimen table that was a quarter of the render time (measured: 2.0 s →
1.5 s CPU for the same 19 pages). Reports keep everything else of the HTML defaults; markers
are styled on list items only, and footnote rules apply to elements of class ``footnote`` (a
custom layout that floats a note with ``float: footnote`` gives it that class).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import weasyprint
from weasyprint.css.counters import CounterStyle

_UA_FILE = Path(weasyprint.__file__).parent / "css" / "html5_ua.css"
_SCOPED = {
    "::marker {": "li::marker {",
    "::footnote-call {": ".footnote::footnote-call {",
    "::footnote-marker {": ".footnote::footnote-marker {",
}
_DROPPED = ("::note-call {", "::note-marker {", "::note-callback {")


def report_ua_css() -> str:
    lines = []
    for line in _UA_FILE.read_text(encoding="utf-8").splitlines():
        if line.startswith(_DROPPED):
            continue
        for prefix, scoped in _SCOPED.items():
            if line.startswith(prefix):
                line = scoped + line[len(prefix) :]
        lines.append(line)
    css = "\n".join(lines)
    missing = [s for s in _SCOPED.values() if s not in css]
    if missing:
        raise RuntimeError(f"WeasyPrint's UA stylesheet changed; not found: {missing}")
    return css


@lru_cache(maxsize=1)
def report_ua_stylesheet() -> weasyprint.CSS:
    # Its @counter-style rules are WeasyPrint's own, already known to the UA counter styles.
    return weasyprint.CSS(string=report_ua_css(), counter_style=CounterStyle())


class ReportHTML(weasyprint.HTML):  # type: ignore[misc]
    """``weasyprint.HTML`` with the report UA stylesheet in place of WeasyPrint's."""

    def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
        return [report_ua_stylesheet(), *super()._ua_stylesheets(forms)[1:]]
