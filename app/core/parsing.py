"""Read what a patient texted back: keywords, menu digits, survey answers.

Pure functions, no I/O. Every parser looks at the *whole* message after normalisation:
"Stop." and " STOP " are opt-outs, "please stop texting my mum" is free text for staff.
This mirrors how Twilio matches its own keywords, so we never disagree with Twilio about
whether a number has been blocked.

Every `parse_*` function checks the opt-out, opt-in and help keywords first and returns
that intent if one matches, so a caller that forgets the keyword step still cannot turn
"STOP" into a survey answer. Opt-out words of every locale are accepted whatever the
patient's locale; other words are accepted in the patient's locale and in English.

The non-English vocabularies live in `app.core.vocabulary` and are drafts that need
review by a qualified translator.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from app.core.locales import DEFAULT_LOCALE, canonical
from app.core.vocabulary import (
    CONFIRM_WORDS,
    DONT_KNOW_WORDS,
    HELP_WORDS,
    NO_WORDS,
    NUMBER_WORDS,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    SKIP_WORDS,
    TWILIO_OPT_OUT_WORDS,
    YES_WORDS,
)

__all__ = [
    "OPT_OUT_WORDS",
    "TWILIO_OPT_OUT_WORDS",
    "Intent",
    "Parsed",
    "all_opt_out_words",
    "collides_with_opt_out",
    "is_help",
    "is_opt_in",
    "is_opt_out",
    "normalise_text",
    "parse_choice",
    "parse_keyword",
    "parse_menu",
    "parse_number",
    "parse_yes_no",
    "to_ascii_digits",
]


class Intent(StrEnum):
    OPT_OUT = "opt_out"  # stop all messages from this clinic
    OPT_IN = "opt_in"  # start messages again after an opt-out
    HELP = "help"  # asked for the help text
    CONFIRM = "confirm"  # reminder menu 1: will attend
    CANCEL = "cancel"  # reminder menu 2: cancel the appointment (never the word CANCEL)
    REBOOK = "rebook"  # reminder menu 3: wants a different time
    NUMBER = "number"  # a number or survey choice, in `Parsed.number`
    YES = "yes"  # yes to a yes/no question
    NO = "no"  # no to a yes/no question
    SKIP = "skip"  # declined to answer this question
    DONT_KNOW = "dont_know"  # answered that they do not know
    TEXT = "text"  # anything else: free text, kept for staff or a free-text question


@dataclass(frozen=True)
class Parsed:
    intent: Intent
    number: int | None = None  # the number given, also when it was out of range
    text: str = ""  # the message after `normalise_text`


_DIGIT_ZEROS = (
    0x0660,  # Arabic-Indic
    0x06F0,  # Extended Arabic-Indic (Urdu, Persian)
    0x0966,  # Devanagari
    0x09E6,  # Bengali
    0x0A66,  # Gurmukhi
    0x0AE6,  # Gujarati
    0xFF10,  # full-width
)
_DIGITS = str.maketrans({zero + d: str(d) for zero in _DIGIT_ZEROS for d in range(10)})

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})

# Emoji presentation selectors and the keycap mark that phones attach to "1️⃣".
_EDGE_MARKS = frozenset({"\ufe0e", "\ufe0f", "\u20e3"})

# Only used to build comparison keys, never shown: spelling variants that patients type
# interchangeably (a Polish phone without "ł", Arabic or Urdu keyboards, apostrophes).
_KEY_TABLE = str.maketrans(
    {
        "'": None,
        "-": None,
        "\u00ad": None,  # soft hyphen
        "\u0640": None,  # Arabic tatweel
        "\u200c": None,  # zero-width non-joiner
        "\u200d": None,  # zero-width joiner
        "\u200e": None,  # left-to-right mark
        "\u200f": None,  # right-to-left mark
        "\ufeff": None,  # byte order mark
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ي": "ی",
        "ى": "ی",
        "ئ": "ی",  # yeh with hamza: people type the bare yeh
        "ؤ": "و",
        "ك": "ک",
        "ه": "ہ",
        "ة": "ہ",  # teh marbuta is often typed as heh ("جيده" for "جيدة")
        "ۃ": "ہ",
    }
)
# Arabic vowel marks (harakat) and hamza marks are optional in everyday typing.
_ARABIC_MARKS = frozenset(chr(c) for c in range(0x064B, 0x0660)) | {"\u0670"}

_Kind = Literal["opt_in", "help", "yes", "no", "confirm", "skip", "dont_know"]
_TABLES: dict[_Kind, dict[str, frozenset[str]]] = {
    "opt_in": OPT_IN_WORDS,
    "help": HELP_WORDS,
    "yes": YES_WORDS,
    "no": NO_WORDS,
    "confirm": CONFIRM_WORDS,
    "skip": SKIP_WORDS,
    "dont_know": DONT_KNOW_WORDS,
}

_MENU = {1: Intent.CONFIRM, 2: Intent.CANCEL, 3: Intent.REBOOK}
_MAX_DIGITS = 9  # longer digit runs are phone numbers or noise, not answers


def to_ascii_digits(s: str) -> str:
    """Replace digits of the supported scripts with ASCII 0-9.

    Converts Arabic-Indic, Extended Arabic-Indic, Devanagari, Bengali, Gurmukhi, Gujarati
    and full-width digits. Digits of other scripts and all other characters are left as
    they are.
    """
    return s.translate(_DIGITS)


def normalise_text(raw: str) -> str:
    """Return the message as the parsers compare it.

    NFKC, ASCII digits, case-folded, curly apostrophes made straight, punctuation,
    symbols, emoji and invisible marks stripped from both ends, and runs of whitespace
    collapsed to one space. Punctuation inside the message is kept ("don't know").
    """
    text = to_ascii_digits(unicodedata.normalize("NFKC", raw)).casefold()
    return " ".join(_strip_edges(text.translate(_APOSTROPHES)).split())


def all_opt_out_words() -> frozenset[str]:
    """Every opt-out word of every locale, including Twilio's list, as written."""
    return frozenset().union(*OPT_OUT_WORDS.values())


