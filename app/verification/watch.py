"""How long to wait for an installed device to report, and how often to look (spec §5).

A newly powered sensor sends its boot sequence at once; periodic data can lag by one report
interval (an hour by default). Gateways report as heartbeat summaries and Haltian's Toolbox
calls one alive for 6 h after its latest event (sensors 2 h), so they get a longer window.
Looks are spread over the window so a device costs a bounded number of calls: one look a poll
interval after the install (most devices have reported by then), then one per interval until
the window ends, and one late look a window after a device was found silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.labels.device_types import device_type_for, is_gateway

# The most looks one window may cost: a long window is looked at less often, not more.
MAX_LOOKS_PER_WINDOW = 6
FIRST_LOOK_SPREAD = 0.1  # share of the poll interval a batch's first looks are spread over


@dataclass(frozen=True)
class Watch:
    """One device type's window and look interval, in seconds."""

    window_s: float
    poll_s: float

    def first_look(self, installed_at: datetime, now: datetime, key: int = 0) -> datetime:
        """When to look first: about a poll interval after the install, or now for a late sync.

        A batch of installs made together would all fall due at the same instant and queue
        behind each other; each is brought forward by up to a tenth of the interval (spread by
        `key`, the operation's id), so none waits longer than the interval for its first look.
        """
        spread = (key * 2654435761 % 1000) / 1000 * self.poll_s * FIRST_LOOK_SPREAD
        return max(now, installed_at + timedelta(seconds=self.poll_s - spread))

    def next_look(self, now: datetime, deadline: datetime) -> datetime:
        """When to look again while waiting: one interval on, never past the deadline."""
        return min(now + timedelta(seconds=self.poll_s), max(deadline, now))


@dataclass(frozen=True)
class WatchPolicy:
    """The VERIFY_* settings and whether the platform can say when a device last reported."""

    window_s: float = 1800.0
    poll_s: float = 300.0
    gateway_window_s: float = 6 * 3600.0
    available: bool = True

    @classmethod
    def from_config(cls, config: Any, *, last_seen: bool) -> WatchPolicy:
        """Read the VERIFY_* settings; `last_seen` is the platform's capability."""
        return cls(
            window_s=float(config["VERIFY_WINDOW_S"]),
            poll_s=float(config["VERIFY_POLL_S"]),
            gateway_window_s=float(config["VERIFY_GATEWAY_WINDOW_S"]),
            available=last_seen,
        )

    def for_type(self, device_type: str) -> Watch:
        """Return the window and look interval for a device type."""
        window = self.gateway_window_s if is_gateway(device_type) else self.window_s
        return Watch(window, max(self.poll_s, window / MAX_LOOKS_PER_WINDOW))

    def for_tuid(self, tuid: str) -> Watch:
        """Return the window and look interval for a device by its TUID's type."""
        return self.for_type(device_type_for(tuid))
