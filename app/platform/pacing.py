"""Keep a client under a platform's documented request rate instead of running into its 429s.

ThingScale documents 20 requests/s per user (429 beyond). A client that fires at will gets 429s
and the sync worker's backoff (seconds) then costs far more than waiting a few milliseconds
here. Every request takes the next free slot, 1/rate apart; a thread whose slot is in the
future sleeps until it comes. Slots are handed out under a lock, so the client as a whole never
starts more than `rate` requests in any second whatever its thread count. The platform's own
bucket usually allows a short burst, which absorbs the jitter between leaving here and arriving.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RequestPacer:
    """Space request starts at least 1/rate seconds apart across all threads of one client."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next_slot = float("-inf")
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for this request's slot; return how long the caller waited (seconds)."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)
