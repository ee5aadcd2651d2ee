"""What the public page of an organisation or a clinic publishes, in no language yet.

Figures come from the stored results snapshots (app.results.queries), never from the
invitations or responses: this month's Friends and Family Test % positive, weighted, with
its interval; the trend over twelve months; how many were asked and answered, by
channel; who answered against who was asked, by age band, ethnic group and language.
Theme shares come from app.themes.shares. Every figure, share or quote that rests on
fewer than 10 responses is marked suppressed and carries no number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from app.clinics.models import Clinic, Organisation
from app.clinics.queries import clinics_of, find_organisation
from app.clinics.service import SLUG_RE
from app.core.errors import Invalid
from app.extensions import db
from app.results.models import ResultSnapshot
from app.results.queries import Place, monthly_snapshots, surveys_and_months
from app.results.questions import SUPPRESS_BELOW
from app.themes.models import Theme, ThemeCode
from app.themes.service import comment_text, get_comment
from app.themes.shares import theme_shares
from app.yousaid.models import EntryStatus, PublishedQuote, YouSaidEntry
from app.yousaid.service import respondents_in

SURVEY = "fft"
TREND_MONTHS = 12
TOP_THEMES = 5
QUOTES_PER_THEME = 2
#: Who answered against who was asked, by these variables of the snapshots.
HEARD_VARIABLES = ("age_band", "ethnic", "language")


@dataclass(frozen=True)
class Figure:
    """A weighted proportion and its 95% interval, or suppressed (no numbers at all)."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    suppressed: bool


SUPPRESSED = Figure(None, None, None, True)


@dataclass(frozen=True)
class Month:
    period: str
    fft: Figure


@dataclass(frozen=True)
class Count:
    """How many were asked and how many answered (None when under 10)."""

    key: str
    asked: int
    answered: int | None


@dataclass(frozen=True)
class HeardRow:
    variable: str
    level: str
    asked_share: float
    #: The level's share of those who answered; None when under 10 answered.
    heard_share: float | None


@dataclass(frozen=True)
class Quote:
    id: int
    text: str
    locale: str


@dataclass(frozen=True)
class TopTheme:
    name: str
    share: Figure
    quotes: tuple[Quote, ...]


@dataclass(frozen=True)
class Entry:
    said: str
    did: str
    status: EntryStatus
    started_on: date | None
    done_on: date | None
    place: str
    themes: tuple[str, ...]
    quotes: tuple[Quote, ...]


@dataclass(frozen=True)
class PublishedPage:
    organisation: Organisation
    clinic: Clinic | None
    clinics: tuple[Clinic, ...]
    period: str | None
    fft: Figure
    total: Count
    channels: tuple[Count, ...] = ()
    trend: tuple[Month, ...] = ()
    heard: tuple[HeardRow, ...] = ()
    themes: tuple[TopTheme, ...] = ()
    entries: tuple[Entry, ...] = field(default=())


def find_place(org_slug: str, clinic_slug: str | None) -> tuple[Organisation, Clinic | None] | None:
    """The organisation and (when named) its clinic; None if either is unknown or the
    clinic is another organisation's, or a name is not a slug at all."""
    if not SLUG_RE.match(org_slug) or (clinic_slug is not None and not SLUG_RE.match(clinic_slug)):
        return None
    organisation = find_organisation(org_slug)
    if organisation is None:
        return None
    if clinic_slug is None:
        return organisation, None
    clinic = db.session.scalar(
        select(Clinic).where(Clinic.slug == clinic_slug, Clinic.organisation_id == organisation.id)
    )
    return None if clinic is None else (organisation, clinic)


