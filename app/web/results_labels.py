"""The results pages' words: surveys, patient groups and channels in plain English (or
Welsh), months, and figures as the pages write them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from babel.core import UnknownLocaleError
from babel.dates import format_date
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.charts.ticks import plain_number, plain_percent
from app.results.categories import UNKNOWN
from app.web import formats
from app.web.group_labels import demographic_level

#: The groups response is reported by, in the order the pages show them.
VARIABLES = {
    "age_band": _l("Age band"),
    "sex": _l("Sex"),
    "ethnic": _l("Ethnic group"),
    "imd": _l("Deprivation quintile"),
    "language": _l("Language"),
    "channel": _l("Channel"),
}
CHANNELS = {
    "sms": _l("SMS"),
    "whatsapp": _l("WhatsApp"),
    "voice": _l("Voice call"),
    "web": _l("Web link"),
}
#: How a patient was invited, as the suggestions put it: "invited by voice call".
CHANNELS_BY = {
    "sms": _l("by SMS"),
    "whatsapp": _l("on WhatsApp"),
    "voice": _l("by voice call"),
    "web": _l("with a web link"),
}
SURVEYS = {"fft": _l("Friends and Family Test")}
METHODS = {
    "raking": _l("Raking"),
    "bounded_raking": _l("Raking with bounds"),
    "poststratification": _l("Post-stratification"),
    "none": _l("None (no responses)"),
}


def month_of(period: str) -> date:
    """A snapshot's period ("YYYY-MM") as the first day of its month."""
    year, month = period.split("-")
    return date(int(year), int(month), 1)


def period_of(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def month_label(period: str) -> str:
    """A month as a chart's axis names it: "Feb 2026"."""
    return str(format_date(month_of(period), "MMM y", locale=get_locale() or "en"))


def month_name(period: str) -> str:
    """A month in full: "February 2026"."""
    return str(format_date(month_of(period), "MMMM y", locale=get_locale() or "en"))


def survey_name(slug: str, title: Any = None) -> str:
    """A survey as staff know it: the Friends and Family Test by name, a clinic's own by
    its title (`title` as its definition stores it: text, or text by locale), else by its
    short name."""
    if slug in SURVEYS:
        return str(SURVEYS[slug])
    if isinstance(title, Mapping):
        locale = str(get_locale() or "en")
        title = title.get(locale) or title.get("en") or next(iter(title.values()), None)
    return title.strip() if isinstance(title, str) and title.strip() else slug


def method_name(method: str) -> str:
    return str(METHODS.get(method, method))


def variable_name(variable: str) -> str:
    return str(VARIABLES.get(variable, variable))


def level_name(variable: str, level: str) -> str:
    """A group as a page names it: "Female", "1 (most deprived)", "Welsh", "Voice call"."""
    if level == UNKNOWN:
        return str(_("Not recorded"))
    if variable == "language":
        try:
            return formats.language_name(level)
        except (ValueError, UnknownLocaleError):
            return level
    named = demographic_level(variable, level)
    if named is not None:
        return named
    names = CHANNELS if variable == "channel" else {}
    return str(names.get(level, level))


def channel_name(channel: str) -> str:
    return str(CHANNELS.get(channel, channel)) if channel != UNKNOWN else _("Not recorded")


def channel_by(channel: str) -> str:
    """How a patient was invited: "by voice call"."""
    if channel in CHANNELS_BY:
        return str(CHANNELS_BY[channel])
    return str(_("by a channel not recorded"))


def percent(value: float | None) -> str:
    """A proportion as a percentage with one decimal ("71.0%"); a dash for none."""
    return "–" if value is None else plain_percent(value)


def number(value: float | None) -> str:
    """A number with up to three decimals; a dash for none."""
    return "–" if value is None else plain_number(value)


def mean(value: float | None) -> str:
    """A mean answer with two decimals ("3.07"); a dash for none."""
    return "–" if value is None else f"{value:,.2f}"


def whole(value: float | None) -> str:
    """A count-like figure rounded to a whole number ("1,204"); a dash for none."""
    return "–" if value is None else f"{value:,.0f}"


def interval(low: float | None, high: float | None, write: str = "percent") -> str:
    """An interval as "62.1% to 70.4%"; "" when either end is unknown."""
    if low is None or high is None:
        return ""
    show = {"percent": percent, "mean": mean}.get(write, number)
    return str(_("%(low)s to %(high)s", low=show(low), high=show(high)))
