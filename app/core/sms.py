"""SMS encoding, segment counting and cost, the way carriers and Twilio count them.

A message is sent in GSM-7 when every character is in the GSM 03.38 default alphabet or
its extension table, and in UCS-2 otherwise. One character outside GSM-7 switches the
whole message, which roughly halves what fits in a segment and doubles the cost.

How a split UCS-2 message is cut. Twilio's documentation says only that UCS-2 messages
over 70 characters are "split into 67-character segments". Twilio's own segment
calculator (TwilioDevEd/message-segment-calculator, `src/libs/SegmentedMessage.ts`)
splits the text into extended grapheme clusters with the `grapheme-splitter` package
(UAX #29, Unicode 10.0), gives each cluster 16 bits per UTF-16 code unit, and starts a
new segment when the next cluster does not fit: a cluster is never split across two
segments. Its maintainers checked its counts against the `num_segments` Twilio billed on
live messages (issue #66: 16 cases, all equal), though in none of them does keeping
clusters whole change the count. Twilio itself cannot be reached from here, so we follow
the calculator, Twilio's published tool. Keeping clusters whole can only add a segment
to a count that splits them, never remove one: if Twilio does split them, the estimate
is one segment high, never low. `grapheme_clusters` implements the part of UAX #29 that
matters for the scripts and emoji we send; see its notes.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

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
#: `normalise_invisible` as a table for `str.translate`.
_INVISIBLE_TABLE = {ord(ch): " " for ch in _INVISIBLE_SPACES} | {
    ord(ch): None for ch in _INVISIBLE_MARKS
}

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


# Grapheme cluster break classes (UAX #29), as far as `grapheme_clusters` uses them.
_OTHER, _CONTROL, _EXTEND, _SPACING_MARK, _ZWJ, _REGIONAL, _PICTOGRAPHIC, _PREPEND = range(8)
# Without a character of one of these classes, every code point is a cluster of its own.
_JOINING = frozenset({_EXTEND, _SPACING_MARK, _ZWJ, _REGIONAL, _PREPEND})

# Prepended concatenation marks (Arabic number signs and the like): they join what follows.
_PREPEND_CHARS = frozenset("\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2")

# Extended_Pictographic (Unicode emoji-data.txt), as sorted inclusive (first, last) ranges.
# Regional indicators (U+1F1E6..1F1FF) and skin-tone modifiers (U+1F3FB..1F3FF) are not
# in it: they are classes of their own.
_PICTOGRAPHIC_RANGES: tuple[tuple[int, int], ...] = (
    (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049),
    (0x2122, 0x2122), (0x2139, 0x2139), (0x2194, 0x2199), (0x21A9, 0x21AA),
    (0x231A, 0x231B), (0x2328, 0x2328), (0x2388, 0x2388), (0x23CF, 0x23CF),
    (0x23E9, 0x23F3), (0x23F8, 0x23FA), (0x24C2, 0x24C2), (0x25AA, 0x25AB),
    (0x25B6, 0x25B6), (0x25C0, 0x25C0), (0x25FB, 0x25FE), (0x2600, 0x2605),
    (0x2607, 0x2612), (0x2614, 0x2685), (0x2690, 0x2705), (0x2708, 0x2712),
    (0x2714, 0x2714), (0x2716, 0x2716), (0x271D, 0x271D), (0x2721, 0x2721),
    (0x2728, 0x2728), (0x2733, 0x2734), (0x2744, 0x2744), (0x2747, 0x2747),
    (0x274C, 0x274C), (0x274E, 0x274E), (0x2753, 0x2755), (0x2757, 0x2757),
    (0x2763, 0x2767), (0x2795, 0x2797), (0x27A1, 0x27A1), (0x27B0, 0x27B0),
    (0x27BF, 0x27BF), (0x2934, 0x2935), (0x2B05, 0x2B07), (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50), (0x2B55, 0x2B55), (0x3030, 0x3030), (0x303D, 0x303D),
    (0x3297, 0x3297), (0x3299, 0x3299), (0x1F000, 0x1F0FF), (0x1F10D, 0x1F10F),
    (0x1F12F, 0x1F12F), (0x1F16C, 0x1F171), (0x1F17E, 0x1F17F), (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A), (0x1F1AD, 0x1F1E5), (0x1F201, 0x1F20F), (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F), (0x1F232, 0x1F23A), (0x1F23C, 0x1F23F), (0x1F249, 0x1F3FA),
    (0x1F400, 0x1F53D), (0x1F546, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F774, 0x1F77F),
    (0x1F7D5, 0x1F7FF), (0x1F80C, 0x1F80F), (0x1F848, 0x1F84F), (0x1F85A, 0x1F85F),
    (0x1F888, 0x1F88F), (0x1F8AE, 0x1F8FF), (0x1F90C, 0x1F93A), (0x1F93C, 0x1F945),
    (0x1F947, 0x1FAFF), (0x1FC00, 0x1FFFD),
)  # fmt: skip
_PICTOGRAPHIC_STARTS = tuple(first for first, _ in _PICTOGRAPHIC_RANGES)


@dataclass(frozen=True)
class Measure:
    """How a text would be sent and billed.

    `units` are septets for GSM-7 (an extension character counts 2) or UTF-16 code units
    for UCS-2 (a character outside the Basic Multilingual Plane, such as an emoji, counts
    2). `chars` counts code points. `non_gsm` lists, in order of first use, the distinct
    characters that forced UCS-2; it is empty for GSM-7. A split UCS-2 message is packed
    by whole grapheme clusters (see the module notes), so `segments` can be one more
    than packing code units would give.
    """

    encoding: str
    units: int
    segments: int
    chars: int
    non_gsm: tuple[str, ...]


#: A character outside GSM-7, and an extension character (two septets); searched for
#: rather than tested one character at a time, as every message is measured.
_NOT_GSM7 = re.compile(
    "[^" + "".join(re.escape(ch) for ch in sorted(GSM7_BASIC | GSM7_EXTENSION)) + "]"
)
_EXTENSION = re.compile("[" + "".join(re.escape(ch) for ch in sorted(GSM7_EXTENSION)) + "]")


def ucs2_forcing_chars(text: str) -> tuple[str, ...]:
    """The distinct characters of `text` outside GSM-7, in order of first appearance."""
    return tuple(dict.fromkeys(_NOT_GSM7.findall(text)))


def measure(text: str) -> Measure:
    """Encoding, length in units, and segment count of `text` as Twilio bills it.

    An empty text is 1 segment of 0 units: a message is billed for at least one segment.
    A split message is packed part by part without splitting a GSM-7 escape pair or, in
    UCS-2, a grapheme cluster (a surrogate pair, a flag, an emoji ZWJ sequence, a letter
    with its combining marks or vowel signs), so it can need one more segment than
    dividing the units suggests. Does not enforce MAX_BODY_CHARS; callers check that
    separately.
    """
    non_gsm = ucs2_forcing_chars(text)
    if non_gsm:
        units = len(text.encode("utf-16-le", "surrogatepass")) // 2
        segments = 1
        if units > _UCS2_SINGLE_LIMIT:  # only a split message needs its clusters
            segments = _count_parts(_cluster_costs(text), _UCS2_PART_LIMIT)
        return Measure(UCS2, units, segments, len(text), non_gsm)
    units = len(text) + len(_EXTENSION.findall(text))
    segments = 1
    if units > _GSM7_SINGLE_LIMIT:
        costs = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        segments = _count_parts(costs, _GSM7_PART_LIMIT)
    return Measure(GSM7, units, segments, len(text), non_gsm)


def _ucs2_units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def grapheme_clusters(text: str) -> list[str]:
    """Split `text` into extended grapheme clusters (UAX #29), as a segment keeps them.

    Implemented rules: never break before a combining mark, an enclosing mark, a spacing
    vowel sign (Bengali ি, Gurmukhi ਿ), a virama, a variation selector, an emoji skin-tone
    modifier, a tag character or a zero-width joiner or non-joiner (GB9, GB9a); nor after
    a prepended concatenation mark (GB9b); nor inside an emoji ZWJ sequence
    (Extended_Pictographic Extend* ZWJ × Extended_Pictographic, GB11); nor inside a pair
    of regional indicators, so a flag stays whole (GB12, GB13); always break around
    controls (GB4, GB5), CR and LF included, as the calculator does for CRLF.
    Left out, as in the calculator's Unicode 10 rules: joining an Indic conjunct across a
    virama (GB9c, Unicode 15.1), so ক্ষ is two clusters. Left out altogether: Hangul jamo
    sequences (GB6 to GB8), which our languages do not use (precomposed Hangul syllables
    are one code point each). Character classes come from `unicodedata` (its Unicode
    version may be newer than the calculator's).
    """
    clusters: list[str] = []
    for char, starts in zip(text, _cluster_starts(text), strict=True):
        if starts:
            clusters.append(char)
        else:
            clusters[-1] += char
    return clusters


def _cluster_costs(text: str) -> list[int]:
    """The UTF-16 units of each grapheme cluster of `text`, in order. A cluster longer
    than a part (a letter under dozens of stacked marks) cannot stay whole, so it counts
    code point by code point."""
    if not any(_break_class(char) in _JOINING for char in set(text)):
        return [2 if char > "\uffff" else 1 for char in text]  # every code point stands alone
    costs: list[int] = []
    for char, starts in zip(text, _cluster_starts(text), strict=True):
        units = 2 if char > "\uffff" else 1
        if starts:
            costs.append(units)
        else:
            costs[-1] += units
    if max(costs, default=0) <= _UCS2_PART_LIMIT:
        return costs
    split: list[int] = []
    for cluster in grapheme_clusters(text):
        units = _ucs2_units(cluster)
        split += [units] if units <= _UCS2_PART_LIMIT else [_ucs2_units(c) for c in cluster]
    return split


def _cluster_starts(text: str) -> Iterator[bool]:
    """For each character of `text`, whether a grapheme cluster starts there."""
    previous = _CONTROL
    pictographic = False  # the cluster ends in Extended_Pictographic Extend*
    zwj_after_pictographic = False  # ... followed by a zero-width joiner
    odd_regional = False  # the cluster ends in an odd run of regional indicators
    first = True
    for char in text:
        kind = _break_class(char)
        starts = first or not _joins(previous, kind, zwj_after_pictographic, odd_regional)
        if starts:
            pictographic = odd_regional = False
        zwj_after_pictographic = kind == _ZWJ and pictographic
        pictographic = kind == _PICTOGRAPHIC or (kind == _EXTEND and pictographic)
        odd_regional = kind == _REGIONAL and not odd_regional
        previous, first = kind, False
        yield starts


def _joins(previous: int, kind: int, zwj_after_pictographic: bool, odd_regional: bool) -> bool:
    """Whether no cluster boundary falls between a character of class `previous` and the
    next one, of class `kind`."""
    if previous == _CONTROL or kind == _CONTROL:
        return False
    if kind in (_EXTEND, _SPACING_MARK, _ZWJ) or previous == _PREPEND:
        return True
    if kind == _PICTOGRAPHIC:
        return zwj_after_pictographic
    return kind == _REGIONAL and previous == _REGIONAL and odd_regional


@lru_cache(maxsize=4096)
def _break_class(char: str) -> int:
    code = ord(char)
    if char == "\u200d":
        return _ZWJ
    if 0x1F1E6 <= code <= 0x1F1FF:
        return _REGIONAL
    if char == "\u200c" or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F:
        return _EXTEND  # zero-width non-joiner, skin-tone modifiers, emoji tag characters
    if char in _PREPEND_CHARS:
        return _PREPEND
    category = unicodedata.category(char)
    if category in ("Mn", "Me"):
        return _EXTEND
    if category == "Mc":
        return _SPACING_MARK
    if category in ("Cc", "Cf", "Zl", "Zp", "Cs"):
        return _CONTROL
    index = bisect_right(_PICTOGRAPHIC_STARTS, code) - 1
    if index >= 0 and code <= _PICTOGRAPHIC_RANGES[index][1]:
        return _PICTOGRAPHIC
    return _OTHER


def _count_parts(costs: list[int], part_limit: int) -> int:
    """Pack items (characters or clusters, none longer than a part) into parts of
    `part_limit` units without splitting any item."""
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
    return text.translate(_INVISIBLE_TABLE)


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
