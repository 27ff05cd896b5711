"""Per-credential token buckets, like an API Gateway usage plan's throttle."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allow `rate` requests per second per key, with a one-second burst; 0 turns it off."""

    def __init__(self, rate: float = 0.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._monotonic = monotonic
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    @property
    def rate(self) -> float:
        return self._rate

    def set_rate(self, rate: float) -> None:
        """Change the rate; buckets start full again so the new limit applies cleanly."""
        with self._lock:
            self._rate = rate
            self._buckets.clear()

    def acquire(self, key: str) -> float | None:
        """Take one request from `key`'s bucket; return None if allowed, else seconds to wait."""
        with self._lock:
            if self._rate <= 0:
                return None
            capacity = max(1.0, self._rate)
            now = self._monotonic()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(capacity, now)
            # A clock reset (tests) may step back: never refill by a negative time.
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(capacity, bucket.tokens + elapsed * self._rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return (1.0 - bucket.tokens) / self._rate


def retry_after_header(wait_s: float) -> str:
    """Format a wait as a Retry-After value: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait_s)))
