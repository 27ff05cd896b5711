"""Storing the states a bulk job reaches without a command.

A confirmed job is done once none of its operations waits or syncs, and running again when a
supervisor retries one from the inbox; a dry run whose progress stopped long ago died with its
process. No request moves a job there, so the views and commands that show jobs settle them
first; the reads in `jobs` never write.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, exists, or_, select

from app.database import db, utcnow
from app.models.bulk import BulkJob
from app.models.operations import Operation
from app.services.bulk import states
from app.services.bulk.jobs import ACTIVE_STATES, active_count, get_job, locked, state_counts


def settle_jobs(job_ids: Sequence[int] | None = None) -> None:
    """Store what the operations and the clock say of the jobs still moving (or only these)."""
    has_active = exists().where(
        Operation.bulk_job_id == BulkJob.id, Operation.state.in_(ACTIVE_STATES)
    )
    query = select(BulkJob).where(
        or_(
            BulkJob.state.in_((states.CHECKING, states.RUNNING)),
            and_(BulkJob.state == states.DONE, has_active),
        )
    )
    if job_ids is not None:
        query = query.where(BulkJob.id.in_(list(job_ids)))
    jobs = list(db.session.scalars(locked(query.order_by(BulkJob.id))))
    if not jobs:
        return
    # A dry run is judged by the clock alone: the operations are counted for confirmed jobs only.
    counts = state_counts([j.id for j in jobs if j.state != states.CHECKING])
    now = utcnow()
    for job in jobs:
        if job.state == states.CHECKING:
            states.expire_stale_check(job, now)
        else:
            states.settle(job, active_count(counts[job.id]), now)
    db.session.commit()  # also ends the lock: callers may hold their snapshot for a while


def settled_job(job_id: int) -> BulkJob:
    """Return the job once what its operations and the clock say of it is stored."""
    settle_jobs([job_id])
    return get_job(job_id)
