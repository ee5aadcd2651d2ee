"""Patient-facing text: template × locale, with CLDR dates and times.

Templates are gettext messages in `translations/`. The locale used follows the
fallback chain (patient locale → base language → clinic default → English); Babel's
invisible spacing characters are normalised away so a plain text stays GSM-7.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from app.core import locales
from app.core.sms import Measure, measure, normalise_invisible

TRANSLATIONS_DIR = Path(__file__).resolve().parents[2] / "translations"
DOMAIN = "messages"

# The CLDR locale used to format dates for each project locale (UK conventions for
# English and Welsh).
_CLDR = {"en": "en_GB", "cy": "cy_GB", "zh_Hans": "zh_Hans_CN", "pa": "pa_Guru_IN"}


# Locales whose CLDR data has no full weekday-and-month skeleton: Babel would fall back
# to abbreviations ("wt.", "mar."), and in Welsh "Maw" is both Tuesday and March. A
# patient should never have to decode an abbreviated day.
_DATE_PATTERNS = {
    "cy": "EEEE d MMMM",
    "pl": "EEEE, d MMMM",
    "ro": "EEEE, d MMMM",
    "pt": "EEEE, d 'de' MMMM",
    "es": "EEEE, d 'de' MMMM",
    "lt": "MMMM d 'd'., EEEE",
    "so": "EEEE, MMMM d",
    "pa": "EEEE, d MMMM",
    "bn": "EEEE, d MMMM",
    "gu": "EEEE, d MMMM",
    "zh_Hans": "M月d日EEEE",
}


@dataclass(frozen=True)
class Composed:
    body: str
    locale: str
    measure: Measure


@lru_cache(maxsize=64)
def catalogue(locale: str) -> Translations | None:
    """The compiled catalogue for `locale`, or None if there is none.

    Uses the compiled .mo when present, else compiles the .po in memory, so a fresh
    checkout works before `pybabel compile` has run.
    """
    folder = TRANSLATIONS_DIR / locale / "LC_MESSAGES"
    mo_path, po_path = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    if mo_path.exists() and (
        not po_path.exists() or mo_path.stat().st_mtime >= po_path.stat().st_mtime
    ):
        with mo_path.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    if not po_path.exists():
        return None
    with po_path.open("rb") as fp:
        buffer = io.BytesIO()
        write_mo(buffer, read_po(fp, locale=locale))
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


@lru_cache(maxsize=256)
def translator(chain: tuple[str, ...]) -> tuple[gettext.NullTranslations, str]:
    """Translations that try each locale of `chain` in turn, and the first one that has
    a catalogue (the locale the patient will actually read)."""
    found = [(code, cat) for code in chain if (cat := catalogue(code)) is not None]
    if not found:
        return gettext.NullTranslations(), "en"
    head = gettext.NullTranslations()
    for _code, cat in found:
        head.add_fallback(cat)
    return head, found[0][0]


def cldr_locale(code: str) -> Locale:
    return Locale.parse(_CLDR.get(code, code))


def format_when(instant: datetime, zone: ZoneInfo, locale: str) -> tuple[str, str]:
    """The date ("Tuesday 3 March") and time ("10:30") of `instant` in `zone`, for `locale`."""
    local = instant.astimezone(zone)
    cldr = cldr_locale(locale)
    pattern = _DATE_PATTERNS.get(locale)
    if pattern is not None:
        date_text = format_date(local, format=pattern, locale=cldr)
    else:
        date_text = format_skeleton("MMMMEEEEd", local, locale=cldr)
    time_text = format_time(local, format="short", locale=cldr)
    return normalise_invisible(date_text), normalise_invisible(time_text)


#: A clinic's own wording: message id → locale → text (see TemplateOverride).
Overrides = Mapping[str, Mapping[str, str]]


def localise(
    template: str, chain: tuple[str, ...], overrides: Overrides | None = None
) -> tuple[str, str]:
    """The text of `template` for `chain`, and its locale.

    A clinic override in a locale of the chain wins over the catalogue for that locale
    and for every later one.
    """
    translations, found = translator(chain)
    own = overrides.get(template, {}) if overrides else {}
    for code in chain:
        if code in own:
            return own[code], code
        if code == found:
            break
    return translations.gettext(template), found


def compose(
    template: str, chain: tuple[str, ...], overrides: Overrides | None = None, /, **values: object
) -> Composed:
    """Render `template` in the first locale of `chain` that has it, ready to send."""
    text, locale = localise(template, chain, overrides)
    body = normalise_invisible(text % values)
    return Composed(body=body, locale=locale, measure=measure(body))


def compose_plural(
    forms: tuple[str, str], count: int, chain: tuple[str, ...], **values: object
) -> Composed:
    """Render a plural template for `count` in the first locale of `chain` that has it."""
    translations, locale = translator(chain)
    text = translations.ngettext(forms[0], forms[1], count) % {"count": count, **values}
    body = normalise_invisible(text)
    return Composed(body=body, locale=locale, measure=measure(body))


def catalogue_locales() -> list[str]:
    """English (the source) and every locale with a catalogue in translations/."""
    found = sorted(p.name for p in TRANSLATIONS_DIR.iterdir() if (p / "LC_MESSAGES").is_dir())
    return ["en", *[code for code in found if code != "en"]]


def chain_for(patient_locale: str | None, clinic_default: str) -> tuple[str, ...]:
    return locales.fallback_chain(patient_locale, clinic_default)


def warm_up() -> int:
    """Load every catalogue and every locale's CLDR date data now, as a long-lived
    worker does once at start, rather than on the first message in each language.
    Returns how many locales were loaded."""
    loaded = catalogue_locales()
    sample = datetime(2026, 1, 5, 9, 30, tzinfo=ZoneInfo("UTC"))
    for code in loaded:
        catalogue(code)
        format_when(sample, ZoneInfo("Europe/London"), code)
    return len(loaded)
