"""Reading what staff type into the patient search (pure).

One box takes a patient's external id, a phone number written any usual way, or names.
The same text is tried as all three: "07400 100001" is a number, "Smith" or "ann smi" are
the starts of names, and "P-1042" is an id. Nothing typed is kept or logged.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core import phone
from app.core.channels import Channel

#: Name words read from one search; more add nothing a person would type.
MAX_WORDS = 4
_LIKE_SPECIALS = ("\\", "%", "_")


@dataclass(frozen=True)
class SearchTerms:
    """What to look for: an id as typed, a number in E.164 (if the text is one), and the
    lower-cased words that names must start with."""

    external_id: str
    phone: str | None = None
    words: tuple[str, ...] = ()


def read_terms(text: str, allowed_regions: frozenset[str] = frozenset()) -> SearchTerms:
    """The search `text` read as an id, a phone number and name words.

    A number is read as the phone policy reads it, landlines included (a patient
    reached by telephone call may have one). Words are kept only if made of letters,
    apostrophes and hyphens.
    """
    typed = " ".join(text.split())
    try:
        number: str | None = phone.normalise(typed, Channel.VOICE, allowed_regions=allowed_regions)
    except phone.PhoneRejected:
        number = None
    words = tuple(w.lower() for w in typed.split() if _is_name_word(w))[:MAX_WORDS]
    return SearchTerms(external_id=typed, phone=number, words=words)


def _is_name_word(word: str) -> bool:
    return any(c.isalpha() for c in word) and all(c.isalpha() or c in "'-’" for c in word)


def like_prefix(word: str) -> tuple[str, ...]:
    """LIKE patterns (escaped with a backslash) for a name starting with `word`, or with
    a later part starting with it ("ann" in "Mary Ann", "smith" in "Jones-Smith")."""
    escaped = word
    for special in _LIKE_SPECIALS:
        escaped = escaped.replace(special, "\\" + special)
    return f"{escaped}%", f"% {escaped}%", f"%-{escaped}%"
