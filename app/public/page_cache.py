"""A small in-process cache of rendered public pages, each kept for a few minutes.

The public pages change when a snapshot is computed, an entry is written or a quote is
approved: minutes of delay are fine for a page read by the public, and a page served
from memory costs microseconds. Each process keeps its own (a gunicorn worker's cache is
its own); the oldest page goes first when the cache is full.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Cached:
    body: bytes
    mimetype: str
    etag: str
    status: int = 200


def cached(body: bytes, mimetype: str, status: int = 200) -> Cached:
    """A page to keep, with its ETag (a digest of its bytes)."""
    return Cached(body, mimetype, hashlib.sha256(body).hexdigest()[:32], status)


class PageCache:
    """Pages by key, each for `ttl` seconds (0: nothing is kept)."""

    def __init__(
        self, ttl: float, size: int = 512, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.size = size
        self._clock = clock
        self._pages: OrderedDict[tuple[str, ...], tuple[float, Cached]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: tuple[str, ...], make: Callable[[], Cached]) -> Cached:
        """The page under `key`, made (outside the lock) when missing or stale."""
        now = self._clock()
        with self._lock:
            found = self._pages.get(key)
            if found is not None and found[0] > now:
                return found[1]
        page = make()
        if self.ttl > 0 and page.status == 200:
            with self._lock:
                self._pages[key] = (now + self.ttl, page)
                self._pages.move_to_end(key)
                while len(self._pages) > self.size:
                    self._pages.popitem(last=False)
        return page

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
