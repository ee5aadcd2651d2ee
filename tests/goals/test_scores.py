"""Reading a goal score in every locale: digits of the locale's script, numbers written
in words, out of range, skip, and STOP, as a patient of each locale might type them."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from app.core import vocabulary
from app.core.locales import SUPPORTED_LOCALES
from app.core.parsing import Intent, parse_keyword, parse_number, parse_yes_no
from app.goals.calls import key_score


class Typed(NamedTuple):
    """How a patient of one locale might type scores."""

    zero: int | None  # the digit zero of the locale's own script, if it has one
    seven: str  # seven in words, as typed (case and accents loose)
    ten: str  # ten in words
    skip: str  # a skip word of the locale


# fmt: off
TYPED: dict[str, Typed] = {
    "en": Typed(None, "Seven", "TEN", "skip"),
    "cy": Typed(None, "saith", "Deg", "hepgor"),
    "pl": Typed(None, "siedem", "dziesiec", "pomin"),  # no Polish letters on the phone
    "ro": Typed(None, "sapte", "zece", "sari"),
    "ur": Typed(0x06F0, "سات", "دس", "چھوڑیں"),
    "pa": Typed(0x0A66, "ਸੱਤ", "ਦਸ", "ਛੱਡੋ"),
    "bn": Typed(0x09E6, "সাত", "দশ", "বাদ"),
    "gu": Typed(0x0AE6, "સાત", "દસ", "છોડો"),
    "ar": Typed(0x0660, "سبعه", "عشرة", "تخطي"),  # teh marbuta typed as heh
    "so": Typed(None, "Toddoba", "toban", "ka bood"),
    "pt": Typed(None, "sete", "dez", "saltar"),
    "lt": Typed(None, "septyni", "desimt", "praleisti"),
    "es": Typed(None, "siete", "Diez", "saltar"),
    "zh_Hans": Typed(0xFF10, "七", "十", "跳过"),
}
# fmt: on


def native(number: int, zero: int | None) -> str:
    digits = str(number)
    return digits if zero is None else "".join(chr(zero + int(d)) for d in digits)


def read(raw: str, locale: str) -> tuple[Intent, int | None]:
    parsed = parse_number(raw, locale, 0, 10, words=True)
    return parsed.intent, parsed.number


def cases() -> list[object]:
    rows = []
    for locale in SUPPORTED_LOCALES:
        typed = TYPED[locale]
        rows += [
            pytest.param(locale, "0", (Intent.NUMBER, 0), id=f"{locale}-zero"),
            pytest.param(locale, " 10. ", (Intent.NUMBER, 10), id=f"{locale}-ten-digits"),
            pytest.param(
                locale, native(7, typed.zero), (Intent.NUMBER, 7), id=f"{locale}-own-digits"
            ),
            pytest.param(
                locale, native(10, typed.zero), (Intent.NUMBER, 10), id=f"{locale}-own-ten"
            ),
            pytest.param(locale, typed.seven, (Intent.NUMBER, 7), id=f"{locale}-seven-word"),
            pytest.param(locale, typed.ten, (Intent.NUMBER, 10), id=f"{locale}-ten-word"),
            pytest.param(locale, "eight", (Intent.NUMBER, 8), id=f"{locale}-english-word"),
            pytest.param(locale, "11", (Intent.TEXT, 11), id=f"{locale}-out-of-range"),
            pytest.param(locale, "7.5", (Intent.TEXT, None), id=f"{locale}-decimal"),
            pytest.param(locale, typed.skip, (Intent.SKIP, None), id=f"{locale}-skip"),
            pytest.param(locale, "STOP", (Intent.OPT_OUT, None), id=f"{locale}-stop"),
            pytest.param(locale, "7 but it's hard", (Intent.TEXT, None), id=f"{locale}-sentence"),
        ]
    return rows


@pytest.mark.parametrize(("locale", "raw", "expected"), cases())
def test_a_score_is_read_in_every_locale(
    locale: str, raw: str, expected: tuple[Intent, int | None]
) -> None:
    assert read(raw, locale) == expected


def test_number_words_are_only_read_when_asked_for() -> None:
    # A survey's number question keeps reading digits only.
    assert parse_number("seven", "en", 0, 10).intent is Intent.TEXT
    assert parse_number("siedem", "pl", 0, 10, words=True).number == 7


def test_every_locale_has_number_words_from_0_to_10() -> None:
    assert set(vocabulary.NUMBER_WORDS) == set(SUPPORTED_LOCALES)
    for locale, words in vocabulary.NUMBER_WORDS.items():
        assert set(words.values()) == set(range(11)), locale


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_no_number_word_is_a_keyword_or_an_answer_word(locale: str) -> None:
    for word, number in vocabulary.NUMBER_WORDS[locale].items():
        assert parse_keyword(word, locale) is None, word
        assert parse_yes_no(word, locale).intent is Intent.TEXT, word
        assert read(word, locale) == (Intent.NUMBER, number), word
        assert read(word.upper(), locale) == (Intent.NUMBER, number), word


@pytest.mark.parametrize(
    ("keys", "score"),
    [("0", 0), ("7", 7), ("9", 9), ("*", 10), ("#", None), ("", None), ("10", None)],
)
def test_one_key_gives_a_score_and_star_is_10(keys: str, score: int | None) -> None:
    assert key_score(keys) == score
