"""The database side of sync: lease claimable steps and derive an operation's state from them.

Claims work on any number of worker processes: on PostgreSQL candidates are locked with
FOR UPDATE SKIP LOCKED; everywhere the lease UPDATE re-checks claimability and stamps a unique
token, so two workers can never both hold a step. A step is claimable only when no earlier
unfinished step exists for the same device (per-device order) or the same operation (steps of
one action run in sequence). A lease that expires (killed worker) makes the step claimable again
with `outcome_uncertain` set, so the next attempt reads the platform before writing, but only
once the in-flight bound has passed since the lease ended: the dead worker's write, sent before
then, can no longer land (and the device is read back once more after the bound).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    exists,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, aliased

from app.models.operations import (
    ACCEPTED,
    CONFLICT,
    DISCARDED,
    FAILED,
    STEP_DONE,
    STEP_FAILED,
    STEP_LEASED,
    STEP_PENDING,
    SYNCED,
    SYNCING,
    UNFINISHED_STEP_STATES,
    Operation,
    OutboxStep,
)
from app.sync.step_runner import ClaimedStep


def _no_earlier_work():
    """No unfinished step comes before this one on its device or in its operation.

    A copy_group step reads another device (the one being replaced), so it also waits for that
    device's earlier steps: otherwise a replacement could copy the group before the old
    device's own install reached the platform.
    """
    earlier = aliased(OutboxStep, name="earlier")
    earlier_on_source = aliased(OutboxStep, name="earlier_on_source")
    before_in_op = aliased(OutboxStep, name="before_in_op")
    earlier_on_device = exists().where(
        earlier.tuid == OutboxStep.tuid,
        earlier.id != OutboxStep.id,
        earlier.state.in_(UNFINISHED_STEP_STATES),
        or_(
            earlier.order_at < OutboxStep.order_at,
            and_(earlier.order_at == OutboxStep.order_at, earlier.id < OutboxStep.id),
        ),
    )
    earlier_in_operation = exists().where(
        before_in_op.operation_id == OutboxStep.operation_id,
        before_in_op.step_no < OutboxStep.step_no,
        before_in_op.state != STEP_DONE,
    )
    source_not_ready = exists().where(
        earlier_on_source.tuid == OutboxStep.value,
        earlier_on_source.operation_id != OutboxStep.operation_id,
        earlier_on_source.state.in_(UNFINISHED_STEP_STATES),
        earlier_on_source.order_at <= OutboxStep.order_at,
    )
    copy_source_ready = or_(OutboxStep.action != "copy_group", ~source_not_ready)
    return and_(~earlier_on_device, ~earlier_in_operation, copy_source_ready)


# Statements are built once: constructing these aliased EXISTS clauses costs more than running
# them, and the claim runs many times a second. Values come in as bound parameters.
_NOW = bindparam("now", type_=OutboxStep.__table__.c.available_at.type)
# Leases that ended before this (now - in-flight bound) are claimable again.
_ENDED_BEFORE = bindparam("ended_before", type_=OutboxStep.__table__.c.lease_until.type)
_NO_EARLIER_WORK = _no_earlier_work()
_READY = or_(
    and_(OutboxStep.state == STEP_PENDING, OutboxStep.available_at <= _NOW),
    and_(OutboxStep.state == STEP_LEASED, OutboxStep.lease_until < _ENDED_BEFORE),
)
_PENDING_CANDIDATES = (
    select(OutboxStep.id)
    .where(OutboxStep.state == STEP_PENDING, OutboxStep.available_at <= _NOW)
    .where(_NO_EARLIER_WORK)
    .order_by(OutboxStep.state, OutboxStep.order_at, OutboxStep.id)
)
_EXPIRED_CANDIDATES = (
    select(OutboxStep.id)
    .where(OutboxStep.state == STEP_LEASED, OutboxStep.lease_until < _ENDED_BEFORE)
    .where(_NO_EARLIER_WORK)
    .order_by(OutboxStep.order_at, OutboxStep.id)
)
_LEASE = (
    update(OutboxStep)
    .where(OutboxStep.id.in_(bindparam("ids", expanding=True)), _READY, _NO_EARLIER_WORK)
    .values(
        # An expired lease means a worker died mid-call: the write may have happened.
        outcome_uncertain=or_(OutboxStep.outcome_uncertain, OutboxStep.state == STEP_LEASED),
        late_write_possible=or_(OutboxStep.late_write_possible, OutboxStep.state == STEP_LEASED),
        state=STEP_LEASED,
        lease_owner=bindparam("token"),
        lease_until=bindparam("lease_until", type_=OutboxStep.__table__.c.lease_until.type),
        attempts=OutboxStep.attempts + 1,
    )
    .execution_options(synchronize_session=False)
)
_LATER_STEP = aliased(OutboxStep, name="later_step")
_LEASED_BY_TOKEN = (
    select(
        OutboxStep.id,
        OutboxStep.operation_id,
        OutboxStep.tuid,
        OutboxStep.action,
        OutboxStep.value,
        OutboxStep.attempts,
        OutboxStep.outcome_uncertain,
        OutboxStep.late_write_possible,
        OutboxStep.step_no,
        ~exists()
        .where(
            _LATER_STEP.operation_id == OutboxStep.operation_id,
            _LATER_STEP.step_no > OutboxStep.step_no,
        )
        .label("last_step"),
    )
    .where(OutboxStep.lease_owner == bindparam("token"), OutboxStep.state == STEP_LEASED)
    .order_by(OutboxStep.order_at, OutboxStep.id)
)


_OPERATIONS = Operation.__table__
_STARTING = _OPERATIONS.c.state == ACCEPTED
# Only the primary key in WHERE, the state test in SET: given "state = 'accepted'" to filter
# on, PostgreSQL may walk every accepted operation in the state index.
_START_OPERATIONS = (
    _OPERATIONS.update()
    .where(_OPERATIONS.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        state=case((_STARTING, SYNCING), else_=_OPERATIONS.c.state),
        updated_at=case(
            (_STARTING, bindparam("now", type_=_OPERATIONS.c.updated_at.type)),
            else_=_OPERATIONS.c.updated_at,
        ),
    )
)


@lru_cache(maxsize=256)
def _candidate_queries(postgresql: bool, limit: int) -> tuple[Select[Any], Select[Any]]:
    queries = (_EXPIRED_CANDIDATES.limit(limit), _PENDING_CANDIDATES.limit(limit))
    if postgresql:
        return tuple(q.with_for_update(skip_locked=True, of=OutboxStep) for q in queries)  # type: ignore[return-value]
    return queries


# PostgreSQL plans from statistics taken when few steps were pending (the usual state), so after
# a burst (a bulk job, phones back online) it thinks "pending" matches a handful of rows: it
# then tests every pending step and sorts them, and looks up the ids to lease through the
# state index: each claim costs time in proportion to the backlog (60 ms at 7,000 pending
# steps instead of 0.3 ms).
# With 200,000 pending steps (bench/scale.py) it also materialised the pending steps and
# compared each candidate with all of them: 1.2 s a claim instead of 26 ms.
# For the claim's transaction only, walk the indexes in order, look ids up by primary key and
# never materialise.
_INDEX_ORDER_PLANS = text(
    "SELECT set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true),"
    " set_config('enable_material', 'off', true)"
)


def _candidates(session: Session, times: dict[str, datetime], limit: int) -> list[int]:
    # Two narrow queries rather than one OR: each walks an index in order and stops early.
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        session.execute(_INDEX_ORDER_PLANS)
    expired, _ = _candidate_queries(postgresql, limit)
    ids = list(session.scalars(expired, times))
    if len(ids) < limit:
        _, pending = _candidate_queries(postgresql, limit - len(ids))
        ids += session.scalars(pending, times)
    return ids


def new_lease(worker: str, now: datetime, lease_seconds: float) -> tuple[str, datetime]:
    """Return a lease token unique to this claim, and when the lease ends."""
    return f"{worker[:40]}:{uuid.uuid4().hex[:12]}", now + timedelta(seconds=lease_seconds)


def claim_steps(
    session: Session,
    worker: str,
    limit: int,
    now: datetime,
    lease_seconds: float,
    *,
    inflight_bound: float = 0.0,
    commit: bool = True,
) -> list[ClaimedStep]:
    """Lease up to `limit` claimable steps for this worker and return them."""
    if limit <= 0:
        return []
    times = {"now": now, "ended_before": now - timedelta(seconds=inflight_bound)}
    ids = _candidates(session, times, limit)
    if not ids:
        if commit:
            session.rollback()
        return []
    token, lease_until = new_lease(worker, now, lease_seconds)
    session.execute(_LEASE, {"ids": ids, **times, "token": token, "lease_until": lease_until})
    claimed = list(session.execute(_LEASED_BY_TOKEN, {"token": token}))
    if claimed:
        ids = sorted({row.operation_id for row in claimed})
        session.execute(_START_OPERATIONS, {"ids": ids, "now": now})
    if commit:
        session.commit()
    return [
        ClaimedStep(
            id=row.id,
            operation_id=row.operation_id,
            tuid=row.tuid,
            action=row.action,
            value=row.value,
            attempt_no=row.attempts,
            verify_first=bool(row.outcome_uncertain),
            lease_token=token,
            step_no=row.step_no,
            last_step=bool(row.last_step),
            late_write_possible=bool(row.late_write_possible),
            lease_until=lease_until.timestamp(),
        )
        for row in claimed
    ]


def _derived_state(rows: list[Any], now: datetime) -> dict[str, object]:
    failed = next((r for r in rows if r.state == STEP_FAILED), None)
    if all(r.state == STEP_DONE for r in rows):
        return {"state": SYNCED, "synced_at": now, "error_code": None, "error_message": None}
    if failed is not None:
        return {
            "state": FAILED,
            "error_code": "platform_rejected",
            "error_message": failed.last_error,
        }
    retrying = next((r for r in rows if r.state == STEP_PENDING and r.last_error), None)
    return {
        "state": SYNCING,
        "error_code": "retrying" if retrying else None,
        "error_message": retrying.last_error if retrying else None,
    }


def derive_operation_state(operation: Operation, now: datetime) -> None:
    """Set an already loaded operation's state from its steps (for services holding ORM rows)."""
    if operation.state in (CONFLICT, DISCARDED):
        return
    for key, value in _derived_state(list(operation.steps), now).items():
        setattr(operation, key, value)
    operation.updated_at = now
