"""Read-back reconciliation, database side: owe, lease and settle device read-backs.

When one of a device's steps is done the device is owed a read-back (a `device_checks` row).
It is leased once the device has no unfinished step, read by a worker thread
(app.sync.readback), and settled here:
- the platform holds our last action: the row goes, or, when one of our writes to the device may
  still land (it timed out, its worker died), it waits one in-flight bound and is read again;
  operations whose devices owe nothing any more become `synced`;
- a difference our own late write explains (the platform shows a value one of our uncertain
  writes carried): the technician's last action is applied again, as a new step of the operation
  that made it, and the device is read back again after that;
- any other difference is held for the supervisor: the operation goes to `conflict` with both
  values, and the inbox's "apply anyway" re-applies it, "discard" accepts the platform's value.
Repaired and held drifts leave an audit event with the evidence (the device timeline shows it).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from app.models.audit import AuditEvent
from app.models.device_checks import STAGE_AFTER_BOUND, STAGE_AFTER_STEPS, DeviceCheck
from app.models.operations import (
    CONFLICT,
    DISCARDED,
    STEP_DONE,
    STEP_LEASED,
    STEP_PENDING,
    SYNCED,
    SYNCING,
    Operation,
    OutboxStep,
)
from app.sync.backoff import retry_delay
from app.sync.readback import STATUS, CheckOutcome, ClaimedCheck, Drift, Expected
from app.sync.step_runner import RETRY_UNAVAILABLE

DRIFT_REPAIRED = "drift_repaired"  # error_code of an operation whose drift was re-applied
DRIFT_HELD = "drift"  # error_code of an operation held as a conflict because of drift
_CHECKS = DeviceCheck.__table__


@dataclass
class CheckWanted:
    """What a device's newly done steps wrote, so what its read-back must look at."""

    status: bool = False
    group: bool = False
    late_write_possible: bool = False


