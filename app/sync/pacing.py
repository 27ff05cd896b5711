"""Adapt our call rate to the platform's rate limit instead of retrying at full width.

API Gateway throttles a credential to a rate (a token bucket) and answers 429 beyond it. Retrying
at full concurrency after each 429 spends calls on refusals and keeps every thread busy being
refused. The worker's platform calls therefore go through a governor: unlimited until the first
429; then each thread waits for its slot at a learned rate. The rate starts a little under the
rate the platform was serving when it refused, drops by 15 % on each further 429 (once per
quarter second, so one burst of refusals counts once), and grows by about 5 % per second of
successful calls, back to unlimited after half a minute without a 429. That sawtooth averages
over 90 % of the platform's limit. A Retry-After is honoured by the refused step (it waits at
least that long); one longer than GLOBAL_PAUSE_S pauses every call until it has passed.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from app.platform import errors

DECREASE = 0.85
DECREASE_SPACING_S = 0.25
GROWTH_PER_CALL = 0.05  # calls/s added per successful call: +5 % per second at any rate
UNLIMITED_AFTER_S = 30.0
MIN_RATE = 1.0
GLOBAL_PAUSE_S = 5.0
WINDOW_S = 1.0


class RateGovernor:
    """Thread-safe pacing of call starts at a rate learned from 429s (None: unlimited)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.rate: float | None = None
        self._next_start = 0.0
        self._paused_until = 0.0
        self._last_decrease = float("-inf")
        self._answers: deque[float] = deque()
        self.rate_limited = 0  # 429s seen, for the bench

    def acquire(self) -> None:
        """Wait for this call's slot."""
        with self._lock:
            now = self._clock()
            if self.rate is None and self._paused_until <= now:
                return
            start = max(now, self._next_start, self._paused_until)
            if self.rate is not None:
                self._next_start = start + 1.0 / self.rate
        if start > now:
            self._sleep(start - now)

    def succeeded(self) -> None:
        """Count a call the platform served."""
        with self._lock:
            now = self._clock()
            self._answers.append(now)
            while self._answers and self._answers[0] < now - WINDOW_S:
                self._answers.popleft()
            if self.rate is None:
                return
            if now - self._last_decrease > UNLIMITED_AFTER_S:
                self.rate = None
            else:
                self.rate += GROWTH_PER_CALL

    def refused(self, retry_after: float | None) -> None:
        """Slow down after a 429."""
        with self._lock:
            now = self._clock()
            self.rate_limited += 1
            if retry_after is not None and retry_after > GLOBAL_PAUSE_S:
                self._paused_until = max(self._paused_until, now + retry_after)
            if now - self._last_decrease < DECREASE_SPACING_S:
                return
            self._last_decrease = now
            while self._answers and self._answers[0] < now - WINDOW_S:
                self._answers.popleft()
            served = len(self._answers) / WINDOW_S
            base = self.rate if self.rate is not None else max(served, MIN_RATE)
            self.rate = max(MIN_RATE, base * DECREASE)


class GovernedPlatform:
    """A platform whose every call waits for the governor and reports 429s back to it."""

    _UNGOVERNED = frozenset({"close", "token_requests"})

    def __init__(self, platform: Any, governor: RateGovernor) -> None:
        self._platform = platform
        self.governor = governor

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._platform, name)
        if name in self._UNGOVERNED or not callable(attribute):
            return attribute
        governor = self.governor

        def governed(*args: Any, **kwargs: Any) -> Any:
            governor.acquire()
            try:
                result = attribute(*args, **kwargs)
            except errors.RateLimited as exc:
                governor.refused(exc.retry_after)
                raise
            governor.succeeded()
            return result

        return governed
