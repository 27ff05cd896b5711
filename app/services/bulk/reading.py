"""Read many devices from the platform at once: a bounded thread pool, reporting as it goes.

The shared platform client is thread-safe; nothing here touches the database, so the pool
threads need no app context. The caller stores what was read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from app.platform import errors as platform_errors
from app.platform.interface import UNASSIGNED, Platform

PREVIEW_CONCURRENCY = 16
# How often a read in progress reports (and so how soon it sees a cancel).
CHECK_PROGRESS_S = 0.25
RATE_LIMIT_TRIES = 3
RATE_LIMIT_WAIT_CAP_S = 5.0
# Fetch group membership per group instead of per device when there are this many fewer groups.
GROUP_MAP_RATIO = 4


@dataclass(frozen=True)
class Reading:
    """What the platform said about one device."""

    found: bool
    status: str | None = None
    group: str | None = None
    error: str | None = None


def _read_device(platform: Platform, tuid: str, group: str | None) -> Reading:
    """Read status (and the group unless known); runs in a pool thread, no database here."""
    for attempt in range(RATE_LIMIT_TRIES):
        try:
            status = platform.get_installation_status(tuid)
            if group is None:
                group = platform.get_group(tuid)
        except platform_errors.NotFound:
            return Reading(found=False)
        except platform_errors.RateLimited as exc:
            if attempt + 1 < RATE_LIMIT_TRIES:
                # Reads are safe to repeat; wait as the platform asked (within reason).
                time.sleep(min(RATE_LIMIT_WAIT_CAP_S, exc.retry_after or 1.0))
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
    on_progress: Callable[[int], bool] | None = None,
) -> dict[str, Reading]:
    """Read every device's status and group from the platform, `concurrency` calls at a time.

    `on_progress(read_so_far)` is called now and then; when it returns False the reading stops
    (CheckStopped) and the calls not yet made are dropped.
    """
    with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="bulk-preview") as pool:
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

        def read(tuid: str) -> Reading:
            return _read_device(platform, tuid, group_of(tuid))

        if on_progress is None:
            return dict(zip(tuids, pool.map(read, tuids), strict=True))
        return _read_watched(pool, tuids, read, on_progress)


def _read_watched(
    pool: ThreadPoolExecutor,
    tuids: Sequence[str],
    read: Callable[[str], Reading],
    on_progress: Callable[[int], bool],
) -> dict[str, Reading]:
    """Read on the pool and report every CHECK_PROGRESS_S, whether or not a read has finished.

    Reporting on a clock rather than as results arrive bounds how long a cancel goes unseen
    (slow reads would otherwise stretch it), and calls not yet started check `stop` first, so
    after a cancel only the calls already under way reach the platform.
    """
    stop = threading.Event()
    finished = threading.Event()
    done = [0]
    lock = threading.Lock()

    def watched(tuid: str) -> Reading | None:
        try:
            return None if stop.is_set() else read(tuid)
        finally:
            with lock:
                done[0] += 1
                if done[0] == len(tuids):
                    finished.set()

    if not tuids:
        return {}
    futures = [pool.submit(watched, t) for t in tuids]
    try:
        while not finished.wait(CHECK_PROGRESS_S):
            if not on_progress(done[0]):
                raise CheckStopped
    except BaseException:
        # Cancelled, or the progress write failed: either way the reads left are not wanted.
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    found: dict[str, Reading] = {}
    for tuid, future in zip(tuids, futures, strict=True):
        reading = future.result()
        assert reading is not None  # only a stopped read returns None, and stopping raised
        found[tuid] = reading
    return found