def collides_with_opt_out(word: str) -> bool:
    """Say whether `word`, sent as a whole reply, would opt the patient out.

    Used to lint templates: a reply instruction such as "reply CANCEL" must never ask the
    patient for an opt-out word in any language.
    """
    return _match_key(normalise_text(word)) in _opt_out_keys()


def is_opt_out(raw: str, locale: str) -> bool:
    """Say whether the whole message is an opt-out word.

    `locale` does not narrow the check: an opt-out word of any supported locale counts,
    because patients do not always text in their recorded language.
    """
    return _match_key(normalise_text(raw)) in _opt_out_keys()


def is_opt_in(raw: str, locale: str) -> bool:
    """Say whether the whole message is an opt-in word in `locale` or English.

    YES is not an opt-in word here, although Twilio also resubscribes on it.
    """
    return _has(_read(raw, locale), "opt_in")


def is_help(raw: str, locale: str) -> bool:
    """Say whether the whole message is a help word in `locale` or English."""
    return _has(_read(raw, locale), "help")


def parse_keyword(raw: str, locale: str) -> Intent | None:
    """Return OPT_OUT, OPT_IN or HELP when the whole message is such a keyword, else None.

    Opt-out wins if a word were ever listed twice.
    """
    return _keyword(_read(raw, locale))


