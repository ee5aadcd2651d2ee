"""The attendance summary of every clinic, as a board reads it: each clinic's latest
month, its mean and process limits now, its target, and the "Making Data Count"
variation and assurance icons with their meaning in words. The same rows make the
page's table and its CSV download.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from flask_babel import gettext as _
from markupsafe import Markup

from app.attendance.board import DnaChart
from app.attendance.reports import Rate
from app.charts.icons import (
    VariationIcon,
    draw_assurance_icon,
    draw_variation_icon,
    variation_icon_for,
)
from app.charts.svg import serialise
from app.charts.table import Cell, Table, numeric, table
from app.charts.ticks import plain_percent
from app.clinics.models import Clinic
from app.core.spc import Assurance, XmR
from app.web.attendance_labels import ASSURANCE, VARIATION, month_name

#: The icons' size on the page, in CSS pixels.
ICON_SIZE = 40


@dataclass(frozen=True)
class BoardRow:
    """One clinic on the summary: its chart over the period (None before it is read)."""

    clinic: Clinic
    chart: DnaChart | None

    @property
    def xmr(self) -> XmR | None:
        return self.chart.xmr if self.chart is not None else None

    @property
    def latest_month(self) -> date | None:
        return self.chart.months[-1] if self.chart is not None and self.chart.months else None

    @property
    def latest(self) -> Rate | None:
        return self.chart.latest if self.chart is not None else None

    @property
    def mean(self) -> float | None:
        return self.xmr.mean[-1] if self.xmr is not None else None

    @property
    def limits(self) -> tuple[float, float] | None:
        """The process limits of the latest period; None while they cannot be computed
        (a single month, or every month the same)."""
        if self.xmr is None or not math.isfinite(self.xmr.lower[-1]):
            return None
        return self.xmr.lower[-1], self.xmr.upper[-1]

    @property
    def target(self) -> float | None:
        return self.chart.target if self.chart is not None else None

    @property
    def variation(self) -> str:
        return str(VARIATION[self.xmr.variation_type]) if self.xmr is not None else ""

    @property
    def assurance(self) -> str:
        if self.xmr is None or self.xmr.assurance_type is None:
            return ""
        return str(ASSURANCE[self.xmr.assurance_type])

    @property
    def trial(self) -> bool:
        """Whether the latest limits come from fewer than 13 months (trial limits)."""
        return self.xmr is not None and self.xmr.trial_limits[-1]


def _icon_root(size: int) -> ET.Element:
    root = ET.Element("svg")
    root.set("xmlns", "http://www.w3.org/2000/svg")
    root.set("viewBox", "0 0 48 48")
    root.set("width", str(size))
    root.set("height", str(size))
    root.set("class", "wesaid-spc-icon")
    # The words beside the icon say what it means; a screen reader reads them once.
    root.set("aria-hidden", "true")
    root.set("focusable", "false")
    return root


def variation_icon(chart: XmR, size: int = ICON_SIZE) -> Markup:
    """The variation icon of the chart's latest point, as inline SVG (for beside its
    words: hidden from screen readers, titled for a pointer)."""
    icon = variation_icon_for(chart.variation_type, chart.improvement)
    drawn = _variation_svg(icon, str(VARIATION[chart.variation_type]), size)
    return Markup(drawn)  # noqa: S704 (built by ElementTree, every text escaped)


def assurance_icon(chart: XmR, size: int = ICON_SIZE) -> Markup | None:
    """The assurance icon against the target, as `variation_icon`; None without one."""
    if chart.assurance_type is None:
        return None
    drawn = _assurance_svg(chart.assurance_type, str(ASSURANCE[chart.assurance_type]), size)
    return Markup(drawn)  # noqa: S704 (built by ElementTree, every text escaped)


# A summary of forty clinics shows eighty icons of a dozen kinds: each is drawn once.
@lru_cache(maxsize=64)
def _variation_svg(icon: VariationIcon, title: str, size: int) -> str:
    root = _icon_root(size)
    draw_variation_icon(root, icon, 24.0, 24.0, 46.0, title)
    return serialise(root)


@lru_cache(maxsize=64)
def _assurance_svg(assurance: Assurance, title: str, size: int) -> str:
    root = _icon_root(size)
    draw_assurance_icon(root, assurance, 24.0, 24.0, 46.0, title)
    return serialise(root)


def board_table(rows: Sequence[BoardRow]) -> Table:
    """The summary as a table: one row per clinic, rates as proportions."""
    rate = numeric(plain_percent)
    headings: list[tuple[str, Callable[[Cell], str]] | str] = [
        str(_("Clinic")),
        str(_("Latest month")),
        (str(_("DNA rate")), rate),
        str(_("DNA")),
        str(_("Attended and DNA")),
        (str(_("Mean")), rate),
        (str(_("Lower process limit")), rate),
        (str(_("Upper process limit")), rate),
        (str(_("Target")), rate),
        str(_("Variation")),
        str(_("Assurance")),
    ]
    return table(headings, [_cells(row) for row in rows])


def _cells(row: BoardRow) -> list[Cell]:
    latest, limits = row.latest, row.limits
    return [
        row.clinic.name,
        month_name(row.latest_month) if row.latest_month else None,
        latest.rate if latest else None,
        latest.dna if latest else None,
        latest.n if latest else None,
        row.mean,
        limits[0] if limits else None,
        limits[1] if limits else None,
        row.target,
        row.variation or None,
        row.assurance or None,
    ]
