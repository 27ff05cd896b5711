"""Tell a platform-wide outage from one device's trouble, and notice the end of it at once.

Per-device failures back off per step, as before. But when the platform itself is down
(connect errors, timeouts, 5xx on many devices in a row), per-step backoff is the wrong tool:
it grows to minutes while the outage lasts and keeps every step waiting that long after the
platform is back. So the worker counts failures that say "the platform is down" in a row,
across devices; past a threshold the breaker opens: no new claims, one cheap probe call at a
time (0.5 s, then up to every 2 s). The first answer (the probe's, or any call still in flight)
closes it (the probe reads the last failed device's status, a call every platform has; a
refusal such as a 404 is an answer too), and the worker releases every step that waited only
because of the outage (app.sync.checks.release_outage_waits). Writes whose outcome is unknown
keep waiting for the in-flight bound: an outage does not make them land sooner.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

# Eight failures in a row on at least four devices: at a 20 % random 5xx rate that happens by
# chance about once in 400,000 calls, while a real outage reaches it within one round of calls.
FAILURES_TO_OPEN = 8
DEVICES_TO_OPEN = 4
FIRST_PROBE_S = 0.5
MAX_PROBE_INTERVAL_S = 2.0


class Breaker:
    """Open after a run of platform-down failures across devices; close on the first answer."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures = 0
        self._devices: set[str] = set()
        self.opened_at: float | None = None
        self._next_probe = 0.0
        self._probe_interval = FIRST_PROBE_S
        self.probing = False
        self.opened = 0  # times opened, for the logs and the bench
        self.last_failed = ""  # the device the probe reads

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None

    def failed(self, tuid: str) -> None:
        """Count a failure that says the platform is down."""
        self.last_failed = tuid
        self._failures += 1
        self._devices.add(tuid)
        if self.is_open or self._failures < FAILURES_TO_OPEN:
            return
        if len(self._devices) >= DEVICES_TO_OPEN:
            now = self._clock()
            self.opened_at = now
            self.opened += 1
            self._probe_interval = FIRST_PROBE_S
            self._next_probe = now + FIRST_PROBE_S
            log.warning(
                "platform looks down (%d failures in a row on %d devices): pausing claims",
                self._failures,
                len(self._devices),
            )

    def answered(self) -> bool:
        """Count an answer from the platform; return True if that ends an outage."""
        self._failures = 0
        self._devices.clear()
        if not self.is_open:
            return False
        assert self.opened_at is not None
        log.warning("platform answers again after %.1f s", self._clock() - self.opened_at)
        self.opened_at = None
        return True

    def probe_due(self) -> bool:
        """Whether the worker should send a probe call now."""
        return self.is_open and not self.probing and self._clock() >= self._next_probe

    def probe_started(self) -> None:
        """Note that a probe is on its way."""
        self.probing = True

    def probe_failed(self) -> None:
        """Schedule the next probe, a little later than the last."""
        self.probing = False
        self._probe_interval = min(self._probe_interval * 2, MAX_PROBE_INTERVAL_S)
        self._next_probe = self._clock() + self._probe_interval

    def probe_answered(self) -> bool:
        """The probe got an answer: close; return True if that ends an outage."""
        self.probing = False
        return self.answered()
