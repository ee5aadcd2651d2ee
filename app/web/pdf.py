"""A board report as PDF: HTML with inline SVG charts, laid out by WeasyPrint in fonts that
cover every script patients write in.

WeasyPrint draws text with Pango and HarfBuzz, so Arabic and Urdu join and run right to
left and Bengali, Gujarati and Gurmukhi vowel signs sit where they belong; it embeds a
subset of each font it uses. It needs Pango (Debian: `libpango-1.0-0`) and fonts for the
scripts (Debian: `fonts-noto-core` and `fonts-noto-cjk`). Without Pango this module still
imports, so that the rest of WeSaid runs, and `render_pdf` says what to install.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from functools import cache

from app.core.errors import WeSaidError

try:
    import weasyprint
except OSError as exc:  # Pango is missing: only PDFs are unavailable
    weasyprint = None
    _UNAVAILABLE = str(exc)
else:
    _UNAVAILABLE = ""

__all__ = ["FONT_FAMILIES", "SCRIPT_SAMPLES", "PdfUnavailable", "render_pdf", "uncovered"]

#: The fonts a report asks for, in order; Pango falls back along the list glyph by glyph.
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
#: For each script patients write in, the locales that use it and letters that only a
#: font covering the script has (checked against the installed fonts by `uncovered`).
SCRIPT_SAMPLES: dict[str, tuple[tuple[str, ...], str]] = {
    "Latin": (("en", "cy", "es", "lt", "pl", "pt", "ro", "so"), "ŵŷłąėșțã"),
    "Arabic": (("ar", "ur"), "بےڈں"),
    "Bengali": (("bn",), "কৌ"),
    "Gujarati": (("gu",), "કૌ"),
    "Gurmukhi": (("pa",), "ਕੌ"),
    "Han (simplified)": (("zh_Hans",), "们说"),
}
#: What to install where fonts are missing (Debian and Ubuntu package names).
FONT_PACKAGES = "fonts-noto-core fonts-noto-cjk"


class PdfUnavailable(WeSaidError):
    """This machine cannot write PDFs (Pango is not installed)."""


def render_pdf(html: str, base_url: str | None = None) -> bytes:
    """The PDF of `html` (a whole document with its own print style sheet). Raises
    PdfUnavailable when Pango is missing."""
    if weasyprint is None:
        raise PdfUnavailable(
            "writing PDFs needs Pango (Debian: apt-get install libpango-1.0-0 "
            f"{FONT_PACKAGES}): {_UNAVAILABLE}"
        )
    document = weasyprint.HTML(string=html, base_url=base_url)
    pdf: bytes = document.write_pdf()
    return pdf


def uncovered(scripts: Iterable[str] = SCRIPT_SAMPLES) -> list[str] | None:
    """The scripts among `scripts` for which no installed font has every sample letter,
    as fontconfig sees them; None where fontconfig's `fc-list` is missing, so nobody
    can tell."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    return [script for script in scripts if not _covered(fc_list, SCRIPT_SAMPLES[script][1])]


@cache
def _covered(fc_list: str, letters: str) -> bool:
    charset = " ".join(f"{ord(letter):x}" for letter in letters)
    found = subprocess.run(
        [fc_list, f":charset={charset}", "family"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return bool(found.stdout.strip())