def parse_menu(raw: str, locale: str, options: int = 3) -> Parsed:
    """Read a reply to a reminder menu: 1 confirm, 2 cancel, 3 rebook.

    Digits may be in any supported script. Yes and confirm words (in `locale` and
    English) mean CONFIRM; there are no cancel words, because the single word CANCEL is
    an opt-out. A number from 4 to `options` gives NUMBER; a number outside 1..`options`
    gives TEXT with `number` set. Raises ValueError when `options` is below 1.
    """
    if options < 1:
        raise ValueError(f"a menu needs at least one option, got {options}")
    message = _read(raw, locale)
    if (keyword := _keyword(message)) is not None:
        return Parsed(keyword, text=message.text)
    if (number := _as_int(message.text)) is not None:
        intent = _MENU.get(number, Intent.NUMBER) if 1 <= number <= options else Intent.TEXT
        return Parsed(intent, number, message.text)
    if _has(message, "yes") or _has(message, "confirm"):
        return Parsed(Intent.CONFIRM, text=message.text)
    return Parsed(Intent.TEXT, text=message.text)


def parse_choice(
    raw: str, locale: str, labels: Sequence[str], *, allow_dont_know: bool = True
) -> Parsed:
    """Read the answer to a single-choice question whose options are `labels`.

    A number 1..len(labels), or the text of a label itself (compared after
    normalisation), gives NUMBER with the 1-based index. A label match wins over the skip
    and don't-know words, so a question with a "Don't know" option gets its index. Skip
    words give SKIP; don't-know words give DONT_KNOW unless `allow_dont_know` is False.
    An out-of-range number gives TEXT with `number` set; anything else gives TEXT.
    """
    message = _read(raw, locale)
    if (keyword := _keyword(message)) is not None:
        return Parsed(keyword, text=message.text)
    if (number := _as_int(message.text)) is not None:
        intent = Intent.NUMBER if 1 <= number <= len(labels) else Intent.TEXT
        return Parsed(intent, number, message.text)
    if (index := _label_index(message.key, labels)) is not None:
        return Parsed(Intent.NUMBER, index, message.text)
    return _skip_or_dont_know(message, allow_dont_know)


def parse_yes_no(raw: str, locale: str) -> Parsed:
    """Read the answer to a yes/no question: YES, NO, SKIP, DONT_KNOW or TEXT.

    Words of `locale` and of English are accepted. Digits are not read as yes or no.
    """
    message = _read(raw, locale)
    if (keyword := _keyword(message)) is not None:
        return Parsed(keyword, text=message.text)
    if _has(message, "yes"):
        return Parsed(Intent.YES, text=message.text)
    if _has(message, "no"):
        return Parsed(Intent.NO, text=message.text)
    return _skip_or_dont_know(message, allow_dont_know=True)


def parse_number(
    raw: str,
    locale: str,
    lo: int | None = None,
    hi: int | None = None,
    *,
    words: bool = False,
) -> Parsed:
    """Read a whole non-negative number, in any supported digit script.

    Within `lo`..`hi` (either bound may be None) gives NUMBER; outside gives TEXT with
    `number` set. Refuses negatives, decimals and digit runs longer than nine digits.
    With `words`, a number from 0 to 10 written in words in `locale` or English
    ("seven", "siedem", "七") counts too; without, words are TEXT. Skip and don't-know
    words are recognised.
    """
    message = _read(raw, locale)
    if (keyword := _keyword(message)) is not None:
        return Parsed(keyword, text=message.text)
    if _starts_with_minus(raw):
        return Parsed(Intent.TEXT, text=message.text)
    number = _as_int(message.text)
    if number is None and words:
        number = _number_keys(message.locale).get(message.key)
    if number is not None:
        in_range = (lo is None or number >= lo) and (hi is None or number <= hi)
        return Parsed(Intent.NUMBER if in_range else Intent.TEXT, number, message.text)
    return _skip_or_dont_know(message, allow_dont_know=True)


@dataclass(frozen=True)
class _Message:
    text: str  # normalised, returned to callers
    key: str  # folded further, only for comparison with vocabulary
    locale: str  # project code whose words apply besides English


def _read(raw: str, locale: str) -> _Message:
    text = normalise_text(raw)
    return _Message(text, _match_key(text), canonical(locale) or DEFAULT_LOCALE)


