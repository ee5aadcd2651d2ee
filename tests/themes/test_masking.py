"""Masking personal data per locale: table tests and properties over seeded data."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.themes.masking import PiiKind, mask, nhs_check_digit_ok


@pytest.mark.parametrize(
    ("locale", "text", "expected"),
    [
        ("en", "Dr Patel and Nurse Jones were lovely.", "Dr [name] and Nurse [name] were lovely."),
        ("en", "Ring me on 07400 123456 please", "Ring me on [phone] please"),
        ("en", "Email me at jo.bloggs@example.co.uk.", "Email me at [email]."),
        ("en", "My NHS number is 943 476 5919", "My NHS number is [NHS number]"),
        ("en", "born 12/03/1980 and seen on 3rd March 2024", "born [date] and seen on [date]"),
        ("en", "I live at 12 Elm Road, NG7 2UH", "I live at [address], [postcode]"),
        ("en", "John Smith helped me", "[name] helped me"),
        (
            "cy",
            "Roedd Nyrs Gwen yn garedig, Heol y Bont 4.",
            "Roedd Nyrs [name] yn garedig, [address].",
        ),
        ("pl", "Pani Kowalska, ul. Kwiatowa 5, 3 marca 1980", "Pani [name], [address], [date]"),
        ("ro", "Doctorul Popescu a fost amabil", "Doctorul [name] a fost amabil"),
        ("es", "La Dra. García, Calle Mayor 12.", "La Dra. [name], [address]."),
        ("pt", "O Dr. Silva, Rua das Flores, 12", "O Dr. [name], [address]"),
        ("lt", "Daktarė Jonaitė buvo maloni", "Daktarė [name] buvo maloni"),
        ("so", "Dhakhtar Cali wuu fiicnaa", "Dhakhtar [name] wuu fiicnaa"),
        ("ar", "الدكتور أحمد كان لطيفا", "الدكتور [name] كان لطيفا"),
        ("ur", "ڈاکٹر عمران بہت اچھے تھے", "ڈاکٹر [name] بہت اچھے تھے"),
        ("bn", "ডাক্তার রহিম খুব ভালো", "ডাক্তার [name] খুব ভালো"),
        ("pa", "ਡਾਕਟਰ ਗੁਰਪ੍ਰੀਤ ਬਹੁਤ ਚੰਗੇ ਸਨ", "ਡਾਕਟਰ [name] ਬਹੁਤ ਚੰਗੇ ਸਨ"),
        ("gu", "ડૉક્ટર અમિત ખૂબ સારા હતા", "ડૉક્ટર [name] ખૂબ સારા હતા"),
        ("zh_Hans", "王医生很好，电话07400123456", "[name]医生很好，电话[phone]"),
        (
            "en",
            "The parking was awful and I waited 2 hours.",
            "The parking was awful and I waited 2 hours.",
        ),
    ],
)
def test_masks_personal_data_per_locale(locale: str, text: str, expected: str) -> None:
    assert mask(text, locale).text == expected


def test_says_what_it_found() -> None:
    found = mask("Dr Patel, 07400 123456, a@b.org", "en").found
    assert found == (PiiKind.EMAIL, PiiKind.PHONE, PiiKind.NAME)


def test_nhs_check_digit() -> None:
    assert nhs_check_digit_ok("9434765919")
    assert not nhs_check_digit_ok("9434765918")
    assert not nhs_check_digit_ok("943476591")


def _nhs_number(digits: list[int]) -> str | None:
    total = sum(d * (10 - i) for i, d in enumerate(digits))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return None if check == 10 else "".join(map(str, digits)) + str(check)


_AROUND = st.text(
    alphabet=st.characters(categories=("Lu", "Ll", "Zs", "Po", "Lo"), exclude_characters="@\x00"),
    max_size=40,
)
_LOCALES = st.sampled_from(
    ["en", "cy", "pl", "ro", "ur", "pa", "bn", "gu", "ar", "so", "pt", "lt", "es", "zh_Hans"]
)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@settings(max_examples=150, deadline=None)
@given(
    before=_AROUND,
    after=_AROUND,
    locale=_LOCALES,
    prefix=st.sampled_from(["074", "075", "077", "078", "079"]),
    rest=st.integers(min_value=0, max_value=99_999_999),
    style=st.sampled_from(["{a}{b}", "{a} {b}", "+44 {a1} {b}", "({a}) {b}", "{a}-{b}"]),
)
def test_a_seeded_phone_number_never_survives(
    before: str, after: str, locale: str, prefix: str, rest: int, style: str
) -> None:
    number = f"{prefix}{rest:08d}"
    written = style.format(a=number[:5], a1=number[1:5], b=number[5:])
    masked = mask(f"{before} {written} {after}", locale).text
    assert written not in masked
    assert _digits(number)[1:] not in _digits(masked)


@settings(max_examples=150, deadline=None)
@given(before=_AROUND, after=_AROUND, locale=_LOCALES, email=st.emails())
def test_a_seeded_email_never_survives(before: str, after: str, locale: str, email: str) -> None:
    masked = mask(f"{before} {email} {after}", locale).text
    assert email not in masked
    assert "@" not in masked


@settings(max_examples=150, deadline=None)
@given(
    before=_AROUND,
    after=_AROUND,
    locale=_LOCALES,
    digits=st.lists(st.integers(0, 9), min_size=9, max_size=9),
    spaced=st.booleans(),
)
def test_a_seeded_nhs_number_never_survives(
    before: str, after: str, locale: str, digits: list[int], spaced: bool
) -> None:
    number = _nhs_number(digits)
    if number is None:
        return
    written = f"{number[:3]} {number[3:6]} {number[6:]}" if spaced else number
    masked = mask(f"{before} {written} {after}", locale).text
    assert number not in _digits(masked)
