"""Bulk retire, quarantine, uninstall and move: dry-run preview, counted confirm, progress, cancel.

A job is a row with progress (style habit 6). The preview reads each device from the platform
in a bounded thread pool (the shared client is thread-safe) and writes every verdict on the
request thread in one transaction. Confirming turns the devices that will change into ordinary
operations in the same outbox, in chunks (bulk_enqueue: the ingest rules, written set-wise), so
ordering, conflicts, retries and the worker are the same as for any action. Operation ids are
derived from the job item, so a confirm interrupted half-way can simply be confirmed again.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.orm import aliased

from app.database import db, utcnow
from app.errors import Conflict, NotFound, ServiceUnavailable, Unprocessable
from app.models.audit import AuditEvent
from app.models.bulk import BulkJob, BulkJobItem
from app.models.operations import (
    ACCEPTED,
    CONFLICT,
    DISCARDED,
    FAILED,
    STEP_CANCELLED,
    STEP_HELD,
    STEP_LEASED,
    STEP_PENDING,
    SYNCED,
    SYNCING,
    Operation,
    OutboxStep,
)
from app.models.users import User
from app.platform import errors as platform_errors
from app.platform.interface import UNASSIGNED, Platform
from app.services.bulk_enqueue import ChunkItem, enqueue_chunk
from app.services.bulk_targets import TargetLine
from app.services.operation_plans import (
    InvalidOperation,
    normalise_group,
    platform_without_groups,
)
from app.services.paging import Page, count

# What each bulk action does to a device.
STATUS_ACTIONS = {"retire": "retired", "quarantine": "quarantine", "uninstall": "uninstalled"}
ACTIONS = (*STATUS_ACTIONS, "move")

# Job states. A dry run reads every device from the platform in the background (`checking`),
# then waits for a confirm (`preview`), or ends `check_failed` when the platform could not be read.
CHECKING, CHECK_FAILED, PREVIEW, CONFIRMING, RUNNING, DONE, CANCELLED = (
    "checking",
    "check_failed",
    "preview",
    "confirming",
    "running",
    "done",
    "cancelled",
)
# Item verdicts.
CHANGE, ALREADY, UNKNOWN, DUPLICATE, INVALID, ERROR = (
    "change",
    "already",
    "unknown",
    "duplicate",
    "invalid",
    "error",
)
VERDICTS = (CHANGE, ALREADY, UNKNOWN, DUPLICATE, INVALID, ERROR)
ACTIVE_STATES = (ACCEPTED, SYNCING)

PREVIEW_CONCURRENCY = 16
# A dry run writes how far it got (and sees a cancel) this often; one that has not for
# CHECK_STALE_S died with its process (a restart, a killed web worker) and is marked failed so it
# can be run again.
CHECK_PROGRESS_S = 0.25
CHECK_STALE_S = 120.0
RATE_LIMIT_TRIES = 3
RATE_LIMIT_WAIT_CAP_S = 5.0
CONFIRM_CHUNK = 1000
# Fetch group membership per group instead of per device when there are this many fewer groups.
GROUP_MAP_RATIO = 4
_OP_ID_NAMESPACE = uuid.UUID("6f1c6a4e-2b7d-4d43-9a57-5b0f3c1e8a10")


@dataclass(frozen=True)
class Reading:
    """What the platform said about one device."""

    found: bool
    status: str | None = None
    group: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class JobAction:
    action: str
    target_group: str | None

    @property
    def kind(self) -> str:
        return "set_group" if self.action == "move" else "set_status"

    @property
    def target(self) -> str:
        if self.action == "move":
            assert self.target_group is not None
            return self.target_group
        return STATUS_ACTIONS[self.action]

    @property
    def args(self) -> dict[str, str]:
        if self.action == "move":
            return {"group_id": self.target}
        return {"status": self.target}

    def current(self, reading: Reading) -> str | None:
        return reading.group if self.action == "move" else reading.status


def job_action(action: str, target_group: str | None) -> JobAction:
    """Validate a bulk action and its target group."""
    if action not in ACTIONS:
        raise Unprocessable(f"Unknown bulk action '{action}'; use one of {', '.join(ACTIONS)}.")
    if action != "move":
        return JobAction(action, None)
    no_groups = platform_without_groups()
    if no_groups:
        raise Unprocessable(f"{no_groups} has no deployment groups: devices cannot be moved.")
    if not target_group:
        raise Unprocessable("Moving devices needs a target group.", {"field": "target_group"})
    try:
        return JobAction(action, normalise_group(target_group))
    except InvalidOperation as exc:
        raise Unprocessable(str(exc), {"field": "target_group"}) from exc


# --- preview -----------------------------------------------------------------------------------


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


def _waiting_counts(tuids: Sequence[str]) -> Counter[str]:
    """Per device, how many of our actions are still waiting to reach the platform."""
    waiting: Counter[str] = Counter()
    for start in range(0, len(tuids), CONFIRM_CHUNK):
        chunk = list(tuids[start : start + CONFIRM_CHUNK])
        rows = db.session.execute(
            select(OutboxStep.tuid, func.count())
            .where(OutboxStep.tuid.in_(chunk), OutboxStep.state.in_((STEP_PENDING, STEP_LEASED)))
            .group_by(OutboxStep.tuid)
        )
        waiting.update({tuid: n for tuid, n in rows})
    return waiting


def _verdict(action: JobAction, reading: Reading, waiting: int) -> tuple[str, str | None]:
    if reading.error:
        return ERROR, reading.error
    if not reading.found:
        return UNKNOWN, "Not in the platform stack: check the TUID or the customer."
    note = (
        f"{waiting} earlier action(s) on this device still wait to sync; this one applies after "
        "them."
        if waiting
        else None
    )
    if action.current(reading) == action.target and not waiting:
        return ALREADY, f"Already {action.target}."
    return CHANGE, note


def _check_target_group(platform: Platform, action: JobAction) -> None:
    if action.action != "move" or action.target == UNASSIGNED:
        return
    try:
        groups = {g.group_id for g in platform.list_groups(q=action.target)}
    except platform_errors.PlatformError as exc:
        raise ServiceUnavailable(f"Could not check the target group: {exc.message}.") from exc
    if action.target not in groups:
        raise Unprocessable(
            f"Deployment group '{action.target}' does not exist; create it first.",
            {"field": "target_group"},
        )


def _unique_tuids(lines: Sequence[TargetLine]) -> list[str]:
    unique: list[str] = []
    seen: set[str] = set()
    for line in lines:
        if line.tuid is not None and line.tuid not in seen:
            seen.add(line.tuid)
            unique.append(line.tuid)
    return unique


def start_preview(
    *,
    action: JobAction,
    lines: list[TargetLine],
    source: str,
    source_detail: str | None,
    user: User,
    platform: Platform,
) -> BulkJob:
    """Store a job that is `checking`: its devices are read next, by run_preview.

    The platform is asked once first, so an unreachable platform is a 503 now rather than a
    dry run that fails a minute later.
    """
    _check_target_group(platform, action)
    try:
        platform.list_groups(limit=1)
    except platform_errors.PlatformError as exc:
        raise ServiceUnavailable(f"The platform did not answer ({exc.message}).") from exc
    now = utcnow()
    job = BulkJob(
        action=action.action,
        target_group=action.target_group,
        source=source,
        source_detail=source_detail,
        state=CHECKING,
        created_by_id=user.id,
        created_at=now,
        summary={
            "lines": len(lines),
            "devices": len(_unique_tuids(lines)),
            "read": 0,
            "checked_at": now.isoformat(),
        },
    )
    db.session.add(job)
    db.session.commit()
    return job


def _record_check_progress(job_id: int, read: int) -> bool:
    """Write how many devices were read; return False when the job was cancelled meanwhile."""
    job = _lock_job(job_id)
    if job.state != CHECKING:
        db.session.rollback()
        return False
    job.summary = {**job.summary, "read": read, "checked_at": utcnow().isoformat()}
    db.session.commit()
    return True


def _fail_check(job_id: int, message: str) -> None:
    job = _lock_job(job_id)
    if job.state == CHECKING:
        job.state = CHECK_FAILED
        job.finished_at = utcnow()
        job.summary = {**job.summary, "failure": message}
    db.session.commit()


def run_preview(
    job_id: int,
    *,
    action: JobAction,
    lines: list[TargetLine],
    platform: Platform,
    known_group: str | None = None,
    concurrency: int = PREVIEW_CONCURRENCY,
) -> BulkJob:
    """Read every target of a `checking` job and store one verdict per line (state `preview`).

    Ends `check_failed` with a message when no device could be read or the reading broke, and
    stops quietly when the job is cancelled meanwhile.
    """
    unique = _unique_tuids(lines)
    try:
        readings = read_devices(
            platform,
            unique,
            known_group=known_group,
            concurrency=concurrency,
            on_progress=lambda n: _record_check_progress(job_id, n),
        )
    except CheckStopped:
        return get_job(job_id)
    except Exception as exc:
        db.session.rollback()
        _fail_check(job_id, f"The dry run stopped: {exc}")
        raise
    if readings and all(r.error for r in readings.values()):
        # Nothing could be read: a preview of errors only would just be noise.
        first = next(iter(readings.values())).error
        _fail_check(job_id, f"The platform did not answer for any device ({first}).")
        return get_job(job_id)
    waiting = _waiting_counts(unique)

    job = _lock_job(job_id)
    if job.state != CHECKING:  # cancelled while reading
        db.session.rollback()
        return get_job(job_id)
    rows: list[dict[str, Any]] = []
    verdicts: Counter[str] = Counter()
    first_seen: set[str] = set()
    for line in lines:
        row: dict[str, Any] = {
            "job_id": job.id,
            "line_no": line.line_no,
            "raw": line.raw,
            "tuid": line.tuid,
            "current_status": None,
            "current_group": None,
            "message": None,
        }
        if line.tuid is None:
            row.update(verdict=INVALID, message=line.error)
        elif line.tuid in first_seen:
            row.update(verdict=DUPLICATE, message="Listed earlier; counted once.")
        else:
            first_seen.add(line.tuid)
            reading = readings[line.tuid]
            verdict, message = _verdict(action, reading, waiting.get(line.tuid, 0))
            row.update(
                verdict=verdict,
                message=message,
                current_status=reading.status,
                current_group=reading.group,
            )
        verdicts[row["verdict"]] += 1
        rows.append(row)
    for start in range(0, len(rows), CONFIRM_CHUNK):
        db.session.execute(insert(BulkJobItem), rows[start : start + CONFIRM_CHUNK])
    job.state = PREVIEW
    job.summary = {
        "lines": len(lines),
        "devices": len(unique),
        "read": len(unique),
        **{v: verdicts.get(v, 0) for v in VERDICTS},
        "will_change": verdicts.get(CHANGE, 0),
    }
    db.session.commit()
    return job


def expire_stale_check(job: BulkJob, now: datetime) -> bool:
    """Mark a dry run whose progress stopped long ago as failed; return whether it was."""
    if job.state != CHECKING:
        return False
    last = datetime.fromisoformat(str(job.summary.get("checked_at") or job.created_at.isoformat()))
    if (now - last).total_seconds() < CHECK_STALE_S:
        return False
    job.state = CHECK_FAILED
    job.finished_at = now
    job.summary = {
        **job.summary,
        "failure": "The dry run was interrupted (the server restarted); run it again.",
    }
    return True


# --- reading jobs ------------------------------------------------------------------------------


def get_job(job_id: int) -> BulkJob:
    """Return the job or raise NotFound."""
    job = db.session.get(BulkJob, job_id)
    if job is None:
        raise NotFound(f"No bulk job {job_id}.")
    if expire_stale_check(job, utcnow()):
        db.session.commit()
    return job


def _lock_job(job_id: int) -> BulkJob:
    query = select(BulkJob).where(BulkJob.id == job_id)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    job = db.session.scalar(query.execution_options(populate_existing=True))
    if job is None:
        raise NotFound(f"No bulk job {job_id}.")
    return job


def items_page(job_id: int, verdict: str | None, page: int, size: int) -> Page[BulkJobItem]:
    """Return the job's items in input order, optionally only one verdict."""
    get_job(job_id)
    query = select(BulkJobItem).where(BulkJobItem.job_id == job_id)
    if verdict:
        query = query.where(BulkJobItem.verdict == verdict)
    total = count(query)
    items = db.session.scalars(
        query.order_by(BulkJobItem.line_no, BulkJobItem.id).offset(page * size).limit(size)
    )
    return Page(list(items), total, page, size)


