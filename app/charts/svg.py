"""Building SVG safely: elements through ElementTree (which escapes every text and
attribute), labels cleaned of characters XML cannot hold, and ids under a prefix.

Charts carry no style attributes or elements (the pages' Content-Security-Policy refuses
inline style), no script and no fixed size: a viewBox, width 100% and presentation
attributes only. Text inherits the page's font.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass

from app.charts.palette import NHS

SVG_NS = "http://www.w3.org/2000/svg"
#: Characters XML 1.0 allows; anything else in a label is dropped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,40}")
#: Font sizes in viewBox units.
FONT_SIZE = 14
SMALL_FONT_SIZE = 12
#: The average width of a character at FONT_SIZE, for laying out labels.
CHAR_WIDTH = 7.6


def clean_text(text: object) -> str:
    """A label as text XML can carry: characters it forbids removed, whitespace runs
    collapsed. Escaping is left to the serialiser."""
    return " ".join(_NOT_XML.sub("", str(text)).split())


def check_prefix(prefix: str) -> str:
    """`prefix` if it can start unique ids (a letter, then letters, digits, - or _)."""
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"an id prefix must be a letter then letters, digits, - or _: {prefix!r}")
    return prefix


def num(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def points(pairs: Iterable[tuple[float, float]]) -> str:
    """An SVG points list."""
    return " ".join(f"{num(x)},{num(y)}" for x, y in pairs)


def element(
    parent: ET.Element, tag: str, text: str | None = None, /, **attrs: object
) -> ET.Element:
    """A child element; attribute names take - for _ (stroke_width → stroke-width), values
    are written as given (floats as coordinates), None values are left out."""
    child = ET.SubElement(parent, tag)
    for key, value in attrs.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        child.set(name, num(value) if isinstance(value, float) else clean_text(value))
    if text is not None:
        child.text = clean_text(text)
    return child


def truncate(text: str, width: float, font_size: float = FONT_SIZE) -> str:
    """`text` cut with an ellipsis to fit about `width` units at `font_size`."""
    fits = max(1, int(width / (CHAR_WIDTH * font_size / FONT_SIZE)))
    return text if len(text) <= fits else text[: max(1, fits - 1)].rstrip() + "…"


def text_width(text: str, font_size: float = FONT_SIZE) -> float:
    """About how wide `text` is drawn at `font_size`."""
    return len(text) * CHAR_WIDTH * font_size / FONT_SIZE


@dataclass(frozen=True)
class Scale:
    """A linear map from a data interval onto a drawing interval."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        if self.high == self.low:
            return (self.start + self.end) / 2
        return self.start + (value - self.low) / (self.high - self.low) * (self.end - self.start)


def svg_root(prefix: str, width: int, height: int, title: str, description: str) -> ET.Element:
    """The chart's root: an image labelled by its title and description."""
    check_prefix(prefix)
    root = ET.Element("svg")
    root.set("xmlns", SVG_NS)
    root.set("id", prefix)
    root.set("viewBox", f"0 0 {width} {height}")
    root.set("width", "100%")
    root.set("role", "img")
    root.set("aria-labelledby", f"{prefix}-title {prefix}-desc")
    root.set("font-family", "inherit")
    root.set("font-size", str(FONT_SIZE))
    root.set("fill", NHS.text)
    element(root, "title", title, id=f"{prefix}-title")
    element(root, "desc", description, id=f"{prefix}-desc")
    return root


def serialise(root: ET.Element) -> str:
    """The SVG as a string, ready to inline in HTML or save as a file."""
    return ET.tostring(root, encoding="unicode", short_empty_elements=True)
