"""Masking personal data in what patients write, per locale (pure).

Before a comment is shown to anyone but the care team, or published, each of these is
replaced by a bracketed placeholder that names what was there:

| found                                                   | placeholder     |
|---------------------------------------------------------|-----------------|
| an email address                                        | `[email]`       |
| an NHS number: 10 digits (spaced 3-3-4 or not) whose    | `[NHS number]`  |
| modulus 11 check digit is right                         |                 |
| a date with day, month and year (numbers, or the month  | `[date]`        |
| named in the locale or in English), and a year of birth |                 |
| a telephone number (`phonenumbers`' matcher, UK first)  | `[phone]`       |
| any other run of 8 or more digits (a number a matcher   | `[number]`      |
| did not recognise is still masked)                      |                 |
| a UK postcode                                           | `[postcode]`    |
| a street address: a house number and a street name with | `[address]`     |
| a street word of the locale ("12 Elm Road", "ul.        |                 |
| Kwiatowa 5", "Rua das Flores, 12")                      |                 |
| a name: the words after a title ("Dr", "Nurse", "Pani", | `[name]`        |
| "ڈاکٹر") and common first names of the locale           |                 |

English rules always apply as well as the locale's (patients mix languages). The word
lists (`pii_words.json`) are drafts for review like the catalogues. Masking errs on the
side of hiding: a number that is not personal may be masked; names that are not in the
lists and follow no title are not found, which is why a quote is published only after
a person has approved it.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.dates import get_month_names


class PiiKind(enum.StrEnum):
    EMAIL = "email"  # an email address
    NHS_NUMBER = "NHS number"  # 10 digits with a valid check digit
    DATE = "date"  # a full date or a year of birth
    PHONE = "phone"  # a telephone number
    NUMBER = "number"  # any other long run of digits
    POSTCODE = "postcode"  # a UK postcode
    ADDRESS = "address"  # a house number and street
    NAME = "name"  # a person's name


@dataclass(frozen=True)
class Masked:
    """A masked text and the kinds of personal data found in it (each once, in order)."""

    text: str
    found: tuple[PiiKind, ...]


_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+\.[^\s@<>()\[\],;:\"]*\w")
_NHS = re.compile(r"(?<![\d+])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)")
_DIGIT_RUN = re.compile(r"\+?\d(?:[ \t().\-/]{0,2}\d){7,}")
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE)
_NUMERIC_DATE = re.compile(
    r"\b(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})|\d{4}[./-]\d{1,2}[./-]\d{1,2})\b"
)
_CJK_DATE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?")
_BIRTH_YEAR = re.compile(
    r"\b(?:born(?: in)?|DOB|D\.O\.B\.?|date of birth:?)\s*(?:in\s+)?\d{4}\b", re.IGNORECASE
)
#: A capitalised word in a Latin, Greek or Cyrillic script (names in cased scripts).
_CAPITALISED = r"[A-ZÀ-ÖØ-ÞĀ-ſ][\w'’-]*"
#: Small words inside street names ("Heol y Bont", "Rua das Flores", "Calle de la Paz").
_CONNECTORS = r"(?:y|yr|de|del|la|las|los|da|das|do|dos|di)(?=\s)"
_PLACEHOLDER = re.compile(r"\[(?:" + "|".join(re.escape(k.value) for k in PiiKind) + r")\]")


def mask(text: str, locale: str = "en", *, region: str = "GB") -> Masked:
    """`text` with its personal data replaced by placeholders (see the module docstring).

    `locale` is a project locale code; `region` is where phone numbers without a country
    code are read as local.
    """
    found: list[PiiKind] = []
    rules = _rules(locale)
    masked = text
    for kind, rule in (
        (PiiKind.EMAIL, _sub(_EMAIL)),
        (PiiKind.NHS_NUMBER, _nhs_numbers),
        (PiiKind.DATE, _dates(locale)),
        (PiiKind.PHONE, lambda t: _phones(t, region)),
        (PiiKind.NUMBER, _sub(_DIGIT_RUN)),
        (PiiKind.POSTCODE, _sub(_POSTCODE)),
        (PiiKind.ADDRESS, rules.addresses),
        (PiiKind.NAME, rules.names),
    ):
        replaced, count = rule(masked)
        if count:
            masked = _merge_placeholders(replaced, kind)
            found.append(kind)
    return Masked(masked, tuple(found))


def nhs_check_digit_ok(digits: str) -> bool:
    """Whether 10 digits form a valid NHS number (the modulus 11 check)."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


# -- rules ------------------------------------------------------------------------------

_Rule = Callable[[str], tuple[str, int]]


def _sub(pattern: re.Pattern[str]) -> _Rule:
    def rule(text: str) -> tuple[str, int]:
        return pattern.subn("\x00", text)

    return rule


def _merge_placeholders(text: str, kind: PiiKind) -> str:
    return text.replace("\x00", f"[{kind.value}]")


def _nhs_numbers(text: str) -> tuple[str, int]:
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        if not nhs_check_digit_ok("".join(match.groups())):
            return match.group(0)
        count += 1
        return "\x00"

    return _NHS.sub(replace, text), count