def schedule_checks(session: Session, wanted: Mapping[str, CheckWanted], now: datetime) -> None:
    """Owe these devices a read-back after their last pending step (one upsert, TUID order).

    A read-back in flight for the device is superseded: its lease is cleared, so its answer,
    read before this step's write, is ignored.
    """
    if not wanted:
        return
    connection = session.connection()
    insert_ = sqlite_insert if connection.dialect.name == "sqlite" else pg_insert
    statement = insert_(_CHECKS)
    upsert = statement.on_conflict_do_update(
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
    connection.execute(
        upsert,
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


_CHECK_NOW = bindparam("now", type_=_CHECKS.c.due_at.type)
_DUE = and_(
    DeviceCheck.due_at <= _CHECK_NOW,
    or_(DeviceCheck.lease_owner.is_(None), DeviceCheck.lease_until < _CHECK_NOW),
)
_CHECK_CANDIDATES = select(DeviceCheck.tuid).where(_DUE).order_by(DeviceCheck.due_at)
# A device with an unfinished step is read back after it: its row steps aside this long, and
# comes back sooner when that step is done or fails (schedule_checks), which is the usual case.
BLOCKED_RECHECK_S = 60.0
_EXPECTATIONS = select(
    OutboxStep.id,
    OutboxStep.operation_id,
    OutboxStep.tuid,
    OutboxStep.action,
    OutboxStep.value,
    OutboxStep.result,
    OutboxStep.order_at,
    OutboxStep.state,
    OutboxStep.late_write_possible,
).where(
    OutboxStep.tuid.in_(bindparam("tuids", expanding=True)),
    or_(OutboxStep.state == STEP_DONE, OutboxStep.late_write_possible),
)


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
    candidates = _CHECK_CANDIDATES.limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    due = list(session.scalars(candidates, {"now": now}))
    blocked = _with_unfinished_steps(session, due)
    if blocked:
        # Not filtered in the query: a device waiting behind a backlog of its own steps would be
        # tested again by every claim. Moved out of the way, it costs one update.
        session.execute(
            update(DeviceCheck)
            .where(DeviceCheck.tuid.in_(sorted(blocked)))
            .values(due_at=now + timedelta(seconds=BLOCKED_RECHECK_S))
            .execution_options(synchronize_session=False)
        )
    tuids = sorted(set(due) - blocked)
    if not tuids:
        if commit:
            session.commit()
        return []
    token = f"{worker[:40]}:{uuid.uuid4().hex[:12]}"
    lease_until = now + timedelta(seconds=lease_seconds)
    session.execute(
        update(DeviceCheck)
        .where(DeviceCheck.tuid.in_(tuids), _DUE)
        .values(lease_owner=token, lease_until=lease_until, attempts=DeviceCheck.attempts + 1)
        .execution_options(synchronize_session=False),
        {"now": now},
    )
    leased = list(session.scalars(select(DeviceCheck).where(DeviceCheck.lease_owner == token)))
    history = _expectations(session, [c.tuid for c in leased])
    claimed = [
        _claimed(check, token, now, history.get(check.tuid, []))
        for check in sorted(leased, key=_by_tuid)
    ]
    if commit:
        session.commit()
    return claimed


def _with_unfinished_steps(session: Session, tuids: list[str]) -> set[str]:
    if not tuids:
        return set()
    return set(
        session.scalars(
            select(OutboxStep.tuid)
            .where(OutboxStep.tuid.in_(tuids), OutboxStep.state.in_((STEP_PENDING, STEP_LEASED)))
            .distinct()
        )
    )


def _by_tuid(check: DeviceCheck) -> str:
    return check.tuid


def _expectations(session: Session, tuids: list[str]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    if tuids:
        for row in session.execute(_EXPECTATIONS, {"tuids": tuids}):
            found.setdefault(row.tuid, []).append(row)
    return found


def _claimed(check: DeviceCheck, token: str, now: datetime, steps: list[Any]) -> ClaimedCheck:
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


class CheckRecorder:
    """Settle read-back outcomes in the caller's transaction."""

    def __init__(
        self,
        *,
        inflight_bound: float,
        backoff_base: float,
        backoff_cap: float,
        rng: random.Random | None = None,
    ) -> None:
        self.inflight_bound = inflight_bound
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.rng = rng or random.Random()

    def record(self, session: Session, outcomes: Iterable[CheckOutcome], now: datetime) -> None:
        """Persist these read-back outcomes (the caller commits)."""
        outcomes = sorted(outcomes, key=lambda o: o.check.tuid)
        retries = [o for o in outcomes if o.kind == "retry"]
        if retries:
            session.connection().execute(
                _RETRY_CHECK, [self._retry_values(o, now) for o in retries]
            )
        second_look = [
            o
            for o in outcomes
            if o.kind == "confirmed"
            and o.check.stage == STAGE_AFTER_STEPS
            and o.check.late_write_possible
        ]
        if second_look:
            session.connection().execute(
                _AFTER_BOUND,
                [
                    {
                        "b_tuid": o.check.tuid,
                        "b_token": o.check.lease_token,
                        "b_due_at": now + timedelta(seconds=self.inflight_bound),
                    }
                    for o in second_look
                ],
            )
        drifted = [o for o in outcomes if o.kind == "drift"]
        busy = _devices_with_new_work(session, drifted)
        if busy:
            # Something new reached the device while we read it: judge again once it is idle.
            session.connection().execute(
                _RETRY_CHECK,
                [
                    {**self._retry_values(o, now), "b_due_at": now, "b_retry_kind": None}
                    for o in drifted
                    if o.check.tuid in busy
                ],
            )
        settled = [
            o
            for o in outcomes
            if (o.kind == "confirmed" and o not in second_look)
            or (o.kind == "drift" and o.check.tuid not in busy)
        ]
        confirmed = _delete_leased(session, settled)
        for outcome in drifted:
            if outcome.check.tuid in confirmed:
                for drift in outcome.drifts:
                    _settle_drift(session, outcome.check, drift, now)
        mark_synced(session, sorted(confirmed), now)

    def _retry_values(self, outcome: CheckOutcome, now: datetime) -> dict[str, object]:
        delay = retry_delay(
            outcome.check.attempt_no,
            base=self.backoff_base,
            cap=self.backoff_cap,
            retry_after=outcome.retry_after,
            rng=self.rng,
        )
        return {
            "b_tuid": outcome.check.tuid,
            "b_token": outcome.check.lease_token,
            "b_due_at": now + timedelta(seconds=delay),
            "b_retry_kind": outcome.retry_kind,
            "b_last_error": outcome.message,
        }


_LEASED_BY = and_(
    _CHECKS.c.tuid == bindparam("b_tuid"), _CHECKS.c.lease_owner == bindparam("b_token")
)
_RETRY_CHECK = (
    _CHECKS.update()
    .where(_LEASED_BY)
    .values(
        due_at=bindparam("b_due_at"),
        retry_kind=bindparam("b_retry_kind"),
        last_error=bindparam("b_last_error"),
        lease_owner=None,
        lease_until=None,
    )
)
_AFTER_BOUND = (
    _CHECKS.update()
    .where(_LEASED_BY)
    .values(
        stage=STAGE_AFTER_BOUND,
        due_at=bindparam("b_due_at"),
        attempts=0,
        retry_kind=None,
        last_error=None,
        lease_owner=None,
        lease_until=None,
    )
)


def _delete_leased(session: Session, outcomes: list[CheckOutcome]) -> set[str]:
    """Delete the rows still leased by these outcomes; return their TUIDs."""
    if not outcomes:
        return set()
    tokens = {o.check.lease_token for o in outcomes}
    result = session.execute(
        delete(DeviceCheck)
        .where(
            DeviceCheck.tuid.in_(sorted(o.check.tuid for o in outcomes)),
            DeviceCheck.lease_owner.in_(tokens),
        )
        .returning(DeviceCheck.tuid)
        .execution_options(synchronize_session=False)
    )
    return set(result.scalars())


def _devices_with_new_work(session: Session, outcomes: list[CheckOutcome]) -> set[str]:
    """Devices that got a new step (unfinished, or done after the read began) since the claim."""
    busy: set[str] = set()
    for outcome in outcomes:
        check = outcome.check
        claimed_at = datetime.fromtimestamp(check.claimed_at, UTC)
        newer = exists().where(
            OutboxStep.tuid == check.tuid,
            or_(
                OutboxStep.state.in_((STEP_PENDING, STEP_LEASED)),
                and_(OutboxStep.state == STEP_DONE, OutboxStep.completed_at >= claimed_at),
            ),
        )
        if session.scalar(select(newer)):
            busy.add(check.tuid)
    return busy


def mark_synced(session: Session, tuids: list[str], now: datetime) -> None:
    """Mark `synced` the operations on these devices that have nothing left to do or confirm."""
    if not tuids:
        return
    other_step = aliased(OutboxStep, name="other_step")
    owed_step = aliased(OutboxStep, name="owed_step")
    unfinished = exists().where(
        other_step.operation_id == OutboxStep.operation_id, other_step.state != STEP_DONE
    )
    still_owed = exists().where(
        owed_step.operation_id == OutboxStep.operation_id, owed_step.tuid == DeviceCheck.tuid
    )
    # Found from the devices' done steps, then updated by primary key: filtering operations
    # on state = 'syncing' lets PostgreSQL walk every syncing operation instead.
    ready = set(
        session.scalars(
            select(OutboxStep.operation_id)
            .join(Operation, Operation.id == OutboxStep.operation_id)
            .where(
                OutboxStep.tuid.in_(tuids),
                OutboxStep.state == STEP_DONE,
                Operation.state == SYNCING,
                ~unfinished,
                ~still_owed,
            )
        )
    )
    if not ready:
        return
    keep = Operation.error_code == DRIFT_REPAIRED
    session.execute(
        update(Operation)
        .where(Operation.id.in_(sorted(ready)), Operation.state == SYNCING)
        .values(
            state=SYNCED,
            synced_at=now,
            updated_at=now,
            error_code=case((keep, Operation.error_code), else_=None),
            error_message=case((keep, Operation.error_message), else_=None),
        )
        .execution_options(synchronize_session=False)
    )


def _settle_drift(session: Session, check: ClaimedCheck, drift: Drift, now: datetime) -> None:
    """Re-apply our last action where our own late write explains the drift, else hold it."""
    expected = drift.expected
    what = "status" if drift.attribute == STATUS else "deployment group"
    found = "nothing (the device is gone)" if drift.found is None else f"'{drift.found}'"
    evidence = {
        "attribute": drift.attribute,
        "expected": expected.value,
        "found": drift.found,
        "responsible": drift.responsible,
        "platform_timestamp": drift.platform_timestamp,
        "read_back": "after the in-flight bound" if check.stage == STAGE_AFTER_BOUND else "first",
        "step_id": expected.step_id,
    }
    if drift.explained:
        message = (
            f"Read-back found {what} {found} where the last action set '{expected.value}': "
            "one of our own earlier writes landed late. The last action was applied again."
        )
        _repair(session, check, drift, now)
        state, code, action = SYNCING, DRIFT_REPAIRED, "sync.drift_repaired"
    else:
        by = f" (recorded by '{drift.responsible}')" if drift.responsible else ""
        message = (
            f"The platform shows {what} {found}{by} but the last action set '{expected.value}', "
            "and nothing we sent explains it. Held for a supervisor: apply anyway sets "
            f"'{expected.value}' again; discard keeps the platform's value."
        )
        state, code, action = CONFLICT, DRIFT_HELD, "sync.drift_held"
    session.execute(
        update(Operation)
        .where(Operation.id == expected.operation_id, Operation.state.not_in((DISCARDED,)))
        .values(state=state, error_code=code, error_message=message, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        insert(AuditEvent).values(
            at=now,
            user_id=None,
            action=action,
            operation_id=expected.operation_id,
            tuid=check.tuid,
            reason=message,
            details=evidence,
        )
    )


def _repair(session: Session, check: ClaimedCheck, drift: Drift, now: datetime) -> None:
    """Queue the expected value again as the operation's next step, in the original's place."""
    source = session.execute(
        select(OutboxStep.order_at).where(OutboxStep.id == drift.expected.step_id)
    ).one()
    last_no = session.scalar(
        select(func.max(OutboxStep.step_no)).where(
            OutboxStep.operation_id == drift.expected.operation_id
        )
    )
    session.execute(
        insert(OutboxStep).values(
            operation_id=drift.expected.operation_id,
            step_no=(last_no or 0) + 1,
            tuid=check.tuid,
            action="set_status" if drift.attribute == STATUS else "set_group",
            value=drift.expected.value,
            order_at=source.order_at,
            state=STEP_PENDING,
            available_at=now,
            attempts=0,
            outcome_uncertain=False,
            # More of our late writes may follow the one we saw: read back once more after
            # the bound.
            late_write_possible=True,
        )
    )


def release_outage_waits(session: Session, now: datetime) -> None:
    """Let every step and read-back that waited only for the platform to answer go now."""
    session.execute(
        update(OutboxStep)
        .where(
            OutboxStep.state == STEP_PENDING,
            OutboxStep.retry_kind == RETRY_UNAVAILABLE,
            OutboxStep.available_at > now,
        )
        .values(available_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(DeviceCheck)
        .where(
            DeviceCheck.retry_kind == RETRY_UNAVAILABLE,
            DeviceCheck.lease_owner.is_(None),
            DeviceCheck.due_at > now,
        )
        .values(due_at=now)
        .execution_options(synchronize_session=False)
    )


def checks_waiting(session: Session) -> bool:
    """Whether any device still owes a read-back (due now or later)."""
    return session.scalar(select(DeviceCheck.tuid).limit(1)) is not None
