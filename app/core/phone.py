"""Phone number policy: normalise to E.164 once, at the boundary, and refuse what we cannot use.

Country code 44 covers Great Britain and Northern Ireland, Guernsey, Jersey and the Isle of
Man. They share one numbering plan, so the policy keys on the country code, never on the
region `phonenumbers` reports (a Guernsey mobile range is still a UK mobile for us).

Exceptions raised here never hold the number: their messages and reason codes are fixed
strings, so they are safe to log.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from phonenumbers import CountryCodeSource, NumberParseException, PhoneNumber, PhoneNumberType

from app.core.channels import Channel

CHANNELS: tuple[Channel, ...] = (Channel.SMS, Channel.WHATSAPP, Channel.VOICE)

UK_COUNTRY_CODE = 44

# Longest national number we treat as a short code when no country code was written.
# The shortest full UK numbers (0800 1111) have seven digits after the 0.
_SHORT_CODE_MAX_DIGITS = 6

# Dashes that word processors and spreadsheets put in place of the hyphen-minus typed
# (autocorrect to an en dash, a non-breaking hyphen from a letter, a minus sign from a
# formula): U+2010 hyphen, U+2011 non-breaking hyphen, U+2012 figure dash, U+2013 en
# dash, U+2014 em dash, U+2015 horizontal bar, U+2212 minus sign, and U+FF0D full-width
# hyphen-minus beside the full-width digits we accept. Each only separates digits, and
# `phonenumbers` counts every one of them as punctuation in a number. GOV.UK Notify's
# checker (notifications-utils, `recipient_validation/phone_number.py`) is stricter:
# it allows whitespace (zero-width spaces and the no-break space included), brackets,
# "+" and the ASCII hyphen-minus only, and refuses these as unknown characters.
_UNICODE_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d"

# Punctuation people write inside numbers. Letters are refused on purpose: `phonenumbers`
# would turn "0800 FLOWERS" into digits and read "ext 12" as an extension.
_NUMBER_PUNCTUATION = frozenset("+()-./[]" + _UNICODE_DASHES)

_TEXT_CHANNEL_LABELS = {Channel.SMS: "SMS", Channel.WHATSAPP: "WhatsApp"}

_E164_SHAPE = re.compile(r"\+[1-9]\d{6,14}")


class PhoneRejected(ValueError):
    """A number that policy refuses, with a reason fit for staff and for logs.

    The message and `reason_code` never contain the number itself.
    """

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


# Each refused number type, with its reason code and the reason staff read.
_REFUSED_TYPES: dict[int, tuple[str, str]] = {
    PhoneNumberType.PERSONAL_NUMBER: ("personal_number", "personal number (070) not accepted"),
    PhoneNumberType.PAGER: ("pager", "pager (076) not accepted"),
    PhoneNumberType.PREMIUM_RATE: ("premium_rate", "premium rate number not accepted"),
    PhoneNumberType.SHARED_COST: ("shared_cost", "shared cost number not accepted"),
    PhoneNumberType.TOLL_FREE: ("toll_free", "toll free number not accepted"),
    PhoneNumberType.VOIP: ("voip", "VoIP number not accepted"),
    PhoneNumberType.UAN: ("uan", "UAN (non-geographic) number not accepted"),
    PhoneNumberType.VOICEMAIL: ("voicemail", "voicemail access number not accepted"),
}


def _empty() -> PhoneRejected:
    return PhoneRejected("empty", "empty")


def _invalid() -> PhoneRejected:
    return PhoneRejected("invalid", "not a valid number")


def _not_uk() -> PhoneRejected:
    return PhoneRejected("not_uk", "not a UK number")


def _short_code() -> PhoneRejected:
    return PhoneRejected("short_code", "short code not accepted")


def _landline(channel: str) -> PhoneRejected:
    label = _TEXT_CHANNEL_LABELS[Channel(channel)]
    return PhoneRejected("landline", f"landline: not accepted for {label}")


def normalise(
    raw: str, channel: str = Channel.SMS, *, allowed_regions: frozenset[str] = frozenset()
) -> str:
    """Return `raw` as an E.164 string if `channel` may use it, else raise PhoneRejected.

    Accepts UK numbers written the ways people write them: spaces of any kind, dots,
    hyphens and the dashes and minus sign that editors substitute for them, brackets,
    "(0)" after the country code, a 0044 or a bare 44 prefix, and digits in other
    scripts. For "sms" and "whatsapp" only mobiles are accepted; "voice" also
    accepts landlines. A number from another country is refused unless its region code is
    in `allowed_regions`. Refuses letters, extensions, short codes, and the types in
    DESIGN.md's phone policy (070, 076, premium rate, shared cost, toll free, VoIP, UAN).
    Raises ValueError (not PhoneRejected) for an unknown channel: that is a caller's bug.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; expected one of {CHANNELS}")
    number = _parse(raw)
    _check_country(number, allowed_regions)
    _check_type(number, channel)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse(raw: str) -> PhoneNumber:
    cleaned = _strip_layout(raw)
    if not cleaned:
        raise _empty()
    if any(not (ch.isdecimal() or ch in _NUMBER_PUNCTUATION) for ch in cleaned):
        raise _invalid()
    try:
        number = phonenumbers.parse(cleaned, "GB", keep_raw_input=True)
    except NumberParseException:
        # Not chained: a report of this refusal should show our reason, not the parser's.
        raise _invalid() from None
    if number.extension:
        raise _invalid()
    return number


