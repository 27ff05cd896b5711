"""Why a step, read-back or look waits before its next try, decided once for all three.

The kind is stored in the row's `retry_kind`. Only RETRY_UNAVAILABLE waits end early, when the
platform answers again after an outage (app.sync.breaker).
"""

from __future__ import annotations

from typing import Any

from app.platform import errors

RETRY_UNAVAILABLE = "unavailable"  # 5xx, connect error, timeout of a read: the platform is down
RETRY_IN_FLIGHT = "in_flight"  # our write may still land: wait out the in-flight bound
RETRY_RATE_LIMITED = "rate_limited"
RETRY_AUTH = "auth"
RETRY_ERROR = "error"  # a bug or an answer we cannot read


def rate_limited(exc: errors.RateLimited) -> dict[str, Any]:
    """Return the retry fields of a call the platform refused with 429, waiting as it asked."""
    return {
        "message": "The platform is rate limiting us; waiting as it asked.",
        "http_status": 429,
        "retry_after": exc.retry_after,
        "retry_kind": RETRY_RATE_LIMITED,
    }


def unavailable_kind(exc: errors.PlatformError) -> str:
    """Return the retry kind of a failure: an answer we cannot read, or the platform down."""
    return RETRY_ERROR if isinstance(exc, errors.MalformedResponse) else RETRY_UNAVAILABLE
