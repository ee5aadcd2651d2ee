"""Pacing each sender: a token bucket per sender in Redis, shared by every worker.

Each sender (a clinic's number, a short code, a Messaging Service) may hand over
messages at the rate its kind allows (`app.core.senders`), with a burst of up to one
second's worth. `Pacer.wait_for` takes a token if there is one and says 0, or says how
many seconds until there will be one (taking none). The buckets are counted in real
time, as the provider counts them. Keys hold the sender (a clinic's number, never a
patient's).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from app.core.senders import SenderKind, sender_kind

_TAKE = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local found = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(found[1]) or capacity
local at = tonumber(found[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 60)
return tostring(wait)
"""


class Pacer:
    """Token buckets per sender in Redis, at the rate of each sender's kind."""

    def __init__(
        self,
        connection: Any,
        rates: Mapping[SenderKind, float],
        now: Callable[[], float] = time.time,
    ) -> None:
        self._rates = dict(rates)
        self._now = now
        self._take = connection.register_script(_TAKE)

    def rate_for(self, sender: str) -> float | None:
        """Messages a second `sender` may hand over; None if it is not paced."""
        return self._rates.get(sender_kind(sender))

    def wait_for(self, sender: str) -> float:
        """0 after taking a token for `sender`, or the seconds until one is free."""
        rate = self.rate_for(sender)
        if rate is None:
            return 0.0
        capacity = max(1.0, rate)
        found = self._take(keys=[f"wesaid:pace:{sender}"], args=[rate, capacity, self._now()])
        wait = float(found.decode() if isinstance(found, bytes) else found)
        return 0.0 if math.isclose(wait, 0.0) else wait
