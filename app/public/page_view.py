"""The public page's figures as the visitor reads them: in their language, with CLDR's
numbers, percentages and month names, and "not enough responses yet" where a figure is
suppressed. Pure apart from the catalogues (app.messaging.compose)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from app.core.locales import SUPPORTED_LOCALES
from app.messaging import compose
from app.public.page_texts import PAGE_TEXTS
from app.surveys.web_form import html_lang, text_dir
from app.yousaid.models import EntryStatus
from app.yousaid.published import Count, Figure, PublishedPage

_ETHNIC = {
    "white": "ethnic_white",
    "mixed": "ethnic_mixed",
    "asian": "ethnic_asian",
    "black": "ethnic_black",
    "other": "ethnic_other",
    "unknown": "unknown",
}
_CHANNELS = {
    "sms": "channel_sms",
    "whatsapp": "channel_whatsapp",
    "voice": "channel_voice",
    "web": "channel_web",
    "all": "all_channels",
}
_STATUS = {
    EntryStatus.PLANNED: "status_planned",
    EntryStatus.IN_PROGRESS: "status_in_progress",
    EntryStatus.DONE: "status_done",
}
_HEARD = (("age_band", "by_age"), ("ethnic", "by_ethnic"), ("language", "by_language"))


@dataclass(frozen=True)
class Language:
    code: str
    tag: str
    name: str


def words(locale: str) -> dict[str, str]:
    """The page's own words in `locale` (English where the catalogue lacks one)."""
    translations = compose.translator((locale, "en"))[0]
    return {name: translations.gettext(message) for name, message in PAGE_TEXTS.items()}


def languages() -> list[Language]:
    """Every language of the switcher, named in itself."""
    return [
        Language(code, html_lang(code), Locale.parse(code).get_display_name() or code)
        for code in SUPPORTED_LOCALES
    ]


class Reader:
    """Formats the page's figures for one locale."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self.cldr = compose.cldr_locale(locale)
        self.ui = words(locale)

    def percent(self, value: float | None) -> str:
        return "" if value is None else format_percent(value, format="#,##0%", locale=self.cldr)

    def number(self, value: int | None) -> str:
        return self.ui["not_enough"] if value is None else format_decimal(value, locale=self.cldr)

    def month(self, period: str) -> str:
        year, month = (int(part) for part in period.split("-"))
        return format_date(date(year, month, 1), format="LLLL yyyy", locale=self.cldr)

    def day(self, value: date | None) -> str:
        return "" if value is None else format_date(value, format="long", locale=self.cldr)

    def figure(self, figure: Figure) -> dict[str, str]:
        if figure.suppressed:
            return {"suppressed": self.ui["not_enough"]}
        return {
            "value": self.percent(figure.estimate),
            "low": self.percent(figure.ci_low),
            "high": self.percent(figure.ci_high),
        }

    def count(self, count: Count) -> dict[str, str]:
        return {
            "label": self.ui[_CHANNELS.get(count.key, "all_channels")],
            "asked": self.number(count.asked),
            "answered": self.number(count.answered),
        }

    def level(self, variable: str, level: str) -> str:
        if variable == "ethnic":
            return self.ui[_ETHNIC.get(level, "unknown")]
        if level == "unknown":
            return self.ui["unknown"]
        if variable == "language" and level in SUPPORTED_LOCALES:
            return Locale.parse(level).get_display_name(self.cldr) or level
        return level


def page_context(published: PublishedPage, reader: Reader) -> dict[str, object]:
    """What the page's template shows, every word and number ready to print."""
    ui = reader.ui
    heard: dict[str, list[dict[str, str]]] = {}
    for row in published.heard:
        heard.setdefault(row.variable, []).append(
            {
                "group": reader.level(row.variable, row.level),
                "asked": reader.percent(row.asked_share),
                "heard": ui["not_enough"]
                if row.heard_share is None
                else reader.percent(row.heard_share),
            }
        )
    period = reader.month(published.period) if published.period else ""
    fft = reader.figure(published.fft)
    return {
        "period": period,
        "period_label": _fill(ui["month_of"], month=period),
        "fft": fft,
        "fft_sentence": _fill(ui["fft_positive"], percent=fft.get("value", "")),
        "fft_interval": _fill(ui["fft_interval"], low=fft.get("low", ""), high=fft.get("high", "")),
        "total": reader.count(published.total),
        "channels": [reader.count(count) for count in published.channels],
        "trend": [
            {"month": reader.month(m.period), **reader.figure(m.fft)} for m in published.trend
        ],
        "heard": [
            {"title": ui[title], "rows": heard[variable]}
            for variable, title in _HEARD
            if variable in heard
        ],
        "themes": [
            {
                "name": theme.name,
                "share": _fill(ui["theme_share"], percent=reader.percent(theme.share.estimate)),
                "low": reader.percent(theme.share.ci_low),
                "high": reader.percent(theme.share.ci_high),
                "quotes": [_quote(q.text, q.locale) for q in theme.quotes],
            }
            for theme in published.themes
        ],
        "entries": [
            {
                "said": entry.said,
                "did": entry.did,
                "status": ui[_STATUS[entry.status]],
                "done": entry.status is EntryStatus.DONE,
                "place": entry.place,
                "started": _fill(ui["started_on"], date=reader.day(entry.started_on))
                if entry.started_on
                else "",
                "finished": _fill(ui["done_on"], date=reader.day(entry.done_on))
                if entry.done_on
                else "",
                "themes": list(entry.themes),
                "quotes": [_quote(q.text, q.locale) for q in entry.quotes],
            }
            for entry in published.entries
        ],
    }


def _quote(text: str, locale: str) -> dict[str, str]:
    return {"text": text, "lang": html_lang(locale), "dir": text_dir(locale)}


def _fill(template: str, **values: object) -> str:
    """`template % values`, or the template itself if a translation breaks it."""
    try:
        return template % values
    except (KeyError, ValueError, TypeError):
        return template
