"""Confirming a previewed bulk job: the devices that will change become ordinary operations.

They go into the same outbox in chunks (bulk.enqueue: the ingest rules and writer), so
ordering, conflicts, retries and the worker are the same as for any action. Operation ids are
derived from the job item, so a confirm interrupted half-way can simply be confirmed again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select

from app.database import db, utcnow
from app.errors import Conflict
from app.models.audit import AuditEvent
from app.models.bulk import BulkJob, BulkJobItem
from app.models.users import User
from app.services.bulk import states
from app.services.bulk.actions import JobAction
from app.services.bulk.cancel import cancel_unsent
from app.services.bulk.enqueue import ChunkItem, enqueue_chunk
from app.services.bulk.jobs import active_count, lock_job, state_counts
from app.services.bulk.verdicts import CHANGE

CONFIRM_CHUNK = 1000
_OP_ID_NAMESPACE = uuid.UUID("6f1c6a4e-2b7d-4d43-9a57-5b0f3c1e8a10")


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


def _start(job_id: int, expected_count: int, user: User) -> tuple[JobAction, int]:
    """Check the count and mark the job `confirming`; return its action and how many change."""
    job = lock_job(job_id)
    if job.state == states.CHECKING:
        raise Conflict("The dry run is still reading the devices; confirm once it is done.")
    if job.state != states.CONFIRMING and not states.can_move(job.state, states.CONFIRMING):
        raise Conflict(f"This bulk job is {job.state}; only a preview can be confirmed.")
    will_change = int(job.summary.get(CHANGE, 0))
    if expected_count != will_change:
        raise Conflict(
            f"The preview changes {will_change} devices, not {expected_count}. Check the "
            "preview and confirm with its count.",
            {"expected_count": expected_count, "will_change": will_change},
        )
    action = JobAction(job.action, job.target_group)
    if job.state == states.PREVIEW:
        states.move(job, states.CONFIRMING, utcnow())
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
    return action, will_change


def _current_state(job_id: int) -> str | None:
    state = db.session.scalar(select(BulkJob.state).where(BulkJob.id == job_id))
    db.session.commit()  # end the read transaction so the next chunk sees a cancel
    return state


def confirm(
    job_id: int,
    expected_count: int,
    user: User,
    *,
    chunk: int = CONFIRM_CHUNK,
    on_chunk: Callable[[int], None] | None = None,
) -> BulkJob:
    """Create the job's operations once the supervisor names how many devices will change."""
    action, will_change = _start(job_id, expected_count, user)
    after_id = 0
    while _current_state(job_id) != states.CANCELLED:
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

    job = lock_job(job_id)
    now = utcnow()
    if job.state == states.CANCELLED:
        # Cancelled while we were still creating operations: stop the ones created since.
        cancel_unsent(job, user, now)
    elif job.state == states.CONFIRMING:  # else a confirm running beside this one finished it
        states.move(job, states.RUNNING if will_change else states.DONE, now)
        # Every operation may have been held at once: then nothing waits and the job is done.
        states.settle(job, active_count(state_counts([job_id])[job_id]), now)
    db.session.commit()
    return job
