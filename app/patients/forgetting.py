"""What features keep of a patient's identity or words, and how each forgets it.

Erasure and the retention purge (`app.privacy`) reach rows that belong to features
above this layer (survey answers and conversations). Each such feature registers, at
start-up (`app.wiring`), a `Forgetter`: how to count what it holds of one patient, how
to erase it, and how to purge text older than a cut-off. None of them commits: the
caller's transaction holds the whole erasure or purge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

#: (patient id, clinic id) → counts of what would be erased; reads only.
Counter = Callable[[int, int], Mapping[str, int]]
#: (patient id, clinic id, now) → counts of what was erased. Never commits.
Eraser = Callable[[int, int, datetime], Mapping[str, int]]
#: (clinic ids, cut-off) → counts of the texts older than the cut-off it blanked.
Purger = Callable[[Sequence[int], datetime], Mapping[str, int]]


@dataclass(frozen=True)
class Forgetter:
    """One feature's part in erasure and retention."""

    count: Counter
    erase: Eraser
    purge: Purger


_forgetters: dict[str, Forgetter] = {}


def register_forgetter(name: str, forgetter: Forgetter) -> None:
    """Register `forgetter` under `name` (registering again replaces it)."""
    _forgetters[name] = forgetter


def _summed(parts: Sequence[Mapping[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in parts:
        for key, value in part.items():
            total[key] = total.get(key, 0) + value
    return total


def count_everywhere(patient_id: int, clinic_id: int) -> dict[str, int]:
    """What every registered feature holds of the patient, as counts by name."""
    return _summed([f.count(patient_id, clinic_id) for f in _forgetters.values()])


def erase_everywhere(patient_id: int, clinic_id: int, now: datetime) -> dict[str, int]:
    """Have every registered feature erase what it holds of the patient. Does not commit."""
    return _summed([f.erase(patient_id, clinic_id, now) for f in _forgetters.values()])


def purge_everywhere(clinic_ids: Sequence[int], cutoff: datetime) -> dict[str, int]:
    """Have every registered feature blank its texts older than `cutoff` in these
    clinics. Does not commit."""
    return _summed([f.purge(clinic_ids, cutoff) for f in _forgetters.values()])
