"""Composing patient texts: locales, fallback, CLDR dates, plural forms, catalogues."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from app.core.sms import GSM7
from app.messaging import compose
from app.replies import texts

LONDON = ZoneInfo("Europe/London")
# Tuesday 3 March 2026, 10:30 in London (GMT); 14:05 UTC is 15:05 in summer time.
WINTER = datetime(2026, 3, 3, 10, 30, tzinfo=UTC)
SUMMER = datetime(2026, 7, 14, 14, 5, tzinfo=UTC)
INVISIBLE = ("\u202f", "\u00a0", "\u200e", "\u200f", "\u2009", "\u061c")
POT = compose.TRANSLATIONS_DIR / "messages.pot"
PO_FILES = sorted(compose.TRANSLATIONS_DIR.glob("*/LC_MESSAGES/messages.po"))


def _read(path: Path) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp)


def _messages(path: Path) -> list[Message]:
    return [message for message in _read(path) if message.id]


def _reminder(locale: str, instant: datetime = WINTER) -> compose.Composed:
    date, time = compose.format_when(instant, LONDON, locale)
    return compose.compose(
        texts.REMINDER, (locale, "en"), clinic="Riverside Clinic", date=date, time=time
    )


@pytest.mark.parametrize(
    ("locale", "instant", "time"),
    [
        ("en", WINTER, "10:30"),
        ("en", SUMMER, "15:05"),
        ("cy", WINTER, "10:30"),
        ("cy", SUMMER, "15:05"),
    ],
)
def test_reminder_time_is_local_and_24_hour(locale: str, instant: datetime, time: str) -> None:
    composed = _reminder(locale, instant)
    assert composed.locale == locale
    assert f" {time}" in composed.body
    assert not any(ch in composed.body for ch in INVISIBLE)


def test_english_reminder_text() -> None:
    composed = _reminder("en")
    assert composed.body == (
        "Riverside Clinic: your appointment is on Tuesday 3 March at 10:30. Reply 1 to "
        "confirm, 2 to cancel or 3 to ask for a new time. Reply STOP to opt out."
    )
    assert composed.measure.encoding == GSM7
    assert composed.measure.segments == 1


def test_welsh_reminder_is_welsh() -> None:
    body = _reminder("cy").body
    assert body.startswith("Riverside Clinic: mae eich apwyntiad ar ")
    assert "am 10:30" in body
    assert "Atebwch 1 i gadarnhau" in body
    assert "Atebwch STOP i optio allan" in body


@pytest.mark.parametrize(
    ("locale", "cldr"),
    [
        ("en", "en_GB"),
        ("cy", "cy_GB"),
    ],
)
def test_reminder_date_names_weekday_and_month_in_full(locale: str, cldr: str) -> None:
    names = Locale.parse(cldr)
    weekday = names.days["format"]["wide"][WINTER.weekday()]
    month = names.months["format"]["wide"][WINTER.month]
    date, _time = compose.format_when(WINTER, LONDON, locale)
    assert weekday in date
    assert month in date.replace(weekday, "")
    assert "3" in date


@pytest.mark.parametrize(
    ("patient", "clinic_default", "locale", "starts"),
    [
        ("pl", "en", "pl", "Dziękujemy."),
        ("fr", "en", "en", "Thank you."),  # no French catalogue: the clinic's English
        ("cy", "en", "cy", "Diolch."),
        ("cy-GB", "en", "cy", "Diolch."),  # base language of a regional tag
        ("fr", "cy", "cy", "Diolch."),  # a Welsh clinic: its default before English
        ("xx", "en", "en", "Thank you."),  # unknown locale falls back
        (None, "cy", "cy", "Diolch."),
        ("", "en", "en", "Thank you."),
    ],
)
def test_fallback_chain(patient: str | None, clinic_default: str, locale: str, starts: str) -> None:
    chain = compose.chain_for(patient, clinic_default)
    composed = compose.compose(texts.CONFIRMED, chain, date="3 March", time="10:30")
    assert composed.locale == locale
    assert composed.body.startswith(starts)
    assert chain[-1] == "en"


@pytest.mark.parametrize(
    ("count", "listing", "text"),
    [
        (1, "A) Tue 10:30", "You have 1 appointment: A) Tue 10:30. Reply 1A to confirm it,"),
        (2, "A, B", "You have 2 appointments: A, B. Reply with a number and a letter:"),
        (5, "A-E", "You have 5 appointments: A-E. Reply with a number and a letter:"),
    ],
)
def test_english_plural(count: int, listing: str, text: str) -> None:
    composed = compose.compose_plural(texts.WHICH_ONE, count, ("en",), list=listing)
    assert composed.locale == "en"
    assert composed.body.startswith(text)


# Welsh plural rule (CLDR): 0 → form 0, 1 → 1, 2 → 2, 3 → 3, 6 → 4, else 5.
# The draft gives the "reply 1A to confirm it" wording only to a single appointment.
@pytest.mark.parametrize(
    ("count", "form"),
    [(0, 0), (1, 1), (2, 2), (3, 3), (4, 5), (5, 5), (6, 4), (7, 5), (11, 5), (100, 5)],
)
def test_welsh_plural_rule(count: int, form: int) -> None:
    translations = compose.catalogue("cy")
    assert translations is not None
    assert translations.plural(count) == form
    body = compose.compose_plural(texts.WHICH_ONE, count, ("cy",), list="A").body
    assert body.startswith(f"Mae gennych {count} apwyntiad: A. Atebwch ")
    single = "Atebwch 1A i'w gadarnhau" in body
    assert single is (count == 1)
    assert ("Atebwch gyda rhif a llythyren" in body) is (count != 1)


def test_welsh_catalogue_declares_its_plural_forms() -> None:
    catalogue = _read(compose.TRANSLATIONS_DIR / "cy" / "LC_MESSAGES" / "messages.po")
    assert catalogue.num_plurals == 6
    [plural] = [m for m in catalogue if m.pluralizable]
    assert isinstance(plural.string, tuple)
    assert len(plural.string) == 6
    assert all(plural.string)


def test_pot_has_every_template() -> None:
    ids = {message.id for message in _messages(POT)}
    assert set(texts.REPLY_TEXTS.values()) <= ids
    assert texts.WHICH_ONE in ids


@pytest.mark.parametrize("source", _messages(POT), ids=lambda m: str(m.id)[:40])
def test_welsh_catalogue_translates_every_pot_message(source: Message) -> None:
    welsh = _read(compose.TRANSLATIONS_DIR / "cy" / "LC_MESSAGES" / "messages.po")
    found = welsh.get(source.id)
    assert found is not None, f"cy is missing {source.id!r}"
    assert not found.fuzzy
    strings = found.string if isinstance(found.string, tuple) else (found.string,)
    assert all(strings), f"cy has an empty translation for {source.id!r}"


@pytest.mark.parametrize("path", PO_FILES, ids=lambda p: p.parent.parent.name)
def test_catalogue_header_says_it_is_a_draft_for_review(path: Path) -> None:
    header = _read(path).header_comment
    assert "DRAFT" in header
    assert "qualified" in header
    assert "translator" in header
    assert "review" in header


def test_there_is_a_welsh_catalogue() -> None:
    assert "cy" in [p.parent.parent.name for p in PO_FILES]
