"""One look at an installed device on the platform: when did it last report? No database here.

A look is one call, GET things/{tuid}: its `timestamp` is the device's latest event (spec §2.1,
§5). Messages are read only when a person opens the device card.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from app.platform import errors
from app.sync import retry
from app.sync.retry import RETRY_AUTH, RETRY_ERROR, RETRY_UNAVAILABLE

log = logging.getLogger(__name__)

SEEN, GONE, RETRY = "seen", "gone", "retry"


@dataclass(frozen=True)
class ClaimedLook:
    """A leased verification: which device, since when it must have reported."""

    id: int
    operation_id: int
    tuid: str
    lease_token: str
    state: str
    installed_at: float  # Unix seconds
    deadline_at: float
    failures: int
    poll_s: float
    window_s: float
    late_looks_left: int


@dataclass(frozen=True)
class LookOutcome:
    """`kind` is seen (the platform answered), gone (not in the stack) or retry."""

    look: ClaimedLook
    kind: str
    last_seen: int | None = None  # the device's latest event, Unix seconds
    battery_level: int | None = None
    message: str | None = None
    http_status: int | None = None  # the platform's answer to a failed look
    retry_after: float | None = None
    retry_kind: str | None = None
    calls: int = 1

    @property
    def platform_down(self) -> bool:
        """Whether this failure says the platform (not this device) is in trouble."""
        return self.retry_kind == RETRY_UNAVAILABLE

    @property
    def platform_answered(self) -> bool:
        """Whether the platform answered."""
        return self.kind != RETRY

    @property
    def reported_since_install(self) -> bool:
        """Whether the device's latest event is at or after the install's device time."""
        return self.last_seen is not None and self.last_seen >= int(self.look.installed_at)


def run_look(platform: Any, look: ClaimedLook) -> LookOutcome:
    """Read the device's latest event time from the platform."""
    try:
        info = platform.get_thing(look.tuid)
    except errors.NotFound as exc:
        return LookOutcome(look, GONE, message=exc.message)
    except errors.RateLimited as exc:
        return LookOutcome(look, RETRY, **retry.rate_limited(exc))
    except errors.AuthError as exc:
        return LookOutcome(look, RETRY, message=exc.message, retry_kind=RETRY_AUTH)
    except errors.PlatformError as exc:
        return LookOutcome(
            look,
            RETRY,
            message=f"Platform unavailable: {exc.message}",
            http_status=exc.status,
            retry_kind=retry.unavailable_kind(exc),
        )
    except Exception as exc:  # a bug must not end the worker; the look is tried again
        log.exception("verification look at %s failed unexpectedly", look.tuid)
        return LookOutcome(
            look, RETRY, message=f"Unexpected error: {type(exc).__name__}", retry_kind=RETRY_ERROR
        )
    return LookOutcome(look, SEEN, last_seen=info.timestamp, battery_level=info.battery_level)
