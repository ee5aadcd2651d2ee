"""Reminder-wording experiments: arm assignment and the stopping decision (pure).

Assignment is a keyed hash, so the same seed, stratum and appointment id always give
the same arm, on any machine, with nothing stored. The key is BLAKE2b of the seed; the
message is the stratum (length-prefixed, UTF-8) followed by the appointment id as 8
big-endian bytes. The first 8 bytes of the digest, read as an unsigned integer, are
taken modulo the sum of the arm weights and mapped onto the arms in order (the modulo
bias is below weight sum / 2**64). Each stratum (clinic) draws independently, so arm
sizes within a stratum are binomial rather than forced equal.

The decision applies O'Brien–Fleming-type alpha spending (`app.experiments.sequential`):
before the planned sample size a winner is declared only if the result crosses the
boundary for the information reached so far.
"""

from __future__ import annotations

import enum
import hashlib
import math
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

import numpy as np
from numpy.typing import NDArray

from app.core.distributions import normal_sf
from app.experiments.sequential import obf_boundaries
from app.experiments.stats import Comparison


class Decision(enum.StrEnum):
    """What an analysis says to do with an experiment."""

    CONTINUE = "continue"  # the planned size is not reached and no boundary is crossed
    STOP = "stop"  # arm B is worse, or the planned size was reached without a benefit
    SHIP = "ship"  # arm B is better and the O'Brien-Fleming boundary is crossed


Arms = Sequence[tuple[str, int]]

_DIGEST_SIZE = 8
_MAX_ID = 2**64 - 1


def _check_arms(arms: Arms) -> tuple[list[str], list[int]]:
    if not arms:
        raise ValueError("arms must list at least one (name, weight) pair")
    names: list[str] = []
    for index, arm in enumerate(arms):
        if not isinstance(arm, tuple) or len(arm) != 2:
            raise ValueError(f"arms[{index}] must be a (name, weight) pair")
        name, weight = arm
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"arms[{index}] needs a non-empty name")
        if name in names:
            raise ValueError(f"arms[{index}] repeats the name {name!r}")
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
            raise ValueError(f"arms[{index}] ({name!r}) needs a whole-number weight of at least 1")
        names.append(name)
    return names, list(accumulate(weight for _, weight in arms))


def _prefix(seed: str, stratum: str) -> hashlib.blake2b:
    if not isinstance(seed, str) or not seed:
        raise ValueError("seed must be a non-empty string")
    if not isinstance(stratum, str):
        raise ValueError("stratum must be a string")
    key = hashlib.blake2b(seed.encode("utf-8"), digest_size=32).digest()
    hasher = hashlib.blake2b(key=key, digest_size=_DIGEST_SIZE)
    encoded = stratum.encode("utf-8")
    hasher.update(len(encoded).to_bytes(4, "big") + encoded)
    return hasher


def assign_arm(seed: str, appointment_id: int, stratum: str, arms: Arms) -> str:
    """The arm of one appointment; `arms` are (name, weight) pairs, e.g. [("A", 1), ("B", 1)]."""
    names, bounds = _check_arms(arms)
    if isinstance(appointment_id, bool) or not isinstance(appointment_id, int | np.integer):
        raise ValueError("appointment_id must be a whole number")
    if not 0 <= appointment_id <= _MAX_ID:
        raise ValueError(f"appointment_id must be between 0 and 2**64 - 1, got {appointment_id}")
    hasher = _prefix(seed, stratum)
    hasher.update(int(appointment_id).to_bytes(8, "big"))
    bucket = int.from_bytes(hasher.digest(), "big") % bounds[-1]
    return names[bisect_right(bounds, bucket)]


def assign_arms(
    seed: str, appointment_ids: NDArray[np.integer], stratum: str, arms: Arms
) -> NDArray[np.str_]:
    """`assign_arm` for an array of appointment ids (same answers, one array of names)."""
    names, bounds = _check_arms(arms)
    ids = np.asarray(appointment_ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError("appointment_ids must be a one-dimensional array of whole numbers")
    negative = np.flatnonzero(ids < 0)
    if negative.size:
        raise ValueError(f"appointment_ids[{negative[0]}] is negative")
    prefix = _prefix(seed, stratum)
    raw = ids.astype(">u8").tobytes()
    digests = bytearray()
    for start in range(0, len(raw), 8):
        hasher = prefix.copy()
        hasher.update(raw[start : start + 8])
        digests += hasher.digest()
    values = np.frombuffer(bytes(digests), dtype=">u8").astype(np.uint64)
    buckets = values % np.uint64(bounds[-1])
    upper = np.asarray(bounds, dtype=np.uint64)
    chosen: NDArray[np.str_] = np.asarray(names)[np.searchsorted(upper, buckets, side="right")]
    return chosen


def decide(
    analysis: Comparison,
    planned_n_per_arm: int,
    n_per_arm: int,
    looks: Sequence[float] = (),
    alpha: float = 0.05,
    lower_is_better: bool = True,
) -> tuple[Decision, list[str]]:
    """Whether to continue, stop, or ship arm B, with the reasons in plain words.

    `n_per_arm` is the number analysed per arm (the smaller arm if they differ);
    `looks` are the information fractions of earlier interim analyses. "ship": B is
    better and the O'Brien–Fleming boundary for this look is crossed. "stop": B is
    worse beyond the boundary, or the planned size is reached without B winning.
    "continue": the planned size is not reached and the boundary is not crossed.
    """
    for name, value in (("planned_n_per_arm", planned_n_per_arm), ("n_per_arm", n_per_arm)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be a whole number")
    if planned_n_per_arm < 1 or n_per_arm < 1:
        raise ValueError("planned_n_per_arm and n_per_arm must be at least 1")
    fraction = min(1.0, n_per_arm / planned_n_per_arm)
    for index, look in enumerate(looks):
        if not look < fraction:
            raise ValueError(
                f"looks[{index}] ({look!r}) must be below this look's information "
                f"fraction ({fraction:.4f})"
            )
    boundary = obf_boundaries([*looks, fraction], alpha)[-1]
    nominal = 2.0 * normal_sf(boundary) if math.isfinite(boundary) else 0.0
    final = fraction >= 1.0
    reasons = [
        f"look {len(looks) + 1}: {n_per_arm} of {planned_n_per_arm} planned per arm "
        f"(information fraction {fraction:.3f})",
        f"O'Brien–Fleming boundary |z| ≥ {boundary:.3f}, nominal two-sided p ≤ {nominal:.3g}",
        f"p = {analysis.p_value:.3g} ({analysis.method.split(';')[0]})",
    ]
    crossed = analysis.p_value <= nominal
    better = (analysis.risk_difference < 0) == lower_is_better and analysis.risk_difference != 0
    if crossed and better:
        return Decision.SHIP, [*reasons, "arm B is better and the boundary is crossed"]
    if crossed:
        return Decision.STOP, [*reasons, "arm B is worse and the boundary is crossed"]
    if final:
        reason = "planned sample size reached without a significant benefit"
        return Decision.STOP, [*reasons, reason]
    return Decision.CONTINUE, [*reasons, "planned sample size not reached and boundary not crossed"]
