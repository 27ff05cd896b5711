"""Reading bulk jobs: one job, a page of them with their progress, a job's lines, their creators.

Nothing here writes: the states a job reaches without a command (done, a dead dry run) are
stored by settle.settle_jobs, which the views that show jobs call first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from app.database import db, utcnow
from app.errors import NotFound
from app.models.bulk import BulkJob, BulkJobItem
from app.models.operations import (
    ACCEPTED,
    CONFLICT,
    DISCARDED,
    FAILED,
    SYNCED,
    SYNCING,
    Operation,
)
from app.models.users import User
from app.services.bulk import states
from app.services.paging import Page, count

ACTIVE_STATES = (ACCEPTED, SYNCING)


def get_job(job_id: int) -> BulkJob:
    """Return the job or raise NotFound."""
    job = db.session.get(BulkJob, job_id)
    if job is None:
        raise NotFound(f"No bulk job {job_id}.")
    return job


def locked(query: Select[BulkJob]) -> Select[BulkJob]:
    """Return the query reading its jobs afresh, locked until the transaction ends.

    SQLite has no row locks; its writers take turns on the whole database instead.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=BulkJob)
    return query.execution_options(populate_existing=True)


def lock_job(job_id: int) -> BulkJob:
    """Return the job freshly read and locked until the transaction ends, or raise NotFound."""
    job = db.session.scalar(locked(select(BulkJob).where(BulkJob.id == job_id)))
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


def state_counts(job_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Return, per job, how many of its operations are in each state."""
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
    active = active_count(by_state)
    done = total - active
    percent = (
        round(100.0 * done / total, 1) if total else (100.0 if job.state == states.DONE else 0.0)
    )
    eta: float | None = None
    if job.state in (states.CONFIRMING, states.RUNNING) and job.confirmed_at and done and active:
        elapsed = (now - job.confirmed_at).total_seconds()
        eta = round(active * elapsed / done, 1)
    full = {s: by_state.get(s, 0) for s in (ACCEPTED, SYNCING, SYNCED, FAILED, CONFLICT, DISCARDED)}
    return Progress(total, full, done, percent, eta)


def active_count(by_state: dict[str, int]) -> int:
    """Return how many operations still wait or sync, from counts by state."""
    return sum(by_state.get(s, 0) for s in ACTIVE_STATES)


def job_progress(job: BulkJob) -> Progress:
    """Return the job's progress: its operations by state, how far, and how long to go."""
    return _progress(job, state_counts([job.id])[job.id], utcnow())


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
    counts = state_counts([j.id for j in jobs])
    now = utcnow()
    return Page([(job, _progress(job, counts[job.id], now)) for job in jobs], total, page, size)


def creators(jobs: Sequence[BulkJob]) -> dict[int, User]:
    """Return the users who created these jobs, by id."""
    ids = {j.created_by_id for j in jobs}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
