"""Requests per token, failed logins per name and address: an in-memory token bucket per key.

In memory, so the limit holds per server process: with ``keel serve --workers N`` a token may make N
times the rate (docs/access.md says so). A shared store would be needed for one limit across processes.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    """``rate`` requests per second on average, bursts of ``burst``; a rate of 0 turns the limit off."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(burst, 1)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one request of ``key``'s bucket: 0 when allowed, else the seconds until one is allowed."""
        return self._spend(key, 1.0)

    def wait(self, key: str) -> float:
        """The seconds until ``key`` may spend again (0: now), spending nothing."""
        return self._spend(key, 0.0)

    def _spend(self, key: str, cost: float) -> float:
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self.clock()
            tokens, when = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - when) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - cost, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate


def retry_after(wait: float) -> str:
    """The Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait)))
