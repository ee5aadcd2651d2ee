"""Random draws keyed by what they decide, so a run depends on its seed and not on timing.

Every draw the simulator makes comes from a generator seeded with a hash of the run's
seed and the identity of the event (a patient's number, the text they were sent, which
time that text came). Two runs with the same seed make the same draws for the same
events, in whatever order the events happen to be handled.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections import Counter


def keyed_rng(seed: int, *parts: str) -> random.Random:
    """A generator seeded from a hash of the seed and the event, independent of call order."""
    key = "\x1f".join((str(seed), *parts)).encode()
    return random.Random(int.from_bytes(hashlib.blake2b(key, digest_size=16).digest(), "big"))


def fingerprint(text: str) -> str:
    """A short, stable stand-in for a text in a key (the text itself may be long)."""
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class Occurrences:
    """Counts how often each identity has been seen, safe across threads.

    A text sent twice to the same number is two events; the count tells them apart
    (the first is 0). Identical events are interchangeable, so the count makes the
    same draws whichever of them comes first.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: Counter[tuple[str, ...]] = Counter()

    def next(self, *identity: str) -> str:
        """The number of earlier events with this identity, as a key part."""
        with self._lock:
            seen = self._seen[identity]
            self._seen[identity] = seen + 1
        return str(seen)
