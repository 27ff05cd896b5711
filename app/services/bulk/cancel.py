"""Cancelling a bulk job: what has not been sent is cancelled; what is in flight or done stays."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import aliased

from app.database import db, utcnow
from app.errors import Conflict
from app.models.audit import AuditEvent
from app.models.bulk import BulkJob
from app.models.operations import (
    ACCEPTED,
    CONFLICT,
    DISCARDED,
    STEP_CANCELLED,
    STEP_HELD,
    STEP_LEASED,
    STEP_PENDING,
    SYNCING,
    Operation,
    OutboxStep,
)
from app.models.users import User
from app.services.bulk import states
from app.services.bulk.jobs import lock_job


def cancel_unsent(job: BulkJob, user: User, now: datetime) -> int:
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
    job = lock_job(job_id)
    if not states.can_move(job.state, states.CANCELLED):
        raise Conflict(f"This bulk job is already {job.state}.")
    now = utcnow()
    previous = job.state
    discarded = 0 if previous in states.SENT_NOTHING else cancel_unsent(job, user, now)
    states.move(
        job,
        states.CANCELLED,
        now,
        cancelled_operations=job.summary.get("cancelled_operations", 0) + discarded,
    )
    db.session.add(
        AuditEvent(
            at=now,
            user_id=user.id,
            action="bulk.cancel",
            reason=f"bulk job cancelled by {user.display_name or user.username}",
            details={"job_id": job.id, "state_before": previous, "discarded": discarded},
        )
    )
    db.session.commit()
    return job