def _keyword(message: _Message) -> Intent | None:
    if message.key in _opt_out_keys():
        return Intent.OPT_OUT
    if _has(message, "opt_in"):
        return Intent.OPT_IN
    if _has(message, "help"):
        return Intent.HELP
    return None


def _skip_or_dont_know(message: _Message, allow_dont_know: bool) -> Parsed:
    if _has(message, "skip"):
        return Parsed(Intent.SKIP, text=message.text)
    if allow_dont_know and _has(message, "dont_know"):
        return Parsed(Intent.DONT_KNOW, text=message.text)
    return Parsed(Intent.TEXT, text=message.text)


def _has(message: _Message, kind: _Kind) -> bool:
    return message.key in _keys(kind, message.locale)


@functools.cache
def _keys(kind: _Kind, locale: str) -> frozenset[str]:
    table = _TABLES[kind]
    words = table.get(locale, frozenset()) | table[DEFAULT_LOCALE]
    return frozenset(_match_key(normalise_text(word)) for word in words)


@functools.cache
def _number_keys(locale: str) -> dict[str, int]:
    """Number words of English and then `locale` (which win on a clash), by match key."""
    table = NUMBER_WORDS[DEFAULT_LOCALE] | NUMBER_WORDS.get(locale, {})
    return {_match_key(normalise_text(word)): number for word, number in table.items()}


@functools.cache
def _opt_out_keys() -> frozenset[str]:
    return frozenset(_match_key(normalise_text(word)) for word in all_opt_out_words())


def _label_index(key: str, labels: Sequence[str]) -> int | None:
    if not key:
        return None
    for index, label in enumerate(labels, start=1):
        if _match_key(normalise_text(label)) == key:
            return index
    return None


def _as_int(text: str) -> int | None:
    if 0 < len(text) <= _MAX_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None


def _starts_with_minus(raw: str) -> bool:
    return unicodedata.normalize("NFKC", raw).lstrip()[:1] in {"-", "\u2212", "\u2013"}


def _strip_edges(text: str) -> str:
    start, end = 0, len(text)
    while start < end and _is_edge_noise(text[start]):
        start += 1
    while end > start and _is_edge_noise(text[end - 1]):
        end -= 1
    return text[start:end]


def _is_edge_noise(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "PSZ" or category in {"Cc", "Cf"} or char in _EDGE_MARKS


def _match_key(text: str) -> str:
    """Fold a normalised text further for comparison only.

    Drops accents on Latin letters and optional Arabic marks, unifies Arabic and Urdu
    letter variants, removes apostrophes and hyphens, and treats other punctuation as a
    space. Marks on other scripts (Indic vowel signs, nukta, bindi) carry meaning and
    are kept.
    """
    kept: list[str] = []
    base = ""
    for char in unicodedata.normalize("NFD", text.translate(_KEY_TABLE)):
        if not unicodedata.combining(char):
            base = char
        elif (base.isascii() and base.isalpha()) or char in _ARABIC_MARKS:
            continue
        kept.append(" " if unicodedata.category(char).startswith("P") else char)
    return " ".join(unicodedata.normalize("NFC", "".join(kept)).split())


_LETTERED = re.compile(r"^(?:(\d)\s*([a-z])|([a-z])\s*(\d))$")


def parse_lettered_menu(raw: str, locale: str, options: int = 3) -> tuple[Parsed, int] | None:
    """Read a menu answer that names one of several appointments: "1A", "2 b", "B3".

    Returns the menu reading of the digit and the 0-based index of the letter, or None
    when the message is not of that form.
    """
    message = _read(raw, locale)
    found = _LETTERED.match(message.text)
    if found is None:
        return None
    digit = found.group(1) or found.group(4)
    letter = found.group(2) or found.group(3)
    return parse_menu(digit, locale, options), ord(letter) - ord("a")
