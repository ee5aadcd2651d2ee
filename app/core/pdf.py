"""HTML to PDF with WeasyPrint: the board report and the waiting-room poster.

WeasyPrint draws text with Pango and HarfBuzz, so Arabic and Urdu join and run right to
left and Bengali, Gujarati and Gurmukhi vowel signs sit where they belong; it embeds a
subset of each font it uses. It needs Pango (Debian: `libpango-1.0-0`) and fonts for the
scripts (Debian: `fonts-noto-core` and `fonts-noto-cjk`).

WeasyPrint is imported when the first PDF is written, not when WeSaid starts: importing
it takes over half a second, which every web process, worker and command would pay for
a page few of them make. Without Pango the rest of WeSaid runs, and `render_pdf` says
what to install.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from app.core.errors import WeSaidError

#: The fonts a document asks for, in order; Pango falls back along the list glyph by glyph.
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
#: What to install where fonts are missing (Debian and Ubuntu package names).
FONT_PACKAGES = "fonts-noto-core fonts-noto-cjk"


class PdfUnavailable(WeSaidError):
    """This machine cannot write PDFs (Pango is not installed)."""


@cache
def _weasyprint() -> tuple[Any, str]:
    """WeasyPrint, or None and why it cannot be loaded (Pango is missing)."""
    try:
        # lazily: over half a second of start-up for every process otherwise (see above)
        import weasyprint
    except OSError as exc:
        return None, str(exc)
    return weasyprint, ""


def render_pdf(html: str, base_url: str | None = None) -> bytes:
    """The PDF of `html` (a whole document with its own print style sheet). Raises
    PdfUnavailable when Pango is missing."""
    weasyprint, unavailable = _weasyprint()
    if weasyprint is None:
        raise PdfUnavailable(
            "writing PDFs needs Pango (Debian: apt-get install libpango-1.0-0 "
            f"{FONT_PACKAGES}): {unavailable}"
        )
    pdf: bytes = weasyprint.HTML(string=html, base_url=base_url).write_pdf()
    return pdf
