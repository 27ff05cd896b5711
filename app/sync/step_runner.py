"""Carry out one outbox step against the platform. No database here: runs in worker threads."""

from __future__ import annotations

import time
from dataclasses import dataclass

from app.platform import errors
from app.platform.interface import Platform


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
    last_step: bool = True  # completing it completes the operation
    lease_until: float = float("inf")  # Unix time our lease ends


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
    outcome_uncertain: bool = False
    rate_limited: bool = False


def _current_value(platform: Platform, action: str, tuid: str) -> str | None:
    if action == "set_status":
        return platform.get_installation_status(tuid)
    return platform.get_group(tuid)


def run_step(platform: Platform, step: ClaimedStep) -> StepOutcome:
    """Apply the step once; classify any failure so the caller can retry or fail it."""
    started = time.time()

    def outcome(kind: str, **fields: object) -> StepOutcome:
        return StepOutcome(step, kind, started, time.time(), **fields)  # type: ignore[arg-type]

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
        if action == "set_status":
            platform.set_installation_status(step.tuid, target or "")
        elif action == "set_group":
            platform.set_group(step.tuid, target or "")
        else:
            return outcome("failed", message=f"Unknown step action '{step.action}'.")
        return outcome("applied", result=target)
    except errors.RateLimited as exc:
        return outcome(
            "retry",
            message="The platform is rate limiting us; waiting as it asked.",
            http_status=429,
            retry_after=exc.retry_after,
            outcome_uncertain=step.verify_first,
            rate_limited=True,
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
        )
    except errors.PlatformError as exc:
        uncertain = step.verify_first or bool(getattr(exc, "outcome_unknown", False))
        return outcome(
            "retry",
            message=f"Platform unavailable: {exc.message}",
            http_status=exc.status,
            outcome_uncertain=uncertain,
        )
