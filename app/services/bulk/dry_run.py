"""The dry run: store the job as `checking`, read its devices, store one verdict per line.

The preview reads each device from the platform in a bounded thread pool and writes every
verdict in one transaction, so a preview is all there or not at all. It changes nothing on the
platform or in the outbox.

Reading 10,000 devices takes tens of seconds at real platform latencies: longer than a request
should be held open (and than gunicorn's timeout allows for 50,000). The request stores the job
as `checking` and returns; a thread of the web process reads, writes progress and the verdicts.
A thread dies with its process, so a dry run whose progress stops is marked failed after a while
(states.expire_stale_check) and the supervisor runs it again: it changed nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from flask import Flask
from sqlalchemy import insert

from app.database import db, utcnow
from app.errors import ServiceUnavailable, Unprocessable
from app.models.bulk import BulkJob, BulkJobItem
from app.models.users import User
from app.platform import errors as platform_errors
from app.platform.interface import UNASSIGNED, Platform
from app.platform.provider import platform_for
from app.services.bulk import states
from app.services.bulk.actions import JobAction
from app.services.bulk.jobs import get_job, lock_job
from app.services.bulk.reading import PREVIEW_CONCURRENCY, CheckStopped, read_devices
from app.services.bulk.targets import TargetLine
from app.services.bulk.verdicts import CHANGE, VERDICTS, item_rows, waiting_counts

INSERT_CHUNK = 1000
log = logging.getLogger(__name__)


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
        state=states.INITIAL,
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
    job = lock_job(job_id)
    if job.state != states.CHECKING:
        db.session.rollback()
        return False
    job.summary = {**job.summary, "read": read, "checked_at": utcnow().isoformat()}
    db.session.commit()
    return True


def _fail_check(job_id: int, message: str) -> None:
    job = lock_job(job_id)
    if job.state == states.CHECKING:
        states.move(job, states.CHECK_FAILED, utcnow(), failure=message)
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
    waiting = waiting_counts(unique)

    job = lock_job(job_id)
    if job.state != states.CHECKING:  # cancelled while reading
        db.session.rollback()
        return get_job(job_id)
    rows, verdicts = item_rows(job.id, action, lines, readings, waiting)
    for start in range(0, len(rows), INSERT_CHUNK):
        db.session.execute(insert(BulkJobItem), rows[start : start + INSERT_CHUNK])
    states.move(job, states.PREVIEW, utcnow())
    job.summary = {
        "lines": len(lines),
        "devices": len(unique),
        "read": len(unique),
        **{v: verdicts.get(v, 0) for v in VERDICTS},
        "will_change": verdicts.get(CHANGE, 0),
    }
    db.session.commit()
    return job


def check_in_background(
    app: Flask,
    job_id: int,
    *,
    action: JobAction,
    lines: list[TargetLine],
    known_group: str | None,
    concurrency: int,
) -> threading.Thread:
    """Start reading the job's devices; return the thread (tests and shutdown may join it)."""

    def run() -> None:
        with app.app_context():
            try:
                run_preview(
                    job_id,
                    action=action,
                    lines=lines,
                    platform=platform_for(app),
                    known_group=known_group,
                    concurrency=concurrency,
                )
            except Exception:  # already recorded on the job as check_failed
                log.exception("bulk job %s: dry run failed", job_id)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, name=f"bulk-check-{job_id}", daemon=True)
    thread.start()
    return thread