def published_page(
    organisation: Organisation, clinic: Clinic | None, now: datetime
) -> PublishedPage:
    """Everything the public page of the organisation (or its clinic) shows."""
    place = Place("clinic", clinic.id) if clinic else Place("organisation", organisation.id)
    clinics = tuple(clinics_of([organisation.id]))
    survey, months = survey_months(place, chosen_survey(clinic))
    quotes = _live_quotes(organisation.id, clinic.id if clinic else None)
    entries = _entries(organisation, clinic, clinics, quotes)
    if not months:
        return PublishedPage(
            organisation, clinic, clinics, None, SUPPRESSED, Count("all", 0, None), entries=entries
        )
    first = months[min(TREND_MONTHS, len(months)) - 1]
    snapshots = monthly_snapshots(place, survey, first, months[0])
    latest = snapshots[-1]
    return PublishedPage(
        organisation,
        clinic,
        clinics,
        latest.period,
        fft_figure(latest),
        total_count(latest),
        channel_counts(latest),
        tuple(Month(s.period, fft_figure(s)) for s in snapshots),
        heard_rows(latest),
        _top_themes(place, survey, latest.period, now, quotes),
        entries,
    )


def chosen_survey(clinic: Clinic | None) -> str:
    """The survey a place publishes: its clinic's, else the Friends and Family Test."""
    return clinic.survey_slug if clinic is not None and clinic.survey_slug else SURVEY


def survey_months(place: Place, preferred: str) -> tuple[str, list[str]]:
    """The survey to publish at `place` (the preferred one when it has results, else the
    first that has) and its months, newest first."""
    found = surveys_and_months(place)
    if preferred in found or not found:
        return preferred, found.get(preferred, [])
    slug = next(iter(found))
    return slug, found[slug]


def fft_figure(snapshot: ResultSnapshot) -> Figure:
    """The snapshot's weighted FFT % positive, suppressed under 10 responses."""
    found: Mapping[str, Any] = (snapshot.estimates or {}).get("fft_positive") or {}
    weighted = found.get("weighted") or {}
    if found.get("suppressed", True) or int(found.get("n") or 0) < SUPPRESS_BELOW:
        return SUPPRESSED
    if weighted.get("estimate") is None:
        return SUPPRESSED
    return Figure(weighted["estimate"], weighted.get("ci_low"), weighted.get("ci_high"), False)


def total_count(snapshot: ResultSnapshot) -> Count:
    diagnostics = snapshot.diagnostics or {}
    return _count(
        "all", int(diagnostics.get("invited") or 0), int(diagnostics.get("responses") or 0)
    )


def channel_counts(snapshot: ResultSnapshot) -> tuple[Count, ...]:
    """Asked and answered by channel (each invitation counted once, through age band)."""
    asked: dict[str, int] = {}
    answered: dict[str, int] = {}
    for row in (snapshot.nonresponse or {}).get("by_channel") or ():
        if row.get("variable") != "age_band":
            continue
        channel = str(row["channel"])
        asked[channel] = asked.get(channel, 0) + int(row["invited"])
        answered[channel] = answered.get(channel, 0) + int(row["responded"])
    keys = [key for key in sorted(asked) if asked[key]]
    shown = shown_cells([answered[key] for key in keys])
    return tuple(
        Count(key, asked[key], answered[key] if visible else None)
        for key, visible in zip(keys, shown, strict=True)
    )


def heard_rows(snapshot: ResultSnapshot) -> tuple[HeardRow, ...]:
    """Each level's share of those asked and of those who answered."""
    levels = [
        row
        for row in (snapshot.nonresponse or {}).get("levels") or ()
        if row.get("variable") in HEARD_VARIABLES
    ]
    rows = []
    for variable in HEARD_VARIABLES:
        mine = [row for row in levels if row["variable"] == variable]
        asked = sum(int(row["invited"]) for row in mine)
        heard = sum(int(row["responded"]) for row in mine)
        shown = shown_cells([int(row["responded"]) for row in mine])
        for row, visible in zip(mine, shown, strict=True):
            rows.append(
                HeardRow(
                    variable,
                    str(row["level"]),
                    int(row["invited"]) / asked if asked else 0.0,
                    int(row["responded"]) / heard if heard and visible else None,
                )
            )
    return tuple(rows)


def shown_cells(counts: Sequence[int]) -> list[bool]:
    """Which of a breakdown's counts may be shown beside its total: none under 10, and,
    when exactly one is hidden, the next smallest too, so that the hidden one cannot be
    found by taking the others from the total."""
    shown = [count >= SUPPRESS_BELOW for count in counts]
    if shown.count(False) == 1 and any(shown):
        smallest = min((c, i) for i, (c, ok) in enumerate(zip(counts, shown, strict=True)) if ok)
        shown[smallest[1]] = False
    return shown


