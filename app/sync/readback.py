"""Read a device back from the platform and compare it with our last action. No database here.

Cost per device: one GET per value our steps wrote since the device was last confirmed (status:
installation history with limit=1; group: the device's group), so 1 or 2 calls after its last
pending step is done. Only a device one of whose writes may still land (a timeout, a dropped
connection, a 504, a worker killed mid-call) is read a second time, after the in-flight bound:
1 or 2 more calls, for those devices only.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from app.platform import errors
from app.platform.interface import InstallationRecord, Platform
from app.sync import retry
from app.sync.retry import RETRY_AUTH, RETRY_ERROR, RETRY_UNAVAILABLE

log = logging.getLogger(__name__)

STATUS, GROUP = "status", "group"


@dataclass(frozen=True)
class Expected:
    """The value the technician's last applied action set, and the step that wrote it."""

    value: str | None
    step_id: int
    operation_id: int


@dataclass(frozen=True)
class ClaimedCheck:
    """A leased read-back: what to read and what we expect to find."""

    tuid: str
    lease_token: str
    stage: int
    attempt_no: int
    claimed_at: float  # Unix time
    late_write_possible: bool
    status: Expected | None = None  # None: our steps did not write the status since
    group: Expected | None = None
    # Values our own writes that may have landed late would have left behind.
    late_statuses: frozenset[str] = frozenset()
    late_groups: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Drift:
    """The platform holds something other than our last action."""

    attribute: str  # status | group
    expected: Expected
    found: str | None
    explained: bool  # one of our own late writes left exactly this value
    responsible: str | None = None  # who wrote the installation record we read (status only)
    platform_timestamp: int | None = None


@dataclass(frozen=True)
class CheckOutcome:
    """`kind` is confirmed | drift | retry."""

    check: ClaimedCheck
    kind: str
    started_at: float
    finished_at: float
    drifts: tuple[Drift, ...] = field(default_factory=tuple)
    message: str | None = None
    http_status: int | None = None
    retry_after: float | None = None
    retry_kind: str | None = None
    calls: int = 0

    @property
    def platform_down(self) -> bool:
        """Whether this failure says the platform (not this device) is in trouble."""
        return self.retry_kind == RETRY_UNAVAILABLE

    @property
    def platform_answered(self) -> bool:
        """Whether the platform answered every read."""
        return self.kind != "retry"


def _read_status(platform: Platform, tuid: str) -> tuple[str | None, InstallationRecord | None]:
    """Read the current status, with who wrote it where the platform keeps a history."""
    try:
        records = platform.get_installations(tuid, limit=1)
    except errors.NotSupported:  # refused before any call: the platform keeps only the status
        return platform.get_installation_status(tuid), None
    record = records[0] if records else None
    return (record.installation_status if record else None), record


def run_check(platform: Platform, check: ClaimedCheck) -> CheckOutcome:
    """Read back what our steps wrote to the device and judge any difference."""
    started = time.time()
    calls = 0

    def outcome(kind: str, **fields: Any) -> CheckOutcome:
        return CheckOutcome(check, kind, started, time.time(), calls=calls, **fields)

    drifts: list[Drift] = []
    try:
        if check.status is not None:
            calls += 1
            found, record = _read_status(platform, check.tuid)
            if found != check.status.value:
                drifts.append(
                    Drift(
                        STATUS,
                        check.status,
                        found,
                        explained=found in check.late_statuses,
                        responsible=record.responsible if record else None,
                        platform_timestamp=record.timestamp if record else None,
                    )
                )
        if check.group is not None:
            calls += 1
            group = platform.get_group(check.tuid)
            if group != check.group.value:
                drifts.append(
                    Drift(GROUP, check.group, group, explained=group in check.late_groups)
                )
    except errors.RateLimited as exc:
        return outcome("retry", **retry.rate_limited(exc))
    except errors.NotFound as exc:
        # The device left this platform stack: nothing we wrote is there any more.
        missing = [
            Drift(attribute, expected, None, explained=False)
            for attribute, expected in ((STATUS, check.status), (GROUP, check.group))
            if expected is not None
        ]
        return outcome("drift", drifts=tuple(missing), message=exc.message, http_status=404)
    except errors.AuthError as exc:
        return outcome("retry", message=exc.message, http_status=exc.status, retry_kind=RETRY_AUTH)
    except errors.PlatformError as exc:
        return outcome(
            "retry",
            message=f"Platform unavailable: {exc.message}",
            http_status=exc.status,
            retry_kind=retry.unavailable_kind(exc),
        )
    except Exception as exc:  # a bug must not end the worker; the read-back is tried again
        log.exception("read-back of %s failed unexpectedly", check.tuid)
        return outcome(
            "retry", message=f"Unexpected error: {type(exc).__name__}", retry_kind=RETRY_ERROR
        )
    if drifts:
        return outcome("drift", drifts=tuple(drifts))
    return outcome("confirmed")