def _phones(text: str, region: str) -> tuple[str, int]:
    spans = [
        (m.start, m.end)
        for m in phonenumbers.PhoneNumberMatcher(text, region, phonenumbers.Leniency.POSSIBLE)
    ]
    for start, end in reversed(spans):
        text = text[:start] + "\x00" + text[end:]
    return text, len(spans)


def _dates(locale: str) -> _Rule:
    months = _month_pattern(locale)
    day = r"\d{1,2}(?:st|nd|rd|th|\.|º|er)?"
    named = re.compile(
        rf"\b(?:{day}\s+(?:of\s+|de\s+)?(?:{months})\.?,?\s+(?:de\s+)?\d{{4}}"
        rf"|(?:{months})\.?\s+{day},?\s+\d{{4}})(?!\d)",
        re.IGNORECASE,
    )

    def rule(text: str) -> tuple[str, int]:
        total = 0
        for pattern in (_CJK_DATE, named, _NUMERIC_DATE, _BIRTH_YEAR):
            text, count = pattern.subn("\x00", text)
            total += count
        return text, total

    return rule


@cache
def _month_pattern(locale: str) -> str:
    names: set[str] = set()
    for code in dict.fromkeys(("en", locale)):
        try:
            babel_locale = Locale.parse(code)
        except (UnknownLocaleError, ValueError):
            continue
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                names |= {
                    str(name).rstrip(".")
                    for name in get_month_names(width, context, babel_locale).values()
                }
    ordered = sorted((n for n in names if len(n) >= 3), key=len, reverse=True)
    return "|".join(re.escape(name) for name in ordered)


@dataclass(frozen=True)
class _LocaleRules:
    addresses: _Rule
    names: _Rule


@cache
def _words() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files("app.themes").joinpath("pii_words.json").read_text(encoding="utf-8")
    )
    return data["locales"]  # type: ignore[no-any-return]


def _merged(locale: str, key: str) -> list[str]:
    words = _words()
    values: list[str] = []
    for code in dict.fromkeys(("en", locale)):
        values += words.get(code, {}).get(key, [])
    return sorted(set(values), key=len, reverse=True)


def _alternatives(values: list[str]) -> str:
    return "|".join(re.escape(v) for v in values) or r"(?!x)x"


@cache
def _rules(locale: str) -> _LocaleRules:
    return _LocaleRules(_address_rule(locale), _name_rule(locale))


def _address_rule(locale: str) -> _Rule:
    number = r"\d{1,4}[A-Za-z]?"
    street = rf"(?:{_CAPITALISED}\s+){{1,3}}"
    strong = _alternatives(_merged(locale, "street_suffixes"))
    weak = _alternatives(_merged(locale, "weak_street_suffixes"))
    prefixes = _alternatives(_merged(locale, "street_prefixes"))
    patterns = [
        re.compile(rf"(?:\b{number},?\s+)?{street}(?:{strong})(?![\w])\.?"),
        re.compile(rf"\b{number},?\s+{street}(?:{weak})\b"),
        re.compile(
            rf"(?<![\w])(?:{prefixes})\s*(?:(?:{_CAPITALISED}|{_CONNECTORS})\s*){{1,4}}"
            rf"(?:,?\s*(?:nr\.?|n\.?º|no\.?)?\s*{number}\b)?"
        ),
    ]
    if locale == "zh_Hans":
        patterns.append(re.compile(r"[\u4e00-\u9fff]{1,6}(?:路|街|大道)\d{0,4}号?"))

    def rule(text: str) -> tuple[str, int]:
        total = 0
        for pattern in patterns:
            text, count = pattern.subn("\x00", text)
            total += count
        return text, total

    return rule


def _name_rule(locale: str) -> _Rule:
    titles = _alternatives(_merged(locale, "titles"))
    first_names = _alternatives(_merged(locale, "names"))
    following = rf"(?:{_CAPITALISED}|[^\s\w]*[^\W\d_A-Za-zÀ-ɏ][^\s,.;:!?()]*)"
    after_title = re.compile(
        rf"(?<![\w])(?P<title>(?i:{titles})\.?)\s+(?P<name>{following}(?:\s+{_CAPITALISED})?)"
    )
    named = re.compile(rf"(?<![\w])(?:{first_names})(?![\w])(?:\s+{_CAPITALISED})?")
    suffixes = _alternatives(_merged(locale, "name_suffixes"))
    before_suffix = re.compile(rf"[\u4e00-\u9fff]{{1,3}}(?=(?:{suffixes}))")

    def rule(text: str) -> tuple[str, int]:
        total = 0

        def keep_title(match: re.Match[str]) -> str:
            nonlocal total
            if _PLACEHOLDER.fullmatch(match.group("name")) or match.group("name") == "\x00":
                return match.group(0)
            total += 1
            return f"{match.group('title')} \x00"

        text = after_title.sub(keep_title, text)
        text, count = named.subn("\x00", text)
        total += count
        if locale == "zh_Hans":
            text, count = before_suffix.subn("\x00", text)
            total += count
        return text, total

    return rule
