"""What a template editor shows: a clinic's texts as its patients would read them.

Each registered text (`app.messaging.registry`) is rendered for one clinic and one
language the way the dispatcher renders it, through a `Speaker` with the clinic's
wording (`templates.overrides_for`), for a sample appointment a week ahead at 10:30 in
the clinic's zone. With the rendering come its encoding, segments and cost
(`app.core.sms`) and the template lint's findings (`app.messaging.lint`) on the text
as written: the same lint that refuses a clinic's wording when it is saved.

A draft (a wording not saved yet) is previewed the same way, in place of the clinic's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.clinics.models import Clinic
from app.core.clock import to_utc
from app.core.errors import NotFound
from app.core.locales import DEFAULT_LOCALE, SUPPORTED_LOCALES
from app.core.sms import estimate_cost, measure
from app.messaging import compose
from app.messaging.lint import Problem, body_problems, lint, placeholders, sample_values
from app.messaging.registry import template_sets, template_texts
from app.messaging.speaker import Speaker
from app.messaging.templates import overrides_for

#: The sample appointment: this many days after now, at this local time.
SAMPLE_DAYS_AHEAD = 7
SAMPLE_TIME = time(10, 30)


@dataclass(frozen=True)
class Preview:
    """One text of one clinic in one language, as a patient would read it."""

    name: str
    #: The language asked for, and the one the patient actually reads (another one of
    #: their chain when this text has no wording in theirs).
    locale: str
    read_in: str
    #: The English text (the gettext message id).
    source: str
    #: The catalogue's wording in `locale` (English when there is no translation).
    default_text: str
    translated: bool
    #: The clinic's own wording in `locale`, if it has one.
    override: str | None
    #: The wording rendered: the draft, else the clinic's, else the catalogue's.
    text: str
    body: str
    encoding: str
    segments: int
    cost: Decimal
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.level == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.level == "warning")


def template_groups() -> dict[str, list[str]]:
    """The names of the texts each feature registered, by the feature's name."""
    return {group: list(found.texts) for group, found in template_sets().items()}


def sample_appointment(clinic: Clinic, now: datetime) -> datetime:
    """The appointment previews are rendered for: a week after `now`, at 10:30 local."""
    zone = ZoneInfo(clinic.timezone)
    day = (now.astimezone(zone) + timedelta(days=SAMPLE_DAYS_AHEAD)).date()
    return to_utc(datetime.combine(day, SAMPLE_TIME), zone)


def preview(
    clinic: Clinic,
    name: str,
    locale: str,
    now: datetime,
    price_per_segment: Decimal,
    draft: str | None = None,
) -> Preview:
    """The text `name` for a patient of `clinic` whose language is `locale`, with the
    clinic's wording, or with `draft` in its place. NotFound for an unknown text or
    language. Never raises for any draft: one that cannot be rendered is an error
    among the problems."""
    return _preview(clinic, name, locale, now, price_per_segment, draft, overrides_for(clinic.id))


def preview_all(
    clinic: Clinic, locales: Iterable[str], now: datetime, price_per_segment: Decimal
) -> list[Preview]:
    """Every registered text of `clinic` in each of `locales`, text by text."""
    overrides = overrides_for(clinic.id)
    codes = list(locales)
    return [
        _preview(clinic, name, locale, now, price_per_segment, None, overrides)
        for name in template_texts()
        for locale in codes
    ]


def _preview(
    clinic: Clinic,
    name: str,
    locale: str,
    now: datetime,
    price: Decimal,
    draft: str | None,
    overrides: compose.Overrides,
) -> Preview:
    source = template_texts().get(name)
    if source is None or locale not in SUPPORTED_LOCALES:
        raise NotFound(f"no template {name!r} in {locale!r}")
    own = overrides.get(source, {})
    if draft is not None:
        own = {**own, locale: draft}
    speaker = Speaker(
        compose.chain_for(locale, clinic.default_locale),
        {**overrides, source: own},
        clinic.timezone,
    )
    text, read_in = speaker.localise(source)
    date_text, time_text = speaker.when(sample_appointment(clinic, now))
    values = {**sample_values(locale), "clinic": clinic.name, "date": date_text, "time": time_text}
    expected = placeholders(source)
    problems = lint(text, locale=read_in, expected_placeholders=expected)
    try:
        body = speaker.compose(source, **values).body
    except (KeyError, ValueError, TypeError):
        problems.append(
            Problem("error", "render-failed", "this text cannot be filled in: check each %")
        )
        body = text
    seen = {p.code for p in problems}
    problems += [p for p in body_problems(body, locale=read_in) if p.code not in seen]
    default_text = compose.translator((locale,))[0].gettext(source)
    translated = locale == DEFAULT_LOCALE or default_text != source
    if locale not in own and not translated:
        problems.append(
            Problem("warning", "untranslated", f"no {locale} translation: patients read another")
        )
    sized = measure(body)
    return Preview(
        name=name,
        locale=locale,
        read_in=read_in,
        source=source,
        default_text=default_text,
        translated=translated,
        override=overrides.get(source, {}).get(locale),
        text=text,
        body=body,
        encoding=sized.encoding,
        segments=sized.segments,
        cost=estimate_cost(sized, price),
        problems=tuple(sorted(problems, key=lambda p: p.level != "error")),
    )
