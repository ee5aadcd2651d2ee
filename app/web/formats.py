"""How the admin pages write dates, times and languages for staff.

Instants are stored in UTC and shown in UK time, in the staff member's language.
Language names come from CLDR, in the staff member's language too.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from flask_babel import get_locale
from flask_babel import gettext as _

from app.core.locales import RTL_LOCALES

#: The zone staff read times in.
STAFF_ZONE = ZoneInfo("Europe/London")


def _staff_locale() -> Locale:
    return get_locale() or Locale.parse("en")


def date_text(instant: datetime | None) -> str:
    """The day of `instant` in UK time, as "9 March 2026"; "" for None."""
    if instant is None:
        return ""
    return format_date(instant.astimezone(STAFF_ZONE), "d MMMM y", locale=_staff_locale())


def day_text(instant: datetime) -> str:
    """The day of `instant` in UK time, as "Monday 9 March 2026"."""
    return format_date(instant.astimezone(STAFF_ZONE), "EEEE d MMMM y", locale=_staff_locale())


def when_text(instant: datetime | None) -> str:
    """`instant` in UK time, as "9 March 2026 at 10:30"; "" for None."""
    if instant is None:
        return ""
    local = instant.astimezone(STAFF_ZONE)
    hour = str(format_time(local, "HH:mm", locale=_staff_locale()))
    return str(_("%(date)s at %(time)s", date=date_text(local), time=hour))


def language_name(code: str) -> str:
    """A project locale's name in the staff member's language: "Welsh"."""
    if code == "bn" and _staff_locale().language == "en":
        return "Bengali"  # CLDR says "Bangla"; the NHS says Bengali
    name = Locale.parse(code).get_display_name(_staff_locale()) or code
    return name[:1].upper() + name[1:]


def language_tag(code: str) -> str:
    """A project locale as an HTML `lang` value: "zh-Hans"."""
    return code.replace("_", "-")


def text_direction(code: str) -> str:
    """The direction a language is written in: "rtl" or "ltr"."""
    return "rtl" if code in RTL_LOCALES else "ltr"


def sentence(text: str) -> str:
    """`text` with a capital first letter, as a sentence on a page starts."""
    return text[:1].upper() + text[1:]
