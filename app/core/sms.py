"""SMS encoding, segment counting and cost, the way carriers and Twilio count them.

A message is sent in GSM-7 when every character is in the GSM 03.38 default alphabet or
its extension table, and in UCS-2 otherwise. One character outside GSM-7 switches the
whole message, which roughly halves what fits in a segment and doubles the cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

GSM7 = "GSM-7"
UCS2 = "UCS-2"

MAX_BODY_CHARS = 1600

# GSM 03.38 default alphabet, in table order. The escape (0x1B) is not a character.
GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)

# Extension table: each is sent as escape + character, so costs two septets.
GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")

_GSM7_SINGLE_LIMIT = 160
_GSM7_PART_LIMIT = 153  # 7 septets go to the concatenation header
_UCS2_SINGLE_LIMIT = 70
_UCS2_PART_LIMIT = 67  # 6 bytes of header, in 2-byte units

# Characters that carry no glyph of their own. Babel and CLDR put them into formatted
# dates, times and numbers; any one of them forces UCS-2.
_INVISIBLE_SPACES = frozenset("\u00a0\u202f\u205f") | frozenset(map(chr, range(0x2000, 0x200B)))
_INVISIBLE_MARKS = frozenset("\u200b\u200e\u200f\u061c\u2060\ufeff")

# Typographic characters with a plain GSM-7 equivalent that reads the same.
_GSM_LOOKALIKES = {
    "\u2018": "'",  # ‘
    "\u2019": "'",  # ’
    "\u201a": "'",  # ‚
    "\u201b": "'",  # ‛
    "\u2032": "'",  # ′
    "\u201c": '"',  # “
    "\u201d": '"',  # ”
    "\u201e": '"',  # „
    "\u201f": '"',  # ‟
    "\u2033": '"',  # ″
    "\u00ab": '"',  # «
    "\u00bb": '"',  # »
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2015": "-",  # horizontal bar
    "\u2212": "-",  # minus sign
    "\u2026": "...",  # ellipsis
    "\u2022": "-",  # bullet
    "\u2023": "-",  # triangular bullet
    "\u2043": "-",  # hyphen bullet
    "\u00b7": "-",  # middle dot, used as a bullet
    "\t": " ",
}


@dataclass(frozen=True)
class Measure:
    """How a text would be sent and billed.

    `units` are septets for GSM-7 (an extension character counts 2) or UTF-16 code units
    for UCS-2 (a character outside the Basic Multilingual Plane, such as an emoji, counts
    2). `chars` counts code points. `non_gsm` lists, in order of first use, the distinct
    characters that forced UCS-2; it is empty for GSM-7.
    """

    encoding: str
    units: int
    segments: int
    chars: int
    non_gsm: tuple[str, ...]


def is_gsm7(char: str) -> bool:
    """Whether one character can be sent in GSM-7 (basic alphabet or extension table)."""
    return char in GSM7_BASIC or char in GSM7_EXTENSION


def ucs2_forcing_chars(text: str) -> tuple[str, ...]:
    """The distinct characters of `text` outside GSM-7, in order of first appearance."""
    return tuple(dict.fromkeys(ch for ch in text if not is_gsm7(ch)))


def measure(text: str) -> Measure:
    """Encoding, length in units, and segment count of `text` as carriers bill it.

    An empty text is 1 segment of 0 units: a message is billed for at least one segment.
    Segments are counted by walking the characters, because a GSM-7 escape pair and a
    UTF-16 surrogate pair are never split across two segments, so a split message can
    need one more segment than dividing the units suggests. Does not enforce
    MAX_BODY_CHARS; callers check that separately.
    """
    non_gsm = ucs2_forcing_chars(text)
    if non_gsm:
        costs = [_ucs2_units(ch) for ch in text]
        single, part, encoding = _UCS2_SINGLE_LIMIT, _UCS2_PART_LIMIT, UCS2
    else:
        costs = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        single, part, encoding = _GSM7_SINGLE_LIMIT, _GSM7_PART_LIMIT, GSM7
    units = sum(costs)
    segments = 1 if units <= single else _count_parts(costs, part)
    return Measure(encoding, units, segments, len(text), non_gsm)


def _ucs2_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _count_parts(costs: list[int], part_limit: int) -> int:
    """Pack characters into parts of `part_limit` units without splitting any character."""
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part_limit:
            parts, used = parts + 1, 0
        used += cost
    return parts


def normalise_invisible(text: str) -> str:
    """Replace invisible spaces with a plain space and remove invisible marks.

    Covers what Babel and CLDR put into formatted values (U+202F, U+00A0, U+2009, U+2007,
    U+200E, U+200F, U+061C) and stray zero-width characters (U+200B, U+2060, U+FEFF).
    Leaves the zero-width joiner and non-joiner alone: Indic and Arabic scripts and emoji
    sequences need them.
    """
    out = []
    for ch in text:
        if ch in _INVISIBLE_SPACES:
            out.append(" ")
        elif ch not in _INVISIBLE_MARKS:
            out.append(ch)
    return "".join(out)


def gsm_safe_rewrite(text: str) -> str | None:
    """A GSM-7 version of `text` that reads the same, or None if there is none to offer.

    Straightens curly quotes, turns dashes and bullets into "-", an ellipsis into "...",
    and normalises invisible spaces and marks. Returns None when the text is already
    GSM-7 (nothing to rewrite) or when characters with no faithful GSM-7 form remain,
    such as Welsh ŵ and ŷ: accents are never stripped, because that changes the words.
    """
    rewritten = "".join(_GSM_LOOKALIKES.get(ch, ch) for ch in normalise_invisible(text))
    if rewritten == text or ucs2_forcing_chars(rewritten):
        return None
    return rewritten


def estimate_cost(m: Measure, price_per_segment: Decimal) -> Decimal:
    """Price of sending one measured message: segments times the price of one segment.

    Refuses a negative price with ValueError.
    """
    if price_per_segment < 0:
        raise ValueError("price per segment must not be negative")
    return price_per_segment * m.segments
