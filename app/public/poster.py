"""A clinic's public page as an A4 poster for the waiting room (PDF).

WeasyPrint lays it out with Pango and HarfBuzz in Noto fonts, so every script patients
read (Arabic and Urdu right to left, Bengali, Gujarati, Gurmukhi, Chinese) is drawn
properly and embedded. It needs Pango (Debian: `libpango-1.0-0`) and the fonts
(`fonts-noto-core fonts-noto-cjk`); without Pango the rest of WeSaid still runs and a
poster is refused with a message that says what to install (`app.core.pdf`).
"""

from __future__ import annotations

from typing import Any

from flask import render_template

from app.core.pdf import FONT_FAMILIES, render_pdf


def render(**context: Any) -> bytes:
    """The poster's PDF from the public page's context."""
    fonts = ", ".join(f'"{family}"' for family in FONT_FAMILIES)
    html = render_template("public/poster.html", fonts=fonts, **context)
    return render_pdf(html)
