"""The dry run: store the job as `checking`, read its devices, store one verdict per line.

Reading 10,000 devices takes tens of seconds at real platform latencies: longer than a request
should be held open (and than gunicorn's timeout allows for 50,000). So start_dry_run, which the
API and the CLI both call, stores the job as `checking` and returns at once; a thread of this
process reads the devices, writes how far it got (and so sees a cancel), then writes every
verdict in one transaction, so a preview is all there or not at all. A thread dies with its
process: a dry run whose progress stops is marked failed after a while
(states.expire_stale_check) and the supervisor runs it again. It changed nothing.
"""

from __future__ import annotations

import logging
import threading

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
from app.services.bulk.reading import PREVIEW_CONCURRENCY, CheckStopped, Pacing, read_devices
from app.services.bulk.targets import Targets
from app.services.bulk.verdicts import CHANGE, VERDICTS, item_rows, waiting_counts

INSERT_CHUNK = 1000
PACING_KEY = "fieldhand.bulk_pacing"
_UNDER_WAY_KEY = "fieldhand.bulk_dry_runs"
log = logging.getLogger(__name__)


def pacing_for(app: Flask) -> Pacing:
    """Return how this app's dry runs wait (tests set their own under PACING_KEY)."""
    pacing = app.extensions.get(PACING_KEY)
    return pacing if isinstance(pacing, Pacing) else Pacing()


def _under_way(app: Flask) -> dict[int, threading.Thread]:
    running: dict[int, threading.Thread] = app.extensions.setdefault(_UNDER_WAY_KEY, {})
    return running


def start_dry_run(app: Flask, *, action: JobAction, targets: Targets, user: User) -> BulkJob:
    """Store a `checking` job and read its devices in a background thread of this process."""
    platform = platform_for(app)
    job = create_checking_job(action=action, targets=targets, user=user, platform=platform)
    db.session.refresh(job)  # as it starts, whatever the thread writes before the caller reads
    job_id = job.id
    concurrency = int(app.config["BULK_PREVIEW_CONCURRENCY"])
    pacing = pacing_for(app)

    def run() -> None:
        with app.app_context():
            try:
                check_devices(
                    job_id,
                    action=action,
                    targets=targets,
                    platform=platform,
                    concurrency=concurrency,
                    pacing=pacing,
                )
            except Exception:  # already recorded on the job as check_failed
                log.exception("bulk job %s: dry run failed", job_id)
            finally:
                db.session.remove()
                _under_way(app).pop(job_id, None)

    thread = threading.Thread(target=run, name=f"bulk-check-{job_id}", daemon=True)
    _under_way(app)[job_id] = thread
    thread.start()
    return job


def join_dry_run(app: Flask, job_id: int, timeout: float | None = None) -> bool:
    """Wait until this process no longer reads the job's devices; return False on timeout."""
    thread = _under_way(app).get(job_id)
    if thread is None:
        return True
    thread.join(timeout)
    return not thread.is_alive()


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


def create_checking_job(
    *, action: JobAction, targets: Targets, user: User, platform: Platform
) -> BulkJob:
    """Store a job that is `checking`: check_devices reads its devices next.

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
        source=targets.source,
        source_detail=targets.detail,
        state=states.INITIAL,
        created_by_id=user.id,
        created_at=now,
        summary={
            "lines": len(targets.lines),
            "devices": len(targets.unique_tuids()),
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


def check_devices(
    job_id: int,
    *,
    action: JobAction,
    targets: Targets,
    platform: Platform,
    concurrency: int = PREVIEW_CONCURRENCY,
    pacing: Pacing | None = None,
) -> BulkJob:
    """Read every target of a `checking` job and store one verdict per line (state `preview`).

    Ends `check_failed` with a message when no device could be read or the reading broke, and
    stops quietly when the job is cancelled meanwhile.
    """
    unique = targets.unique_tuids()
    try:
        readings = read_devices(
            platform,
            unique,
            known_group=targets.known_group,
            concurrency=concurrency,
            pacing=pacing,
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
    rows, verdicts = item_rows(job.id, action, targets.lines, readings, waiting)
    for start in range(0, len(rows), INSERT_CHUNK):
        db.session.execute(insert(BulkJobItem), rows[start : start + INSERT_CHUNK])
    states.move(job, states.PREVIEW, utcnow())
    job.summary = {  # the reading's own progress fields (checked_at) are done with
        "lines": len(targets.lines),
        "devices": len(unique),
        "read": len(unique),
        **{v: verdicts.get(v, 0) for v in VERDICTS},
        "will_change": verdicts.get(CHANGE, 0),
    }
    db.session.commit()
    return job
