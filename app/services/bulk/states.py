"""A bulk job's states and the moves between them: every change of `BulkJob.state` is made here.

A dry run reads every device in the background (`checking`), then waits for a confirm
(`preview`), or ends `check_failed` when the platform could not be read or its process died.
Confirming creates the operations (`confirming`, resumable); the job is `running` while any of
them waits or syncs and `done` when none does, and `running` again when a supervisor retries one
from the inbox. Anything not yet done can be cancelled. TRANSITIONS is the whole map.

The functions here change the row in memory; the caller holds its lock and commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.errors import Conflict
from app.models.bulk import BulkJob

CHECKING, CHECK_FAILED, PREVIEW, CONFIRMING, RUNNING, DONE, CANCELLED = (
    "checking",
    "check_failed",
    "preview",
    "confirming",
    "running",
    "done",
    "cancelled",
)
STATES = (CHECKING, CHECK_FAILED, PREVIEW, CONFIRMING, RUNNING, DONE, CANCELLED)
INITIAL = CHECKING

TRANSITIONS: dict[str, frozenset[str]] = {
    CHECKING: frozenset({PREVIEW, CHECK_FAILED, CANCELLED}),
    CHECK_FAILED: frozenset({CANCELLED}),
    PREVIEW: frozenset({CONFIRMING, CANCELLED}),
    CONFIRMING: frozenset({RUNNING, DONE, CANCELLED}),
    RUNNING: frozenset({DONE, CANCELLED}),
    DONE: frozenset({RUNNING}),  # a supervisor retried some of its operations from the inbox
    CANCELLED: frozenset(),
}
# States in which nothing was sent to the platform: there is no progress to show or to stop.
SENT_NOTHING = (CHECKING, CHECK_FAILED, PREVIEW)
# A dry run writes how far it got every fraction of a second; one that has not for this long died
# with its process (a restart, a killed web worker) and is marked failed so it can be run again.
CHECK_STALE_S = 120.0


def can_move(state: str, to: str) -> bool:
    """Return whether a job in `state` may move to `to`."""
    return to in TRANSITIONS[state]


def move(job: BulkJob, to: str, now: datetime, **summary: Any) -> None:
    """Move the job to `to`, stamping the time it entered; `summary` keys are merged in."""
    if not can_move(job.state, to):
        raise Conflict(f"This bulk job is {job.state}; it cannot become {to}.")
    was = job.state
    job.state = to
    if to == CONFIRMING:
        job.confirmed_at = now
    elif to == CANCELLED:
        job.cancelled_at = now
    elif to in (DONE, CHECK_FAILED):
        job.finished_at = now
    elif was == DONE:
        job.finished_at = None
    if summary:
        job.summary = {**job.summary, **summary}


def expire_stale_check(job: BulkJob, now: datetime) -> bool:
    """Fail a dry run whose progress stopped long ago; return whether it was."""
    if job.state != CHECKING:
        return False
    last = datetime.fromisoformat(str(job.summary.get("checked_at") or job.created_at.isoformat()))
    if (now - last).total_seconds() < CHECK_STALE_S:
        return False
    move(
        job,
        CHECK_FAILED,
        now,
        failure="The dry run was interrupted (the server restarted); run it again.",
    )
    return True


def settle(job: BulkJob, active: int, now: datetime) -> bool:
    """Move a confirmed job to done or back to running by how many operations are `active`."""
    if job.state == RUNNING and not active:
        move(job, DONE, now)
        return True
    if job.state == DONE and active:
        move(job, RUNNING, now)
        return True
    return False
