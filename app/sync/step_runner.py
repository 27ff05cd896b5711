"""Carry out one outbox step against the platform. No database here: runs in worker threads."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from app.platform import errors
from app.platform.interface import Platform
from app.sync import retry
from app.sync.retry import RETRY_AUTH, RETRY_ERROR, RETRY_IN_FLIGHT, RETRY_UNAVAILABLE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClaimedStep:
    """What a worker thread needs to know about a leased step."""

    id: int
    operation_id: int
    tuid: str
    action: str
    value: str | None
    attempt_no: int
    verify_first: bool  # an earlier attempt may have been applied: read before writing
    lease_token: str
    step_no: int = 0
    last_step: bool = True  # completing it completes the operation's platform writes
    lease_until: float = float("inf")  # Unix time our lease ends
    late_write_possible: bool = False  # an earlier attempt's write may still land


@dataclass(frozen=True)
class StepOutcome:
    """What happened; `kind` is applied | already_applied | retry | failed."""

    step: ClaimedStep
    kind: str
    started_at: float
    finished_at: float
    result: str | None = None  # the value now on the platform
    message: str | None = None
    http_status: int | None = None
    retry_after: float | None = None
    outcome_uncertain: bool = False  # the write may have been applied: verify before the next
    in_flight: bool = False  # ... and may still land, until write_sent_at + the in-flight bound
    write_sent_at: float | None = None  # Unix time our write left, if one did
    rate_limited: bool = False
    retry_kind: str | None = None

    @property
    def platform_down(self) -> bool:
        """Whether this failure says the platform (not this device) is in trouble."""
        return self.retry_kind in (RETRY_UNAVAILABLE, RETRY_IN_FLIGHT)

    @property
    def platform_answered(self) -> bool:
        """Whether the platform answered this attempt in its normal way."""
        return self.kind in ("applied", "already_applied", "failed")


def _current_value(platform: Platform, action: str, tuid: str) -> str | None:
    if action == "set_status":
        return platform.get_installation_status(tuid)
    return platform.get_group(tuid)


def run_step(platform: Platform, step: ClaimedStep) -> StepOutcome:
    """Apply the step once; classify any failure so the caller can retry or fail it."""
    started = time.time()
    sent_at: float | None = None

    def outcome(kind: str, **fields: Any) -> StepOutcome:
        return StepOutcome(step, kind, started, time.time(), write_sent_at=sent_at, **fields)

    try:
        target = step.value
        action = step.action
        if action == "copy_group":
            # The replacement joins whatever group the old device is in right now.
            target = platform.get_group(step.value or "")
            action = "set_group"
        already = step.verify_first and target is not None
        if already and _current_value(platform, action, step.tuid) == target:
            return outcome("already_applied", result=target)
        if action not in ("set_status", "set_group"):
            return outcome("failed", message=f"Unknown step action '{step.action}'.")
        sent_at = time.time()
        if action == "set_status":
            platform.set_installation_status(step.tuid, target or "")
        else:
            platform.set_group(step.tuid, target or "")
        return outcome("applied", result=target)
    except errors.RateLimited as exc:
        return outcome(
            "retry",
            outcome_uncertain=step.verify_first,
            rate_limited=True,
            **retry.rate_limited(exc),
        )
    except errors.NotFound as exc:
        what = "Deployment group" if step.action != "set_status" else "Device"
        return outcome(
            "failed",
            message=f"{what} not found on the platform: {exc.message}",
            http_status=exc.status or 404,
        )
    except (errors.ValidationFailed, errors.Conflict) as exc:
        return outcome(
            "failed", message=f"The platform refused: {exc.message}", http_status=exc.status
        )
    except errors.AuthError as exc:
        # Credentials may be fixed by an admin; keep retrying with backoff rather than failing.
        return outcome(
            "retry",
            message=f"The platform rejected our credentials: {exc.message}",
            http_status=exc.status,
            outcome_uncertain=step.verify_first,
            retry_kind=RETRY_AUTH,
        )
    except errors.PlatformError as exc:
        unknown = bool(getattr(exc, "outcome_unknown", False)) and sent_at is not None
        in_flight = unknown and bool(getattr(exc, "in_flight", False))
        return outcome(
            "retry",
            message=f"Platform unavailable: {exc.message}",
            http_status=exc.status,
            outcome_uncertain=step.verify_first or unknown,
            in_flight=in_flight,
            retry_kind=RETRY_IN_FLIGHT if in_flight else retry.unavailable_kind(exc),
        )
    except Exception as exc:  # a bug must not end the worker; the step is retried, not lost
        log.exception("step %s on %s failed unexpectedly", step.id, step.tuid)
        return outcome(
            "retry",
            message=f"Unexpected error: {type(exc).__name__}: {exc}"[:300],
            outcome_uncertain=step.verify_first or sent_at is not None,
            in_flight=sent_at is not None,
            retry_kind=RETRY_IN_FLIGHT if sent_at is not None else RETRY_ERROR,
        )
