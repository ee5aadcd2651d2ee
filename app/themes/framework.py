"""The code-book: the NHS England patient experience qualitative data categorisation
framework, as versioned data (pure).

`framework.json` holds the framework's categories and subcategories, with the names as
the framework publishes them ("Staff manner & personal attributes"), and a stable key
of our own for each. Free text is coded against the subcategories (the "themes"); the
categories group them on reports. The JSON is the record: the database's code-book is
loaded from it (app.themes.service.load_codebook), and an organisation may add codes of
its own beside it.

Names are matched loosely where people type them (a labelled CSV, a PALS export): case,
repeated spaces and spaces around "/" and "&" are ignored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class FrameworkTheme:
    """One subcategory of the framework."""

    key: str
    name: str
    category_key: str
    category: str


@dataclass(frozen=True)
class Framework:
    """The framework of one version: its themes in the published order."""

    name: str
    version: str
    themes: tuple[FrameworkTheme, ...]

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(theme.category for theme in self.themes))

    def by_key(self, key: str) -> FrameworkTheme | None:
        return next((theme for theme in self.themes if theme.key == key), None)

    def by_name(self, name: str) -> FrameworkTheme | None:
        """The theme named `name` as the framework publishes it (loosely matched)."""
        wanted = name_key(name)
        return next((theme for theme in self.themes if name_key(theme.name) == wanted), None)


def name_key(name: str) -> str:
    """A theme name reduced for matching: lower case, single spaces, no spaces around
    "/" or "&" ("Transport to/ from services" = "transport to/from services")."""
    text = " ".join(name.split()).casefold()
    return re.sub(r"\s*([/&,])\s*", r"\1", text)


@cache
def framework() -> Framework:
    """The framework shipped with this version of WeSaid."""
    raw: dict[str, Any] = json.loads(
        resources.files("app.themes").joinpath("framework.json").read_text(encoding="utf-8")
    )
    themes = tuple(
        FrameworkTheme(sub["key"], sub["name"], category["key"], category["name"])
        for category in raw["categories"]
        for sub in category["subcategories"]
    )
    return Framework(raw["framework"], str(raw["version"]), themes)