def _count(key: str, asked: int, answered: int) -> Count:
    return Count(key, asked, answered if answered >= SUPPRESS_BELOW else None)


# -- themes and quotes -----------------------------------------------------------------


def _live_quotes(organisation_id: int, clinic_id: int | None) -> dict[int, Quote]:
    """Quotes that may be shown now: not withdrawn, their answer still there, and from a
    clinic's month of 10 or more respondents."""
    query = select(PublishedQuote).where(
        PublishedQuote.organisation_id == organisation_id, PublishedQuote.withdrawn_at.is_(None)
    )
    if clinic_id is not None:
        query = query.where(PublishedQuote.clinic_id == clinic_id)
    sizes: dict[tuple[int, str], int] = {}
    shown: dict[int, Quote] = {}
    for quote in db.session.scalars(query.order_by(PublishedQuote.approved_at.desc())):
        key = (quote.clinic_id, quote.period)
        if key not in sizes:
            sizes[key] = respondents_in(*key)
        if sizes[key] < SUPPRESS_BELOW or not comment_text(get_comment(quote.comment_id)):
            continue
        shown[quote.id] = Quote(quote.id, quote.text, quote.locale)
    return shown


def _top_themes(
    place: Place, survey: str, period: str, now: datetime, quotes: Mapping[int, Quote]
) -> tuple[TopTheme, ...]:
    try:
        shares = theme_shares(survey, place.scope, place.scope_id, period, now)
    except Invalid:
        return ()
    top = [share for share in shares if not share.suppressed][:TOP_THEMES]
    by_theme = _quotes_by_theme([share.theme_id for share in top], quotes)
    return tuple(
        TopTheme(
            share.name,
            Figure(share.estimate, share.ci_low, share.ci_high, False),
            tuple(by_theme.get(share.theme_id, ())[:QUOTES_PER_THEME]),
        )
        for share in top
    )


def _quotes_by_theme(
    theme_ids: Sequence[int], quotes: Mapping[int, Quote]
) -> dict[int, list[Quote]]:
    if not theme_ids or not quotes:
        return {}
    rows = db.session.execute(
        select(ThemeCode.theme_id, PublishedQuote.id)
        .join(PublishedQuote, PublishedQuote.comment_id == ThemeCode.comment_id)
        .where(ThemeCode.theme_id.in_(list(theme_ids)), PublishedQuote.id.in_(list(quotes)))
        .order_by(PublishedQuote.approved_at.desc())
    ).all()
    found: dict[int, list[Quote]] = {}
    for theme_id, quote_id in rows:
        found.setdefault(theme_id, []).append(quotes[quote_id])
    return found


# -- entries -----------------------------------------------------------------------------


def _entries(
    organisation: Organisation,
    clinic: Clinic | None,
    clinics: Iterable[Clinic],
    quotes: Mapping[int, Quote],
) -> tuple[Entry, ...]:
    query = select(YouSaidEntry).where(YouSaidEntry.organisation_id == organisation.id)
    if clinic is not None:
        query = query.where(
            (YouSaidEntry.clinic_id == clinic.id) | YouSaidEntry.clinic_id.is_(None)
        )
    rows = list(db.session.scalars(query.order_by(YouSaidEntry.updated_at.desc())))
    theme_ids = sorted({theme_id for row in rows for theme_id in row.theme_ids})
    names = (
        {
            theme.id: theme.name
            for theme in db.session.scalars(select(Theme).where(Theme.id.in_(theme_ids)))
        }
        if theme_ids
        else {}
    )
    clinic_names = {c.id: c.name for c in clinics}
    return tuple(
        Entry(
            row.said,
            row.did,
            row.status,
            row.started_on,
            row.done_on,
            clinic_names.get(row.clinic_id or 0, organisation.name),
            tuple(names[t] for t in row.theme_ids if t in names),
            tuple(quotes[q] for q in row.quote_ids if q in quotes),
        )
        for row in rows
    )
