"""Rate limits of token requests: a token bucket per key (a user name, a client address).

Kept in the process: each replica limits what it is asked, which bounds what
one caller gets from N replicas to N times the limit, and costs no database
write per attempt. Buckets that are full again are forgotten, so the memory
held is bounded by the callers of the last period.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``limit`` requests per ``period`` seconds per key, in bursts of up to ``limit``."""

    def __init__(
        self, limit: int, period: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.period = period
        self._clock = clock
        self._rate = limit / period if period > 0 else math.inf
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> int | None:
        """Count one request of ``key``; ``None`` if allowed, else seconds until it would be."""
        if self.limit <= 0:
            return None
        now = self._clock()
        self._forget_full(now)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.limit), now)
        else:
            bucket.tokens = min(self.limit, bucket.tokens + (now - bucket.updated) * self._rate)
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return max(1, math.ceil((1 - bucket.tokens) / self._rate))

    def _forget_full(self, now: float) -> None:
        if len(self._buckets) < 1024:
            return
        refill = self.period
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < refill}
