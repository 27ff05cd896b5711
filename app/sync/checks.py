"""Read-backs owed per device (`device_checks`): owe them, lease them, end outage waits.

When one of a device's steps is done the device is owed a read-back. It is leased once the
device has no unfinished step, read by a worker thread (app.sync.readback) and settled by
app.sync.reconcile. Statements are built once, as the claims in app.sync.outbox are: they run
for every few platform calls, and building them costs more than running them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import BindParameter

from app.database import insert_on_conflict
from app.models.device_checks import STAGE_AFTER_STEPS, DeviceCheck
from app.models.operations import STEP_DONE, STEP_PENDING, UNFINISHED_STEP_STATES, OutboxStep
from app.sync.outbox import new_lease
from app.sync.readback import ClaimedCheck, Expected
from app.sync.retry import RETRY_UNAVAILABLE

_CHECKS = DeviceCheck.__table__
_STEPS = OutboxStep.__table__
# A device with an unfinished step is read back after it: its row steps aside this long, and
# comes back sooner when that step is done or fails (schedule_checks), which is the usual case.
BLOCKED_RECHECK_S = 60.0


@dataclass
class CheckWanted:
    """What a device's newly done steps wrote, so what its read-back must look at."""

    status: bool = False
    group: bool = False
    late_write_possible: bool = False


@lru_cache(maxsize=4)
def _owe_statement(dialect: str) -> Insert:
    statement = insert_on_conflict(_CHECKS, dialect)
    return statement.on_conflict_do_update(
        index_elements=["tuid"],
        set_={
            "due_at": statement.excluded.due_at,
            "stage": STAGE_AFTER_STEPS,
            "check_status": or_(_CHECKS.c.check_status, statement.excluded.check_status),
            "check_group": or_(_CHECKS.c.check_group, statement.excluded.check_group),
            "late_write_possible": or_(
                _CHECKS.c.late_write_possible, statement.excluded.late_write_possible
            ),
            "lease_owner": None,
            "lease_until": None,
            "attempts": 0,
            "retry_kind": None,
            "last_error": None,
        },
    )


def schedule_checks(session: Session, wanted: Mapping[str, CheckWanted], now: datetime) -> None:
    """Owe these devices a read-back after their last pending step (one upsert, TUID order).

    A read-back in flight for the device is superseded: its lease is cleared, so its answer,
    read before this step's write, is ignored.
    """
    if not wanted:
        return
    connection = session.connection()
    connection.execute(
        _owe_statement(connection.dialect.name),
        [
            {
                "tuid": tuid,
                "due_at": now,
                "stage": STAGE_AFTER_STEPS,
                "check_status": wanted[tuid].status,
                "check_group": wanted[tuid].group,
                "late_write_possible": wanted[tuid].late_write_possible,
                "attempts": 0,
            }
            for tuid in sorted(wanted)
        ],
    )


_NOW = bindparam("now", type_=_CHECKS.c.due_at.type)
_TUIDS: BindParameter[Any] = bindparam("tuids", expanding=True)
_DUE = and_(
    _CHECKS.c.due_at <= _NOW,
    or_(_CHECKS.c.lease_owner.is_(None), _CHECKS.c.lease_until < _NOW),
)
_STEP_ASIDE = (
    _CHECKS.update()
    .where(_CHECKS.c.tuid.in_(_TUIDS))
    .values(due_at=bindparam("due_at", type_=_CHECKS.c.due_at.type))
)
_LEASE = (
    _CHECKS.update()
    .where(_CHECKS.c.tuid.in_(_TUIDS), _DUE)
    .values(
        lease_owner=bindparam("token"),
        lease_until=bindparam("lease_until", type_=_CHECKS.c.lease_until.type),
        attempts=_CHECKS.c.attempts + 1,
    )
)
_LEASED = select(
    _CHECKS.c.tuid,
    _CHECKS.c.stage,
    _CHECKS.c.attempts,
    _CHECKS.c.check_status,
    _CHECKS.c.check_group,
    _CHECKS.c.late_write_possible,
).where(_CHECKS.c.lease_owner == bindparam("token"))
_UNFINISHED = (
    select(_STEPS.c.tuid)
    .where(_STEPS.c.tuid.in_(_TUIDS), _STEPS.c.state.in_(UNFINISHED_STEP_STATES))
    .distinct()
)
_EXPECTATIONS = select(
    _STEPS.c.id,
    _STEPS.c.operation_id,
    _STEPS.c.tuid,
    _STEPS.c.action,
    _STEPS.c.value,
    _STEPS.c.result,
    _STEPS.c.order_at,
    _STEPS.c.state,
    _STEPS.c.late_write_possible,
).where(
    _STEPS.c.tuid.in_(_TUIDS),
    or_(_STEPS.c.state == STEP_DONE, _STEPS.c.late_write_possible),
)


