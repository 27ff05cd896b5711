"""The emulator's clock: real Unix time plus an offset that tests can push forward."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class EmulatorClock:
    """Unix seconds that follow real time, shifted by `advance()` so tests can pass expiry."""

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Return the emulated Unix time in seconds."""
        return self._source() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward (never back) and return the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()

    def reset(self) -> None:
        """Go back to real time."""
        with self._lock:
            self._offset = 0.0
