"""How simulated patients recognise a survey question and answer it, by text or keypad.

A persona "understands" a message by finding in it a text it knows: the Friends and
Family Test question or its follow-up, in English or in any locale's catalogue. Other
surveys go unanswered by text; on the telephone any offered key may be pressed.
"""

from __future__ import annotations

import random
import re
import unicodedata
from functools import lru_cache

from app.core.locales import SUPPORTED_LOCALES
from app.core.sms import normalise_invisible
from app.messaging.compose import localise
from app.simulator.comments import themed_comment, themed_locales
from app.simulator.phrasebook import COMMENTS, DIGITS
from app.surveys import texts

#: The FFT answer labels, in the order of their numbers (1 Very good … 6 Don't know).
FFT_LABELS = (
    texts.FFT_VERY_GOOD,
    texts.FFT_GOOD,
    texts.FFT_NEITHER,
    texts.FFT_POOR,
    texts.FFT_VERY_POOR,
    texts.FFT_DONT_KNOW,
)
#: Answers counted as pleased, for choosing a comment.
_PLEASED = frozenset({1, 2})
# A key offered on the telephone: a lone digit, not part of a time, date or number.
_OFFERED = re.compile(r"(?<![\w:/.,])([0-9])(?![\w:/]|[.,]\d)")


@lru_cache(maxsize=64)
def _variants(msgid: str) -> tuple[str, ...]:
    """`msgid` in English and as every locale's catalogue has it."""
    found = {normalise_invisible(localise(msgid, (code, "en"))[0]) for code in SUPPORTED_LOCALES}
    return tuple(sorted(found | {msgid}))


def survey_question(body: str) -> str | None:
    """ "fft" if `body` asks the Friends and Family Test question, "follow_up" if it asks
    its free-text follow-up, None otherwise."""
    if any(text in body for text in _variants(texts.FFT_QUESTION)):
        return "fft"
    if any(text in body for text in _variants(texts.FFT_FOLLOW_UP)):
        return "follow_up"
    return None


def label(locale: str, answer: int) -> str:
    """The label of FFT answer `answer` (1 to 6) as the persona's language has it."""
    return localise(FFT_LABELS[answer - 1], (locale, "en"))[0]


def comment(rng: random.Random, locale: str, answer: int) -> str:
    """A comment in the persona's language that fits how they answered."""
    pleased, displeased = COMMENTS[locale]
    if answer in _PLEASED:
        return rng.choice(pleased)
    if answer in (4, 5):
        return rng.choice(displeased)
    return rng.choice(pleased + displeased)


def free_text(rng: random.Random, locale: str, answer: int) -> str:
    """What the persona writes when asked for their words: in the languages
    `app.simulator.comments` writes, a comment about seeded themes (the common ones more
    often, as positive or negative as the answer); in the others, a set phrase."""
    if locale in themed_locales():
        return themed_comment(rng, locale, answer if answer <= 5 else 3)[0]
    return comment(rng, locale, answer)


def native_digits(text: str, locale: str) -> str:
    """`text` with its ASCII digits written in the locale's own digits, if it has any."""
    native = DIGITS.get(locale)
    if native is None:
        return text
    return "".join(native[int(ch)] if ch.isascii() and ch.isdigit() else ch for ch in text)


def offered_keys(prompt: str) -> list[str]:
    """The keys a spoken prompt offers: its lone digits, in any script, in order."""
    ascii_prompt = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in prompt)
    return list(dict.fromkeys(_OFFERED.findall(ascii_prompt)))
