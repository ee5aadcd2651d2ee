"""A clinic's public page as an A4 poster for the waiting room (PDF).

WeasyPrint lays it out with Pango and HarfBuzz in Noto fonts, so every script patients
read (Arabic and Urdu right to left, Bengali, Gujarati, Gurmukhi, Chinese) is drawn
properly and embedded. It needs Pango (Debian: `libpango-1.0-0`) and the fonts
(`fonts-noto-core fonts-noto-cjk`); without Pango the rest of WeSaid still runs and a
poster is refused with a message that says what to install.
"""

from __future__ import annotations

from typing import Any

from flask import render_template

from app.core.errors import WeSaidError

try:
    import weasyprint
except OSError as exc:  # Pango is missing: only the poster is unavailable
    weasyprint = None
    _UNAVAILABLE = str(exc)
else:
    _UNAVAILABLE = ""

#: The fonts the poster asks for, in order; Pango falls back glyph by glyph.
FONT_FAMILIES = (
    "Noto Sans",
    "Noto Sans Arabic",
    "Noto Nastaliq Urdu",
    "Noto Sans Bengali",
    "Noto Sans Gujarati",
    "Noto Sans Gurmukhi",
    "Noto Sans CJK SC",
    "DejaVu Sans",
)


class PosterUnavailable(WeSaidError):
    """This machine cannot write PDFs (Pango is not installed)."""


def render(**context: Any) -> bytes:
    """The poster's PDF from the public page's context."""
    if weasyprint is None:
        raise PosterUnavailable(
            "a poster needs Pango (Debian: apt-get install libpango-1.0-0 fonts-noto-core "
            f"fonts-noto-cjk): {_UNAVAILABLE}"
        )
    fonts = ", ".join(f'"{family}"' for family in FONT_FAMILIES)
    html = render_template("public/poster.html", fonts=fonts, **context)
    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf
