"""Reading and checking imported patient rows (pure: no database, no Flask).

Rows come from a CSV file or a JSON API body. Each is checked field by field, and every
problem becomes a `RowError` that names the source, the line, the field and the reason.
A reason never repeats the phone number it refers to. The checks that need the database
(a phone number already used by another patient) are the service's.

The shared plumbing (rows, errors, reports, field checks) is `app.core.imports`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from app.core import locales, phone
from app.core.channels import Channel
from app.core.imports import (
    FieldChecker,
    FieldValueError,
    RowError,
    SourceRow,
    check_fields,
    duplicate_errors,
    identifier,
    text_of,
)
from app.core.inputs import whole_number

PATIENT_COLUMNS: tuple[str, ...] = (
    "external_id",
    "phone",
    "locale",
    "birth_year",
    "sex",
    "ethnic_category",
    "imd_quintile",
    "channel",
    "given_name",
    "family_name",
)
#: Channels a patient may prefer; a web link travels by SMS, so it needs a mobile.
PATIENT_CHANNELS: frozenset[str] = frozenset(channel.value for channel in Channel)
PATIENT_REQUIRED: frozenset[str] = frozenset({"external_id", "phone", "locale"})
#: Columns a CSV file may leave out (added after the format was first published).
PATIENT_OPTIONAL_COLUMNS: tuple[str, ...] = ("channel", "given_name", "family_name")
NAME_FIELDS: tuple[str, ...] = ("given_name", "family_name")
MAX_NAME = 100

SEXES: frozenset[str] = frozenset({"F", "M", "X", "U"})
#: NHS ethnic category codes (the 2001 census groups); Z is "not stated".
ETHNIC_CATEGORIES: frozenset[str] = frozenset("ABCDEFGHJKLMNPRSZ")
IMD_QUINTILES = range(1, 6)
#: No field of a patient row is a larger number (a birth year, a quintile).
MAX_WHOLE_NUMBER = 9999
EARLIEST_BIRTH_YEAR = 1900


@dataclass(frozen=True)
class PatientRecord:
    """A checked patient row, ready to be written."""

    line: int
    external_id: str
    phone: str
    locale: str
    birth_year: int | None
    sex: str | None
    ethnic_category: str | None
    imd_quintile: int | None
    #: The preferred channel; None when the file does not say (an update keeps it).
    channel_preference: Channel | None = None
    given_name: str | None = None
    family_name: str | None = None
    #: Whether the row has the name fields at all (a file without them keeps the names).
    names_given: bool = False


def shared_phone_errors(records: Sequence[PatientRecord], source: str) -> list[RowError]:
    """An error on every row whose phone number is given for another external id too.

    Replies are matched to patients by the number they come from, so a number shared
    by two patients of one clinic could attach an answer to the wrong one.
    """
    ids_by_phone: dict[str, set[str]] = defaultdict(set)
    for record in records:
        ids_by_phone[record.phone].add(record.external_id)
    return [
        RowError(source, r.line, "phone", "also given for another patient in this import")
        for r in records
        if len(ids_by_phone[r.phone]) > 1
    ]


def validate_patients(
    rows: Sequence[SourceRow],
    *,
    source: str,
    allowed_regions: frozenset[str],
    this_year: int,
) -> tuple[list[PatientRecord], list[RowError]]:
    """Check patient rows; return the good records and the errors of the bad rows.

    A row with any error yields no record. Phones must pass the SMS policy (UK mobiles,
    or mobiles of `allowed_regions`). Two rows with one external id, or two external
    ids with one phone number, are all refused.
    """
    records: list[PatientRecord] = []
    errors: list[RowError] = []
    for row in rows:
        record, row_errors = _patient(row, source, allowed_regions, this_year)
        errors += row_errors
        if record is not None:
            records.append(record)
    errors += duplicate_errors(((r.line, r.external_id) for r in records), source, "external_id")
    errors += shared_phone_errors(records, source)
    bad = {error.line for error in errors}
    return [r for r in records if r.line not in bad], errors


def _patient(
    row: SourceRow, source: str, allowed_regions: frozenset[str], this_year: int
) -> tuple[PatientRecord | None, list[RowError]]:
    fields = FieldChecker(row, source, check_fields(row, PATIENT_COLUMNS, PATIENT_REQUIRED, source))
    external_id = fields.take("external_id", identifier)
    channel = fields.take("channel", _channel)
    phone_channel = Channel.VOICE if channel is Channel.VOICE else Channel.SMS
    number = fields.take("phone", lambda v: _phone(v, allowed_regions, phone_channel))
    locale = fields.take("locale", _locale)
    birth_year = fields.take("birth_year", lambda v: birth_year_field(v, this_year))
    sex = fields.take("sex", sex_field)
    ethnic = fields.take("ethnic_category", ethnic_field)
    imd = fields.take("imd_quintile", imd_field)
    given = fields.take("given_name", _name)
    family = fields.take("family_name", _name)
    if fields.errors:
        return None, fields.errors
    assert external_id is not None
    assert number is not None
    assert locale is not None
    names_given = any(name in row.values for name in NAME_FIELDS)
    record = PatientRecord(
        row.line,
        external_id,
        number,
        locale,
        birth_year,
        sex,
        ethnic,
        imd,
        channel,
        given,
        family,
        names_given,
    )
    return record, []


def _name(value: object) -> str | None:
    text = " ".join(text_of(value).split())
    if not text:
        return None
    if len(text) > MAX_NAME:
        raise FieldValueError(f"longer than {MAX_NAME} characters")
    if not text.isprintable():
        raise FieldValueError("contains control characters")
    return text


_ETHNIC_HELP = "an NHS ethnic category code (A-H, J-N, P, R, S or Z)"


def _channel(value: object) -> Channel | None:
    text = text_of(value).lower()
    if not text:
        return None
    if text not in PATIENT_CHANNELS:
        raise FieldValueError("expected sms, whatsapp, voice or web")
    return Channel(text)


def _phone(value: object, allowed_regions: frozenset[str], channel: Channel = Channel.SMS) -> str:
    """Mobiles only, except for a patient reached by telephone call (landlines too)."""
    try:
        return phone.normalise(text_of(value), channel, allowed_regions=allowed_regions)
    except phone.PhoneRejected as exc:
        # The policy's messages are fixed strings: safe to show, never the number.
        raise FieldValueError(exc.message) from None


def _locale(value: object) -> str:
    text = text_of(value)
    code = locales.canonical(text)
    if code is None:
        shown = text if len(text) <= 20 and text.isprintable() else "this value"
        raise FieldValueError(f"{shown!r} is not a supported locale")
    return code


def _whole_number(value: object) -> int | None:
    text = text_of(value)
    if not text:
        return None
    number = whole_number(text, maximum=MAX_WHOLE_NUMBER)
    if number is None:
        raise FieldValueError("expected a whole number")
    return number


def birth_year_field(value: object, this_year: int) -> int | None:
    """A birth year from 1900 to `this_year`, or None when empty; FieldValueError says
    what is wrong. Every import that carries demographics reads them with these."""
    year = _whole_number(value)
    if year is not None and not EARLIEST_BIRTH_YEAR <= year <= this_year:
        raise FieldValueError(f"must be between {EARLIEST_BIRTH_YEAR} and {this_year}")
    return year


def imd_field(value: object) -> int | None:
    """An IMD quintile, 1 (most deprived) to 5, or None when empty."""
    quintile = _whole_number(value)
    if quintile is not None and quintile not in IMD_QUINTILES:
        raise FieldValueError("must be 1 (most deprived) to 5")
    return quintile


def sex_field(value: object) -> str | None:
    """F, M, X or U, or None when empty."""
    return _code(value, SEXES, "F, M, X or U")


def ethnic_field(value: object) -> str | None:
    """An NHS ethnic category code, or None when empty."""
    return _code(value, ETHNIC_CATEGORIES, _ETHNIC_HELP)


def _code(value: object, allowed: frozenset[str], described: str) -> str | None:
    text = text_of(value).upper()
    if not text:
        return None
    if text not in allowed:
        raise FieldValueError(f"must be {described}")
    return text
