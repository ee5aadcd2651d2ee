"""The attendance pages' words: breakdown levels, months, the "Making Data Count"
variation and assurance in plain English (or Welsh), and rates as pages write them."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.attendance.reports import ITT_NONE, ITT_PLANNED, LEAD_OVER, UNKNOWN
from app.charts.ticks import plain_percent
from app.core.spc import Assurance, PointType
from app.web import formats
from app.web.group_labels import demographic_level

#: The breakdowns by patient group, in the order the page shows them.
GROUP_TITLES = {
    "age_band": _l("DNA rate by age band"),
    "sex": _l("DNA rate by sex"),
    "ethnic": _l("DNA rate by ethnic group"),
    "imd": _l("DNA rate by deprivation quintile"),
    "language": _l("DNA rate by language"),
}
EXPOSURE = {
    "none": _l("No reminder planned"),
    "planned": _l("Planned, not delivered"),
    "delivered": _l("Delivered, not confirmed"),
    "confirmed": _l("Confirmed by the patient"),
    ITT_PLANNED: _l("Reminder planned"),
    ITT_NONE: _l("No reminder planned"),
}
NOTICE = {
    "72h+": _l("72 hours or more"),
    "24-72h": _l("24 to 72 hours"),
    "<24h": _l("Under 24 hours"),
}
VARIATION = {
    PointType.COMMON_CAUSE: _l("Common cause: no significant change"),
    PointType.IMPROVEMENT: _l("Special cause improvement: lower than expected"),
    PointType.CONCERN: _l("Special cause concern: higher than expected"),
    PointType.NEUTRAL_HIGH: _l("Special cause: higher than expected"),
    PointType.NEUTRAL_LOW: _l("Special cause: lower than expected"),
}
ASSURANCE = {
    Assurance.CONSISTENT_PASS: _l("The target will be met consistently"),
    Assurance.CONSISTENT_FAIL: _l("The target will be missed consistently"),
    Assurance.INCONSISTENT: _l("The target will sometimes be met and sometimes missed"),
}


def month_label(month: date) -> str:
    """A month as a chart's axis names it: "Feb 2026"."""
    return str(format_date(month, "MMM y", locale=get_locale() or "en"))


def month_name(month: date) -> str:
    """A month in full: "February 2026"."""
    return str(format_date(month, "MMMM y", locale=get_locale() or "en"))


def level_label(group: str, level: str) -> str:
    """A breakdown's level in words: "Female", "Asian or Asian British", "Polish"."""
    if level == UNKNOWN:
        return str(_("Not recorded"))
    named = demographic_level(group, level)
    if named is not None:
        return named
    if group == "language":
        return formats.language_name(level)
    if group == "exposure":
        return str(EXPOSURE.get(level, level))
    if group == "lead":
        return lead_label(level)
    if group == "age_band":
        return age_label(level)
    return level


def lead_label(level: str) -> str:
    """A booking lead-time band in words: "7 to 13 days"."""
    if level == UNKNOWN:
        return str(_("Not known"))
    if level == LEAD_OVER:
        return str(_("%(days)s days or more", days=level.rstrip("+")))
    low, _sep, high = level.partition("-")
    return str(_("%(low)s to %(high)s days", low=low, high=high))


def age_label(level: str) -> str:
    """An age band in words: "25 to 39", "75 and over"."""
    if level.endswith("+"):
        return str(_("%(age)s and over", age=level.rstrip("+")))
    low, _sep, high = level.partition("-")
    return str(_("%(low)s to %(high)s", low=low, high=high)) if high else level


def percent_text(value: float | None) -> str:
    """A rate as a page writes it: "8.4%"; "" for none."""
    return "" if value is None else plain_percent(value)


def percent_input(value: float | None) -> str:
    """A rate as a form field holds it, in percent without the sign: "8.5"; "" for none."""
    return "" if value is None else f"{100 * value:.2f}".rstrip("0").rstrip(".")
