"""The supervisor's sync-failure inbox: retry, edit-and-retry, apply anyway, discard with a reason.

Every decision is an AuditEvent carrying the operation before and after; nothing is deleted.
A failed operation's steps go back into the same outbox, so ordering, leases and retries are the
worker's as for any other action. Steps are rewritten in place rather than replaced by new rows:
the claim query treats any earlier step of an operation that is not `done` as blocking, so a
cancelled row before the new ones would hold them forever. Their old values live in the audit
event and in sync_attempts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from app.database import db, utcnow
from app.errors import Conflict, NotFound, Unprocessable
from app.models.audit import AuditEvent
from app.models.operations import (
    ACCEPTED,
    CONFLICT,
    DISCARDED,
    FAILED,
    SENT_STEP_STATES,
    STEP_BLOCKED,
    STEP_CANCELLED,
    STEP_DONE,
    STEP_FAILED,
    STEP_HELD,
    STEP_PENDING,
    SYNCING,
    Operation,
    OutboxStep,
)
from app.models.users import User
from app.services.history import HistoryRow, history_page
from app.services.history_filters import HistoryFilter, still_retrying
from app.services.operation_rules import InvalidOperation, goes_after_sent, plan_steps
from app.services.paging import Page, SortKey
from app.sync.outbox import derive_operation_state
from app.sync.reconcile import DRIFT_HELD, DRIFT_REPAIRED

INBOX_STATES = (FAILED, CONFLICT)
# Not a state: `syncing` operations whose platform calls keep failing. They wait for no decision
# (the worker keeps trying) but a supervisor should see them, and may ask for a try now.
STILL_RETRYING = "retrying"
# Steps that have not reached the platform and are not on their way there.
WAITING_STEP_STATES = (STEP_PENDING, STEP_FAILED, STEP_BLOCKED, STEP_HELD)


def inbox_page(
    flt: HistoryFilter, sort: Sequence[SortKey], page: int, size: int, cursor: str | None = None
) -> Page[HistoryRow]:
    """Return failed and conflicting operations (narrowed by the filter), newest first.

    Operations still being retried, and operations whose drift the worker repaired (nothing to
    decide, but the evidence of a late write), are listed only when asked for by the `retrying`
    and `drift_repaired` states.
    """
    asked = list(flt.states) or list(INBOX_STATES)
    flt.still_retrying = STILL_RETRYING in asked
    flt.drift_repaired = DRIFT_REPAIRED in asked
    flt.states = [s for s in asked if s in INBOX_STATES]
    if not flt.states and not flt.still_retrying and not flt.drift_repaired:
        flt.states = ["-none-"]
    return history_page(flt, sort or (SortKey("received_at", True),), page, size, cursor)


def inbox_counts() -> dict[str, int]:
    """Return how many operations wait in the inbox, per state, how many still retry, and how
    many had their drift repaired."""
    rows = db.session.execute(
        select(Operation.state, func.count())
        .where(Operation.state.in_(INBOX_STATES))
        .group_by(Operation.state)
    )
    counts = dict.fromkeys((*INBOX_STATES, STILL_RETRYING), 0)
    counts.update({state: n for state, n in rows})
    counts[STILL_RETRYING] = (
        db.session.scalar(select(func.count()).select_from(Operation).where(still_retrying())) or 0
    )
    # Not waiting for a decision either: drift the worker repaired by applying the last action
    # again (held drift is a `conflict` above). The evidence is on the operation and in the audit.
    counts[DRIFT_REPAIRED] = (
        db.session.scalar(
            select(func.count())
            .select_from(Operation)
            .where(Operation.error_code == DRIFT_REPAIRED)
        )
        or 0
    )
    return counts


@dataclass
class RetryStatus:
    attempts: int
    next_try_at: datetime


def retry_statuses(operation_ids: Sequence[int]) -> dict[int, RetryStatus]:
    """For operations the worker is retrying: how many tries so far and when the next one is."""
    if not operation_ids:
        return {}
    rows = db.session.execute(
        select(OutboxStep.operation_id, OutboxStep.attempts, OutboxStep.available_at).where(
            OutboxStep.operation_id.in_(list(operation_ids)),
            OutboxStep.state == STEP_PENDING,
            OutboxStep.attempts > 0,
        )
    )
    return {r.operation_id: RetryStatus(r.attempts, r.available_at) for r in rows}


def _load(op_id: str, *, retrying_too: bool = False) -> Operation:
    query = select(Operation).where(Operation.op_id == op_id)
    if db.session.get_bind().dialect.name == "postgresql":
        # Two supervisors deciding at once: the second waits, then sees the first's decision.
        query = query.with_for_update(of=Operation)
    operation = db.session.scalar(query)
    if operation is None:
        raise NotFound(f"No operation {op_id}.")
    if retrying_too and operation.state == SYNCING and operation.error_code == "retrying":
        return operation
    if operation.state not in INBOX_STATES:
        raise Conflict(
            f"This operation is {operation.state}; only failed or conflicting operations wait "
            "for a decision.",
            {"state": operation.state},
        )
    return operation


def snapshot(operation: Operation) -> dict[str, Any]:
    """Return the parts of an operation a decision changes, for the audit trail."""
    return {
        "state": operation.state,
        "args": dict(operation.args),
        "error": (
            {"code": operation.error_code, "message": operation.error_message}
            if operation.error_message or operation.error_code
            else None
        ),
        "steps": [
            {
                "step_no": s.step_no,
                "tuid": s.tuid,
                "action": s.action,
                "value": s.value,
                "state": s.state,
                "attempts": s.attempts,
                "last_error": s.last_error,
                "order_at": s.order_at.isoformat(),
            }
            for s in operation.steps
        ],
    }


def _requeue(operation: Operation, now: datetime) -> bool:
    """Put the operation's waiting steps back in the outbox; return whether they were reordered.

    Where it goes in the device's order is the rules' (operation_rules.goes_after_sent).
    """
    waiting = [s for s in operation.steps if s.state in WAITING_STEP_STATES]
    if operation.error_code == DRIFT_HELD:
        # Applied, then the platform drifted away from it (app.sync.reconcile): apply it again.
        # Reading first, so a value that is still in place is not written a second time.
        waiting = [s for s in operation.steps if s.state == STEP_DONE]
        for step in waiting:
            step.outcome_uncertain = True
    reorder = goes_after_sent(operation.id, operation.state == CONFLICT, waiting)
    for step in waiting:
        step.state = STEP_PENDING
        step.available_at = now
        step.last_error = None
        step.lease_owner = None
        step.lease_until = None
        if reorder:
            step.order_at = now
    return reorder


def rederive(operation: Operation, now: datetime) -> None:
    """Re-derive the state from the steps; an operation nothing of which was sent is `accepted`."""
    operation.state = ACCEPTED
    operation.error_code = None
    operation.error_message = None
    derive_operation_state(operation, now)
    if operation.state == SYNCING and not any(s.state in SENT_STEP_STATES for s in operation.steps):
        operation.state = ACCEPTED


def _audit(
    user: User,
    action: str,
    operation: Operation,
    before: dict[str, Any],
    reason: str | None,
    **extra: Any,
) -> AuditEvent:
    event = AuditEvent(
        at=utcnow(),
        user_id=user.id,
        action=action,
        operation_id=operation.id,
        tuid=operation.tuid,
        reason=reason,
        details={"before": before, "after": snapshot(operation), **extra},
    )
    db.session.add(event)
    return event


@dataclass
class Decision:
    operation: Operation
    audit: AuditEvent


def _commit(operation: Operation, event: AuditEvent) -> Decision:
    db.session.commit()
    return Decision(operation, event)


def retry(op_id: str, user: User, reason: str | None = None) -> Decision:
    """Send a failed operation again, or apply a conflicting one after the newer actions.

    For an operation the worker is still retrying, this only cuts the backoff wait short.
    """
    operation = _load(op_id, retrying_too=True)
    now = utcnow()
    if operation.state == SYNCING:
        return _retry_now(operation, user, reason, now)
    before = snapshot(operation)
    action = "inbox.apply_anyway" if operation.state == CONFLICT else "inbox.retry"
    reordered = _requeue(operation, now)
    rederive(operation, now)
    event = _audit(user, action, operation, before, reason, reordered=reordered)
    return _commit(operation, event)


def _retry_now(operation: Operation, user: User, reason: str | None, now: datetime) -> Decision:
    before = snapshot(operation)
    # Guarded by state: a step the worker claimed meanwhile is left to the worker.
    db.session.execute(
        update(OutboxStep)
        .where(OutboxStep.operation_id == operation.id, OutboxStep.state == STEP_PENDING)
        .values(available_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(operation, ["steps"])
    event = _audit(user, "inbox.retry_now", operation, before, reason)
    return _commit(operation, event)


def edit(op_id: str, args: dict[str, Any], user: User, reason: str | None = None) -> Decision:
    """Fix the operation's arguments, re-plan the steps not yet done, and send it again."""
    operation = _load(op_id)
    try:
        new_args, planned = plan_steps(operation.kind, operation.tuid, args)
    except InvalidOperation as exc:
        raise Unprocessable(str(exc), {"field": "args"}) from exc
    steps = list(operation.steps)
    if len(planned) != len(steps):
        raise Conflict("The edited action needs different steps than the original; discard it.")
    for step, plan in zip(steps, planned, strict=True):
        if step.state in SENT_STEP_STATES and (step.tuid, step.action, step.value) != (
            plan.tuid,
            plan.action,
            plan.value,
        ):
            raise Conflict(
                f"Step {step.step_no + 1} ({step.action} {step.value} on {step.tuid}) already "
                "reached the platform and cannot be changed; discard this operation and record "
                "a new action instead.",
                {"step_no": step.step_no},
            )
    now = utcnow()
    before = snapshot(operation)
    action = "inbox.edit"
    changed = []
    for step, plan in zip(steps, planned, strict=True):
        if step.state in WAITING_STEP_STATES and (step.tuid, step.action, step.value) != (
            plan.tuid,
            plan.action,
            plan.value,
        ):
            changed.append(step.step_no)
            step.tuid, step.action, step.value = plan.tuid, plan.action, plan.value
            # A different write: an earlier uncertain outcome says nothing about this one.
            step.outcome_uncertain = False
    operation.args = new_args
    reordered = _requeue(operation, now)
    rederive(operation, now)
    event = _audit(
        user, action, operation, before, reason, reordered=reordered, changed_steps=changed
    )
    return _commit(operation, event)


def discard(op_id: str, reason: str, user: User) -> Decision:
    """Give up on the operation with a reason; its unfinished steps are cancelled, not deleted."""
    reason = (reason or "").strip()
    if not reason:
        raise Unprocessable("Say why the operation is discarded.", {"field": "reason"})
    operation = _load(op_id)
    now = utcnow()
    before = snapshot(operation)
    cancel_operation(operation, now, f"Discarded by {user.display_name or user.username}: {reason}")
    event = _audit(user, "inbox.discard", operation, before, reason)
    return _commit(operation, event)


def cancel_operation(operation: Operation, now: datetime, message: str) -> None:
    """Mark the operation discarded and cancel its steps that have not been sent."""
    for step in operation.steps:
        if step.state in WAITING_STEP_STATES:
            step.state = STEP_CANCELLED
            step.completed_at = now
    operation.state = DISCARDED
    operation.error_code = "discarded"
    operation.error_message = message
    operation.updated_at = now