@lru_cache(maxsize=256)
def _due_query(postgresql: bool, limit: int) -> Select[Any]:
    query = select(_CHECKS.c.tuid).where(_DUE).order_by(_CHECKS.c.due_at).limit(limit)
    return query.with_for_update(skip_locked=True) if postgresql else query


def claim_checks(
    session: Session,
    worker: str,
    limit: int,
    now: datetime,
    lease_seconds: float,
    *,
    commit: bool = True,
) -> list[ClaimedCheck]:
    """Lease up to `limit` due read-backs of devices that have no unfinished step."""
    if limit <= 0:
        return []
    postgresql = session.get_bind().dialect.name == "postgresql"
    due = list(session.scalars(_due_query(postgresql, limit), {"now": now}))
    blocked = set(session.scalars(_UNFINISHED, {"tuids": due})) if due else set()
    if blocked:
        # Not filtered in the query: a device waiting behind a backlog of its own steps would be
        # tested again by every claim. Moved out of the way, it costs one update.
        session.execute(
            _STEP_ASIDE,
            {"tuids": sorted(blocked), "due_at": now + timedelta(seconds=BLOCKED_RECHECK_S)},
        )
    tuids = sorted(set(due) - blocked)
    if not tuids:
        if commit:
            session.commit()
        return []
    token, lease_until = new_lease(worker, now, lease_seconds)
    session.execute(
        _LEASE, {"tuids": tuids, "now": now, "token": token, "lease_until": lease_until}
    )
    leased = list(session.execute(_LEASED, {"token": token}))
    history: dict[str, list[Any]] = {}
    if leased:
        for row in session.execute(_EXPECTATIONS, {"tuids": [r.tuid for r in leased]}):
            history.setdefault(row.tuid, []).append(row)
    claimed = [
        _claimed(row, token, now, history.get(row.tuid, []))
        for row in sorted(leased, key=lambda r: r.tuid)
    ]
    if commit:
        session.commit()
    return claimed


def _claimed(check: Any, token: str, now: datetime, steps: list[Any]) -> ClaimedCheck:
    """What to read and expect: the latest done write of each value, our late writes' values."""
    latest: dict[str, Any] = {}
    late: dict[str, set[str]] = {"status": set(), "group": set()}
    for step in sorted(steps, key=lambda s: (s.order_at, s.id)):
        attribute = "status" if step.action == "set_status" else "group"
        if step.state == STEP_DONE:
            latest[attribute] = step
        if step.late_write_possible:
            # A copy_group step's value names the device it copies from; it wrote its result.
            written = step.result if step.action == "copy_group" else step.value
            if written is not None:
                late[attribute].add(written)

    def expected(attribute: str, wanted: bool) -> Expected | None:
        step = latest.get(attribute)
        if not wanted or step is None:
            return None
        return Expected(step.result, step.id, step.operation_id)

    return ClaimedCheck(
        tuid=check.tuid,
        lease_token=token,
        stage=check.stage,
        attempt_no=check.attempts,
        claimed_at=now.timestamp(),
        late_write_possible=check.late_write_possible,
        status=expected("status", check.check_status),
        group=expected("group", check.check_group),
        late_statuses=frozenset(late["status"]),
        late_groups=frozenset(late["group"]),
    )


_RELEASE_STEPS = (
    _STEPS.update()
    .where(
        _STEPS.c.state == STEP_PENDING,
        _STEPS.c.retry_kind == RETRY_UNAVAILABLE,
        _STEPS.c.available_at > _NOW,
    )
    .values(available_at=_NOW)
)
_RELEASE_CHECKS = (
    _CHECKS.update()
    .where(
        _CHECKS.c.retry_kind == RETRY_UNAVAILABLE,
        _CHECKS.c.lease_owner.is_(None),
        _CHECKS.c.due_at > _NOW,
    )
    .values(due_at=_NOW)
)


def release_outage_waits(session: Session, now: datetime) -> None:
    """Let every step and read-back that waited only for the platform to answer go now.

    Steps whose write may still be in flight keep waiting for the in-flight bound.
    """
    session.execute(_RELEASE_STEPS, {"now": now})
    session.execute(_RELEASE_CHECKS, {"now": now})


def checks_waiting(session: Session) -> bool:
    """Whether any device still owes a read-back (due now or later)."""
    return session.scalar(select(_CHECKS.c.tuid).limit(1)) is not None
