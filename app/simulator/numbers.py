"""Synthetic UK telephone numbers for simulated patients: mobiles and landlines.

Mobiles sit in real mobile ranges because the phone policy refuses Ofcom's drama range
07700 900xxx. Landlines are Ofcom's drama numbers for geographic areas (01xx 496 0xxx
and similar), which `phonenumbers` accepts as fixed lines; the London (020 7946) and
Manchester (0161 496) ranges are left to clinic senders. The numbers belong only to the
loopback simulator; never hand them to a real channel.
"""

from __future__ import annotations

import numpy as np

# Four-digit blocks after +44 that are wholly mobile in the GB numbering plan as
# `phonenumbers` knows it. Blocks shared with Jersey, Guernsey or Man are left out.
_MOBILE_RANGES: tuple[tuple[int, int], ...] = (
    *((7400, 7450), (7460, 7509), (7510, 7520), (7530, 7600)),
    *((7800, 7820), (7840, 7910), (7920, 7930), (7940, 8000)),
)
MOBILE_BLOCKS: tuple[int, ...] = tuple(b for low, high in _MOBILE_RANGES for b in range(low, high))
_NUMBERS_PER_BLOCK = 1_000_000

#: E.164 prefixes of a thousand drama-range landlines each (the last three digits vary).
LANDLINE_PREFIXES: tuple[str, ...] = (
    "+441134960",  # Leeds
    "+441144960",  # Sheffield
    "+441164960",  # Leicester
    "+441174960",  # Bristol
    "+441184960",  # Reading
    "+441214960",  # Birmingham
    "+441314960",  # Edinburgh
    "+441414960",  # Glasgow
    "+441514960",  # Liverpool
    "+441914980",  # Tyneside
    "+442890180",  # Belfast
    "+442920180",  # Cardiff
)
_LANDLINES_PER_PREFIX = 1000


def draw_mobiles(rng: np.random.Generator, n: int) -> list[str]:
    """Unique E.164 mobile numbers spread over MOBILE_BLOCKS, in draw order."""
    space = len(MOBILE_BLOCKS) * _NUMBERS_PER_BLOCK
    if n > space:
        raise ValueError("more personas than synthetic mobile numbers")
    chosen: dict[int, None] = {}
    while len(chosen) < n:
        for value in rng.integers(0, space, size=n - len(chosen)).tolist():
            chosen.setdefault(value)
    return [
        f"+44{MOBILE_BLOCKS[v // _NUMBERS_PER_BLOCK]}{v % _NUMBERS_PER_BLOCK:06d}" for v in chosen
    ]


def draw_landlines(rng: np.random.Generator, n: int) -> list[str]:
    """`n` unique drama-range landline numbers; ValueError if there are not enough."""
    space = len(LANDLINE_PREFIXES) * _LANDLINES_PER_PREFIX
    if n > space:
        raise ValueError(f"more landline personas than the {space} synthetic landlines")
    picked = rng.choice(space, size=n, replace=False).tolist()
    return [
        f"{LANDLINE_PREFIXES[v // _LANDLINES_PER_PREFIX]}{v % _LANDLINES_PER_PREFIX:03d}"
        for v in picked
    ]
