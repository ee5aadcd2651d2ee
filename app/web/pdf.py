"""The board report's PDF: WeasyPrint (`app.core.pdf`) in fonts that cover every script
patients write in, and a check of which scripts the installed fonts cover.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from functools import cache

from app.core.pdf import FONT_FAMILIES, FONT_PACKAGES, PdfUnavailable, render_pdf

__all__ = [
    "FONT_FAMILIES",
    "FONT_PACKAGES",
    "SCRIPT_SAMPLES",
    "PdfUnavailable",
    "render_pdf",
    "uncovered",
]

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
