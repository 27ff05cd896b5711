"""Reading bulk jobs: one job, a page of them with their progress, a job's lines, their creators."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

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
    if states.expire_stale_check(job, utcnow()):
        db.session.commit()
    return job


def lock_job(job_id: int) -> BulkJob:
    """Return the job freshly read and locked until the transaction ends, or raise NotFound."""
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
    percent = (
        round(100.0 * done / total, 1) if total else (100.0 if job.state == states.DONE else 0.0)
    )
    eta: float | None = None
    if job.state in (states.CONFIRMING, states.RUNNING) and job.confirmed_at and done and active:
        elapsed = (now - job.confirmed_at).total_seconds()
        eta = round(active * elapsed / done, 1)
    full = {s: by_state.get(s, 0) for s in (ACCEPTED, SYNCING, SYNCED, FAILED, CONFLICT, DISCARDED)}
    return Progress(total, full, done, percent, eta)


def _active(progress: Progress) -> int:
    return progress.by_state[ACCEPTED] + progress.by_state[SYNCING]


def job_progress(job: BulkJob) -> Progress:
    """Return the job's progress, marking it done once no operation is waiting or syncing."""
    now = utcnow()
    progress = _progress(job, _state_counts([job.id])[job.id], now)
    if states.settle(job, _active(progress), now):
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
        changed = (
            states.expire_stale_check(job, now)
            or states.settle(job, _active(progress), now)
            or changed
        )
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