def _strip_layout(raw: str) -> str:
    """Remove whitespace and invisible format characters (direction marks, zero widths)."""
    return "".join(ch for ch in raw if not ch.isspace() and unicodedata.category(ch) != "Cf")


def _check_country(number: PhoneNumber, allowed_regions: frozenset[str]) -> None:
    if number.country_code == UK_COUNTRY_CODE:
        if phonenumbers.is_valid_number(number):
            return
        raise _short_code() if _looks_like_short_code(number) else _invalid()
    if number.country_code is None:
        raise _invalid()
    regions = phonenumbers.region_codes_for_country_code(number.country_code)
    if not allowed_regions.intersection(regions):
        raise _not_uk()
    region = phonenumbers.region_code_for_number(number)
    if region is None or not phonenumbers.is_valid_number(number):
        raise _invalid()
    if region not in allowed_regions:
        # Shares a country code with an allowed region (+1 US and CA) but is not one.
        raise _not_uk()


def _looks_like_short_code(number: PhoneNumber) -> bool:
    # Only when nobody wrote a country code: "+44 66777" is a mistyped number, "66777"
    # is a short code copied from an advert.
    written_locally = number.country_code_source == CountryCodeSource.FROM_DEFAULT_COUNTRY
    return written_locally and len(str(number.national_number)) <= _SHORT_CODE_MAX_DIGITS


def _check_type(number: PhoneNumber, channel: str) -> None:
    number_type = phonenumbers.number_type(number)
    if number_type in _REFUSED_TYPES:
        raise PhoneRejected(*_REFUSED_TYPES[number_type])
    if number_type == PhoneNumberType.MOBILE:
        return
    if number_type == PhoneNumberType.FIXED_LINE_OR_MOBILE:
        if channel == Channel.VOICE or _may_be_mobile(number):
            return
        raise _landline(channel)
    if number_type == PhoneNumberType.FIXED_LINE:
        if channel == Channel.VOICE:
            return
        raise _landline(channel)
    raise _invalid()


def _may_be_mobile(number: PhoneNumber) -> bool:
    """Whether a number typed FIXED_LINE_OR_MOBILE can be trusted to take texts.

    UK mobiles all sit in 07 (070 and 076 are typed separately and refused before this),
    so for +44 we check the range. Elsewhere the type means the plan does not tell them
    apart (the +1 countries): the clinic chose to allow that region, and a landline then
    shows up as a carrier error that falls back to voice.
    """
    if number.country_code == UK_COUNTRY_CODE:
        national = str(number.national_number)
        return national.startswith("7") and not national.startswith(("70", "76"))
    return True


def mask(e164: str) -> str:
    """Hide all but the country code and the last digits of an E.164 number.

    "+447911123456" becomes "+44******3456". Raises ValueError, without echoing the input,
    if `e164` is not in E.164 form.
    """
    if not _E164_SHAPE.fullmatch(e164):
        raise ValueError("mask expects an E.164 number")
    try:
        country_code = phonenumbers.parse(e164, None).country_code
    except NumberParseException:
        raise ValueError("mask expects an E.164 number") from None
    prefix = f"+{country_code}"
    national = e164[len(prefix) :]
    shown = 4 if len(national) > 6 else 2
    return prefix + "*" * (len(national) - shown) + national[-shown:]
