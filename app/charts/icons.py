"""The "Making Data Count" variation and assurance icons, drawn as SVG.

Which icon a chart shows follows NHSRplotthedots 0.2.0 (`ptd_get_icons`): the variation
icon comes from the last point's type, and says high or low by the improvement direction
(a concern when higher is better is low; an improvement is high); the assurance icon
from the assurance type. Each icon carries a letter as well as its colour: H or L for a
special cause, P, F or ? for assurance.
"""

from __future__ import annotations

import enum
import xml.etree.ElementTree as ET

from app.charts.palette import NHS, SPC
from app.charts.svg import element, points
from app.core.spc import Assurance, Improvement, PointType


class VariationIcon(enum.StrEnum):
    """The seven variation icons."""

    COMMON_CAUSE = "common_cause"  # grey: no special cause at the last point
    IMPROVEMENT_HIGH = "improvement_high"  # blue H: improvement, high values
    IMPROVEMENT_LOW = "improvement_low"  # blue L: improvement, low values
    CONCERN_HIGH = "concern_high"  # orange H: concern, high values
    CONCERN_LOW = "concern_low"  # orange L: concern, low values
    NEUTRAL_HIGH = "neutral_high"  # purple H: special cause, high, no better direction
    NEUTRAL_LOW = "neutral_low"  # purple L: special cause, low, no better direction


def variation_icon_for(kind: PointType, improvement: Improvement) -> VariationIcon:
    """The variation icon for the last point's type under an improvement direction."""
    increasing = improvement is Improvement.INCREASE
    return {
        PointType.COMMON_CAUSE: VariationIcon.COMMON_CAUSE,
        PointType.NEUTRAL_HIGH: VariationIcon.NEUTRAL_HIGH,
        PointType.NEUTRAL_LOW: VariationIcon.NEUTRAL_LOW,
        PointType.CONCERN: VariationIcon.CONCERN_LOW if increasing else VariationIcon.CONCERN_HIGH,
        PointType.IMPROVEMENT: (
            VariationIcon.IMPROVEMENT_HIGH if increasing else VariationIcon.IMPROVEMENT_LOW
        ),
    }[kind]


_RING = {
    "common": SPC.icon_common,
    "improvement": SPC.icon_improvement,
    "concern": SPC.icon_concern,
    "neutral": SPC.icon_neutral,
}
# Dot heights (in radii, up is negative) of the small run of points inside the icon.
_FLAT = (0.05, -0.12, 0.1, -0.08, 0.04)
_RISING = (0.12, 0.18, 0.08, -0.12, -0.2)


def _ring(parent: ET.Element, x: float, y: float, r: float, colour: str, dashed: bool) -> None:
    element(
        parent,
        "circle",
        cx=x,
        cy=y,
        r=r * 0.9,
        fill=NHS.white,
        stroke=colour,
        stroke_width=r * 0.13,
        stroke_dasharray=f"{r * 0.4:.1f} {r * 0.15:.1f}" if dashed else None,
    )


def _letter(parent: ET.Element, letter: str, x: float, y: float, r: float, colour: str) -> None:
    element(
        parent,
        "text",
        letter,
        x=x,
        y=y,
        fill=colour,
        font_weight="bold",
        font_size=f"{r * 0.75:.1f}",
        text_anchor="middle",
        dominant_baseline="central",
    )


def draw_variation_icon(
    parent: ET.Element, icon: VariationIcon, x: float, y: float, size: float, title: str
) -> ET.Element:
    """The variation icon, `size` across, centred on (x, y), titled for hover."""
    r = size / 2
    family, _, side = icon.value.rpartition("_")
    family = "common" if icon is VariationIcon.COMMON_CAUSE else family
    colour = _RING[family]
    group = element(parent, "g", class_="variation-icon", data_icon=icon.value)
    element(group, "title", title)
    _ring(group, x, y, r, colour, dashed=False)
    if icon is VariationIcon.COMMON_CAUSE:
        _dots(group, x, y, r, _FLAT, 0, colour)
        return group
    high = side == "high"
    heights = _RISING if high else tuple(-h for h in _RISING)
    _dots(group, x, y + (0.22 if high else -0.22) * r, r, heights, 2, colour)
    _letter(group, "H" if high else "L", x, y + (-0.36 if high else 0.4) * r, r, colour)
    return group


def _dots(
    group: ET.Element,
    x: float,
    y: float,
    r: float,
    heights: tuple[float, ...],
    special: int,
    colour: str,
) -> None:
    spots = [(x + (i - 2) * 0.26 * r, y + h * r) for i, h in enumerate(heights)]
    element(
        group,
        "polyline",
        points=points(spots),
        fill="none",
        stroke=SPC.icon_detail,
        stroke_width=r * 0.05,
    )
    for i, (dx, dy) in enumerate(spots):
        fill = colour if i >= len(spots) - special else SPC.icon_detail
        element(group, "circle", cx=dx, cy=dy, r=r * 0.09, fill=fill)


_ASSURANCE = {
    Assurance.CONSISTENT_PASS: ("P", SPC.icon_improvement, 0.28),
    Assurance.CONSISTENT_FAIL: ("F", SPC.icon_concern, -0.1),
    Assurance.INCONSISTENT: ("?", SPC.icon_detail, 0.12),
}


def draw_assurance_icon(
    parent: ET.Element, assurance: Assurance, x: float, y: float, size: float, title: str
) -> ET.Element:
    """The assurance icon: P (blue) passes, F (orange) fails, ? (grey) hits and misses; the
    dashed target line sits below, above or across the small process line."""
    r = size / 2
    letter, colour, target = _ASSURANCE[assurance]
    ring = SPC.icon_common if assurance is Assurance.INCONSISTENT else colour
    group = element(parent, "g", class_="assurance-icon", data_icon=assurance.value)
    element(group, "title", title)
    _ring(group, x, y, r, ring, dashed=False)
    _letter(group, letter, x, y - 0.36 * r, r, colour)
    wave = [(x + (i - 3) * 0.17 * r, y + (0.14 + 0.06 * (-1) ** i) * r) for i in range(7)]
    element(
        group,
        "polyline",
        points=points(wave),
        fill="none",
        stroke=SPC.icon_detail,
        stroke_width=r * 0.08,
    )
    element(
        group,
        "line",
        x1=x - 0.62 * r,
        x2=x + 0.62 * r,
        y1=y + target * r,
        y2=y + target * r,
        stroke=ring,
        stroke_width=r * 0.06,
        stroke_dasharray=f"{r * 0.12:.1f} {r * 0.06:.1f}",
    )
    return group
