"""Read many devices from the platform at once: a bounded thread pool that reports as it goes.

The shared platform client is thread-safe; nothing here touches the database, so the pool
threads need no app context. The caller stores what was read. How the reading waits (between
progress reports, before repeating a rate-limited read) is its Pacing, which tests replace.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from app.platform import errors as platform_errors
from app.platform.interface import UNASSIGNED, Platform
from app.sync.backoff import retry_delay

PREVIEW_CONCURRENCY = 16
RATE_LIMIT_TRIES = 3
# A refused read waits as the worker's backoff would (never less than the platform asked), but
# no longer than this: a supervisor is waiting for the preview.
RATE_LIMIT_BASE_S = 1.0
RATE_LIMIT_WAIT_CAP_S = 5.0
# Fetch group membership per group instead of per device when there are this many fewer groups.
GROUP_MAP_RATIO = 4


class Pacing:
    """How a reading waits: between progress reports, and before repeating a refused read."""

    def __init__(
        self,
        report_every_s: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.report_every_s = report_every_s
        self.sleep = sleep
        self.rng = rng

    def next_report(self, finished: threading.Event) -> bool:
        """Wait until progress is due to be reported; return True if every read finished first.

        Reporting on a clock rather than as results arrive bounds how long a cancel goes unseen
        (slow reads would otherwise stretch it).
        """
        return finished.wait(self.report_every_s)

    def rate_limited(self, attempt: int, retry_after: float | None) -> None:
        """Wait before repeating a read the platform refused with 429 (`attempt` from 1)."""
        delay = retry_delay(
            attempt,
            base=RATE_LIMIT_BASE_S,
            cap=RATE_LIMIT_WAIT_CAP_S,
            retry_after=retry_after,
            rng=self.rng,
        )
        self.sleep(min(RATE_LIMIT_WAIT_CAP_S, delay))


@dataclass(frozen=True)
class Reading:
    """What the platform said about one device."""

    found: bool
    status: str | None = None
    group: str | None = None
    error: str | None = None


def _read_device(platform: Platform, tuid: str, group: str | None, pacing: Pacing) -> Reading:
    """Read status (and the group unless known); runs in a pool thread, no database here."""
    for attempt in range(1, RATE_LIMIT_TRIES + 1):
        try:
            status = platform.get_installation_status(tuid)
            if group is None:
                group = platform.get_group(tuid)
        except platform_errors.NotFound:
            return Reading(found=False)
        except platform_errors.RateLimited as exc:
            if attempt < RATE_LIMIT_TRIES:
                pacing.rate_limited(attempt, exc.retry_after)  # reads are safe to repeat
                continue
            return Reading(found=False, error=f"Platform busy (rate limited): {exc.message}")
        except platform_errors.PlatformError as exc:
            return Reading(
                found=False, error=f"Platform unreachable for this device: {exc.message}"
            )
        return Reading(found=True, status=status, group=group)
    raise AssertionError("unreachable")


def _group_map(
    platform: Platform, pool: ThreadPoolExecutor, device_count: int
) -> dict[str, str] | None:
    """Return tuid -> group from the groups' member lists when that is far fewer calls."""
    try:
        groups = [g.group_id for g in platform.list_groups() if g.group_id != UNASSIGNED]
    except platform_errors.PlatformError:
        return None
    if len(groups) * GROUP_MAP_RATIO > device_count:
        return None
    try:
        members = list(pool.map(platform.group_things, groups))
    except platform_errors.PlatformError:
        return None
    return {tuid: group for group, tuids in zip(groups, members, strict=True) for tuid in tuids}


class CheckStopped(Exception):
    """The dry run was cancelled while it read the devices."""


def read_devices(
    platform: Platform,
    tuids: Sequence[str],
    *,
    known_group: str | None = None,
    concurrency: int = PREVIEW_CONCURRENCY,
    pacing: Pacing | None = None,
    on_progress: Callable[[int], bool] | None = None,
    stop: threading.Event | None = None,
) -> dict[str, Reading]:
    """Read every device's status and group from the platform, `concurrency` calls at a time.

    `on_progress(read_so_far)` is called whenever the pacing says. The reading stops when it
    returns False or `stop` is set (CheckStopped), or when it raises (with its error). The calls
    not yet made are then dropped, and the ones under way (at most `concurrency`) are not waited
    for.
    """
    pacing = pacing or Pacing()
    stop = stop or threading.Event()
    pool = ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="bulk-preview")
    completed = False
    try:
        groups: dict[str, str] | None = None
        if known_group is None and len(tuids) >= 2 * GROUP_MAP_RATIO:
            groups = _group_map(platform, pool, len(tuids))

        def group_of(tuid: str) -> str | None:
            if known_group is not None:
                return known_group
            if groups is not None:
                # Devices in no listed group are unassigned (spec 2.7).
                return groups.get(tuid, UNASSIGNED)
            return None

        def read(tuid: str) -> Reading | None:
            return None if stop.is_set() else _read_device(platform, tuid, group_of(tuid), pacing)

        if on_progress is None:
            found = list(pool.map(read, tuids))
        else:
            found = _read_watched(pool, tuids, read, on_progress, pacing, stop)
        if stop.is_set():
            raise CheckStopped
        completed = True
    finally:
        pool.shutdown(wait=completed, cancel_futures=True)
    readings: dict[str, Reading] = {}
    for tuid, reading in zip(tuids, found, strict=True):
        assert reading is not None  # only a stopped read is None, and stopping raised
        readings[tuid] = reading
    return readings


def _read_watched(
    pool: ThreadPoolExecutor,
    tuids: Sequence[str],
    read: Callable[[str], Reading | None],
    on_progress: Callable[[int], bool],
    pacing: Pacing,
    stop: threading.Event,
) -> list[Reading | None]:
    """Read on the pool, reporting how many reads finished each time the pacing says."""
    finished = threading.Event()
    done = [0]
    lock = threading.Lock()

    def watched(tuid: str) -> Reading | None:
        try:
            return read(tuid)
        finally:
            with lock:
                done[0] += 1
                if done[0] == len(tuids):
                    finished.set()

    if not tuids:
        return []
    futures = [pool.submit(watched, t) for t in tuids]
    try:
        while not pacing.next_report(finished):
            if not on_progress(done[0]):
                raise CheckStopped
    except BaseException:
        # Cancelled, or the progress write failed: either way the reads left are not wanted.
        stop.set()
        raise
    return [future.result() for future in futures]
