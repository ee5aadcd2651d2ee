"""Reading a chart's SVG back as data, for the chart tests."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable

NS = {"svg": "http://www.w3.org/2000/svg"}
_NUMBER = re.compile(r"-?[\d,]*\.?\d+")


def parse(svg: str) -> ET.Element:
    """The SVG parsed (it must be well-formed XML)."""
    return ET.fromstring(svg)  # noqa: S314 (the charts' own output)


def tag(element: ET.Element) -> str:
    """An element's tag without the SVG namespace."""
    return element.tag.split("}", 1)[-1]


def all_of(root: ET.Element, name: str) -> list[ET.Element]:
    """Every element with this tag."""
    return root.findall(f".//svg:{name}", NS)


def by_class(root: ET.Element, cls: str) -> list[ET.Element]:
    """Every element whose class list holds `cls`."""
    return [e for e in root.iter() if cls in (e.get("class") or "").split()]


def ids(root: ET.Element) -> list[str]:
    """Every id in the document."""
    return [e.get("id") or "" for e in root.iter() if e.get("id") is not None]


def check_frame(svg: str, prefix: str) -> ET.Element:
    """The rules every chart keeps; returns the parsed root."""
    root = parse(svg)
    assert tag(root) == "svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == f"{prefix}-title {prefix}-desc"
    assert root.get("width") == "100%"
    assert root.get("height") is None
    assert re.fullmatch(r"0 0 \d+ \d+", root.get("viewBox") or "")
    title = root.find("svg:title", NS)
    desc = root.find("svg:desc", NS)
    assert title is not None
    assert title.get("id") == f"{prefix}-title"
    assert title.text
    assert desc is not None
    assert desc.get("id") == f"{prefix}-desc"
    assert desc.text
    found = ids(root)
    assert all(i.startswith(prefix) for i in found), found
    assert [i for i, n in Counter(found).items() if n > 1] == []
    # No inline style (the pages' policy refuses it) and no script.
    assert all_of(root, "style") == []
    assert all_of(root, "script") == []
    assert all(e.get("style") is None for e in root.iter())
    assert all(not k.startswith("on") for e in root.iter() for k in e.attrib)
    return root


def tick_scale(root: ET.Element, axis: str, read: Callable[[str], float]) -> tuple[float, float]:
    """(offset, slope) mapping values to drawing units along an axis, from its tick labels
    and the grid lines beside them."""
    group = by_class(root, f"{axis}-axis")[0]
    labels = [t for t in group if tag(t) == "text"]
    coordinate = "y" if axis == "y" else "x"
    pairs = [(read(t.text or ""), float(t.get(coordinate) or 0)) for t in labels]
    (v1, c1), (v2, c2) = pairs[0], pairs[-1]
    slope = (c2 - c1) / (v2 - v1)
    return c1 - slope * v1, slope


def percent_value(text: str) -> float:
    """'12.5%' as 0.125."""
    return float(text.rstrip("%").replace(",", "")) / 100


def number_value(text: str) -> float:
    """'1,500' as 1500."""
    match = _NUMBER.search(text.replace("\u2212", "-"))
    assert match is not None, text
    return float(match.group(0).replace(",", ""))


def centre(element: ET.Element) -> tuple[float, float]:
    """The middle of a marker: a circle's centre, a square's middle or a polygon's
    bounding-box middle."""
    name = tag(element)
    if name == "circle":
        return float(element.get("cx") or 0), float(element.get("cy") or 0)
    if name == "rect":
        x, y = float(element.get("x") or 0), float(element.get("y") or 0)
        return x + float(element.get("width") or 0) / 2, y + float(element.get("height") or 0) / 2
    pairs = [tuple(map(float, p.split(","))) for p in (element.get("points") or "").split()]
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