@dataclass
class Progress:
    total: int
    by_state: dict[str, int]
    done: int
    percent: float
    eta_s: float | None

    def json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_state": self.by_state,
            "done": self.done,
            "percent": self.percent,
            "eta_s": self.eta_s,
        }


def _state_counts(job_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {job_id: {} for job_id in job_ids}
    if not job_ids:
        return counts
    rows = db.session.execute(
        select(Operation.bulk_job_id, Operation.state, func.count())
        .where(Operation.bulk_job_id.in_(list(job_ids)))
        .group_by(Operation.bulk_job_id, Operation.state)
    )
    for job_id, state, n in rows:
        if job_id is not None:
            counts[job_id][state] = n
    return counts


def _progress(job: BulkJob, by_state: dict[str, int], now: datetime) -> Progress:
    total = sum(by_state.values())
    active = sum(by_state.get(s, 0) for s in ACTIVE_STATES)
    done = total - active
    percent = round(100.0 * done / total, 1) if total else (100.0 if job.state == DONE else 0.0)
    eta: float | None = None
    if job.state in (CONFIRMING, RUNNING) and job.confirmed_at and done and active:
        elapsed = (now - job.confirmed_at).total_seconds()
        eta = round(active * elapsed / done, 1)
    full = {s: by_state.get(s, 0) for s in (ACCEPTED, SYNCING, SYNCED, FAILED, CONFLICT, DISCARDED)}
    return Progress(total, full, done, percent, eta)


def _settle(job: BulkJob, progress: Progress, now: datetime) -> bool:
    """Derive running/done from the operations; return whether the job row changed."""
    active = progress.by_state[ACCEPTED] + progress.by_state[SYNCING]
    if job.state == RUNNING and not active:
        job.state = DONE
        job.finished_at = now
        return True
    if job.state == DONE and active:
        # A supervisor retried some of its operations from the inbox.
        job.state = RUNNING
        job.finished_at = None
        return True
    return False


def job_progress(job: BulkJob) -> Progress:
    """Return the job's progress, marking it done once no operation is waiting or syncing."""
    now = utcnow()
    progress = _progress(job, _state_counts([job.id])[job.id], now)
    if _settle(job, progress, now):
        db.session.commit()
    return progress


def jobs_page(state: str | None, page: int, size: int) -> Page[tuple[BulkJob, Progress]]:
    """Return bulk jobs newest first, each with its progress."""
    query = select(BulkJob)
    if state:
        query = query.where(BulkJob.state == state)
    total = count(query)
    jobs = list(
        db.session.scalars(
            query.order_by(BulkJob.created_at.desc(), BulkJob.id.desc())
            .offset(page * size)
            .limit(size)
        )
    )
    counts = _state_counts([j.id for j in jobs])
    now = utcnow()
    result = []
    changed = False
    for job in jobs:
        progress = _progress(job, counts[job.id], now)
        changed = expire_stale_check(job, now) or _settle(job, progress, now) or changed
        result.append((job, progress))
    if changed:
        db.session.commit()
    return Page(result, total, page, size)


def creators(jobs: Sequence[BulkJob]) -> dict[int, User]:
    """Return the users who created these jobs, by id."""
    ids = {j.created_by_id for j in jobs}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


# --- confirm -----------------------------------------------------------------------------------


def bulk_op_id(job_id: int, item_id: int) -> str:
    """Return the operation id for a job item: stable, so a repeated confirm is idempotent."""
    return str(uuid.uuid5(_OP_ID_NAMESPACE, f"bulk-job:{job_id}:item:{item_id}"))


def _enqueue_chunk(job_id: int, action: JobAction, items: Sequence[Any], user: User) -> None:
    """Create operations for one chunk of item rows (id, tuid, current_status, current_group)."""
    enqueue_chunk(
        job_id,
        action.kind,
        action.args,
        [
            ChunkItem(i.id, bulk_op_id(job_id, i.id), i.tuid, i.current_status, i.current_group)
            for i in items
        ],
        user,
    )


def confirm(
    job_id: int,
    expected_count: int,
    user: User,
    *,
    chunk: int = CONFIRM_CHUNK,
    on_chunk: Callable[[int], None] | None = None,
) -> BulkJob:
    """Create the job's operations once the supervisor names how many devices will change."""
    job = _lock_job(job_id)
    if job.state == CHECKING:
        raise Conflict("The dry run is still reading the devices; confirm once it is done.")
    if job.state not in (PREVIEW, CONFIRMING):
        raise Conflict(f"This bulk job is {job.state}; only a preview can be confirmed.")
    will_change = int(job.summary.get(CHANGE, 0))
    if expected_count != will_change:
        raise Conflict(
            f"The preview changes {will_change} devices, not {expected_count}. Check the "
            "preview and confirm with its count.",
            {"expected_count": expected_count, "will_change": will_change},
        )
    action = JobAction(job.action, job.target_group)
    if job.state == PREVIEW:
        job.state = CONFIRMING
        job.confirmed_at = utcnow()
        db.session.add(
            AuditEvent(
                at=job.confirmed_at,
                user_id=user.id,
                action="bulk.confirm",
                reason=None,
                details={
                    "job_id": job.id,
                    "action": job.action,
                    "target": action.target,
                    "devices": will_change,
                },
            )
        )
    db.session.commit()

    after_id = 0
    while True:
        if _current_state(job_id) == CANCELLED:
            break
        items = list(
            db.session.execute(
                select(
                    BulkJobItem.id,
                    BulkJobItem.tuid,
                    BulkJobItem.current_status,
                    BulkJobItem.current_group,
                )
                .where(
                    BulkJobItem.job_id == job_id,
                    BulkJobItem.verdict == CHANGE,
                    BulkJobItem.operation_id.is_(None),  # a resumed confirm skips linked ones
                    BulkJobItem.id > after_id,
                )
                .order_by(BulkJobItem.id)
                .limit(chunk)
            )
        )
        if not items:
            break
        after_id = items[-1].id
        _enqueue_chunk(job_id, action, items, user)
        if on_chunk is not None:
            on_chunk(len(items))

    job = _lock_job(job_id)
    if job.state == CANCELLED:
        # Cancelled while we were still creating operations: stop the ones created since.
        _cancel_unsent(job, user, utcnow())
    else:
        job.state = RUNNING if will_change else DONE
        if not will_change:
            job.finished_at = utcnow()
    db.session.commit()
    return job


def _current_state(job_id: int) -> str | None:
    state = db.session.scalar(select(BulkJob.state).where(BulkJob.id == job_id))
    db.session.commit()  # end the read transaction so the next chunk sees a cancel
    return state


# --- cancel ------------------------------------------------------------------------------------


def _cancel_unsent(job: BulkJob, user: User, now: datetime) -> int:
    """Cancel every step of the job not yet sent; discard those operations. Return how many."""
    of_job = select(Operation.id).where(Operation.bulk_job_id == job.id)
    # One UPDATE: a worker claiming at the same moment either got the row first (it is leased
    # and will finish) or finds it cancelled; the claim re-checks the state in its own UPDATE.
    db.session.execute(
        update(OutboxStep)
        .where(OutboxStep.state.in_((STEP_PENDING, STEP_HELD)), OutboxStep.operation_id.in_(of_job))
        .values(state=STEP_CANCELLED, completed_at=now)
        .execution_options(synchronize_session=False)
    )
    step = aliased(OutboxStep)
    who = user.display_name or user.username
    discarded = db.session.execute(
        update(Operation)
        .where(
            Operation.bulk_job_id == job.id,
            Operation.state.in_((ACCEPTED, SYNCING, CONFLICT)),
            exists().where(and_(step.operation_id == Operation.id, step.state == STEP_CANCELLED)),
            ~exists().where(and_(step.operation_id == Operation.id, step.state == STEP_LEASED)),
        )
        .values(
            state=DISCARDED,
            error_code="discarded",
            error_message=f"bulk job cancelled by {who}",
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(discarded.rowcount or 0)  # type: ignore[attr-defined]


def cancel(job_id: int, user: User) -> BulkJob:
    """Stop a job: what has not been sent is cancelled; what is in flight or done stays."""
    job = _lock_job(job_id)
    if job.state in (DONE, CANCELLED):
        raise Conflict(f"This bulk job is already {job.state}.")
    now = utcnow()
    previous = job.state
    job.state = CANCELLED
    job.cancelled_at = now
    sent_nothing = previous in (CHECKING, CHECK_FAILED, PREVIEW)
    discarded = 0 if sent_nothing else _cancel_unsent(job, user, now)
    db.session.add(
        AuditEvent(
            at=now,
            user_id=user.id,
            action="bulk.cancel",
            reason=f"bulk job cancelled by {user.display_name or user.username}",
            details={"job_id": job.id, "state_before": previous, "discarded": discarded},
        )
    )
    summary = dict(job.summary)
    summary["cancelled_operations"] = summary.get("cancelled_operations", 0) + discarded
    job.summary = summary
    db.session.commit()
    return job


# --- results -----------------------------------------------------------------------------------


@dataclass
class ResultRow:
    line_no: int
    raw: str
    tuid: str | None
    verdict: str
    current_status: str | None
    current_group: str | None
    message: str | None
    op_id: str | None
    state: str | None
    error_message: str | None
    synced_at: datetime | None


def iter_results(job_id: int, chunk: int = CONFIRM_CHUNK) -> Iterator[list[ResultRow]]:
    """Yield the job's per-device results in input order, in chunks."""
    query = (
        select(
            BulkJobItem.line_no,
            BulkJobItem.raw,
            BulkJobItem.tuid,
            BulkJobItem.verdict,
            BulkJobItem.current_status,
            BulkJobItem.current_group,
            BulkJobItem.message,
            Operation.op_id,
            Operation.state,
            Operation.error_message,
            Operation.synced_at,
        )
        .outerjoin(Operation, Operation.id == BulkJobItem.operation_id)
        .where(BulkJobItem.job_id == job_id)
        .order_by(BulkJobItem.line_no, BulkJobItem.id)
        .execution_options(stream_results=True, yield_per=chunk)
    )
    result = db.session.execute(query)
    try:
        for partition in result.partitions(chunk):
            yield [ResultRow(**row._mapping) for row in partition]
    finally:
        result.close()


def result_label(row: ResultRow) -> str:
    """Return one word for what happened to the device."""
    if row.verdict != CHANGE:
        return {ALREADY: "unchanged", DUPLICATE: "skipped"}.get(row.verdict, "not_done")
    if row.state is None:
        return "not_started"
    return {ACCEPTED: "waiting", SYNCING: "sending", SYNCED: "done", DISCARDED: "cancelled"}.get(
        row.state, row.state
    )
