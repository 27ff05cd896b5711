"""Read-back reconciliation, database side: settle what a read-back found (app.sync.checks owes
and leases them, app.sync.readback reads the platform):
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

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from app.models.audit import AuditEvent
from app.models.device_checks import STAGE_AFTER_BOUND, STAGE_AFTER_STEPS, DeviceCheck
from app.models.operations import (
    CONFLICT,
    DISCARDED,
    DRIFT_REPAIRED,
    STEP_DONE,
    STEP_PENDING,
    SYNCED,
    SYNCING,
    UNFINISHED_STEP_STATES,
    Operation,
    OutboxStep,
)
from app.sync.backoff import Backoff
from app.sync.readback import STATUS, CheckOutcome, ClaimedCheck, Drift

DRIFT_HELD = "drift"  # error_code of an operation held as a conflict because of drift
_CHECKS = DeviceCheck.__table__
_OPERATIONS = Operation.__table__


class CheckRecorder:
    """Settle read-back outcomes in the caller's transaction."""

    def __init__(
        self,
        *,
        inflight_bound: float,
        backoff: Backoff,
        on_synced: Callable[[Session, Sequence[int]], object] | None = None,
    ) -> None:
        self.inflight_bound = inflight_bound
        # Told which operations became `synced` (install verification starts watching there).
        self.on_synced = on_synced
        self.backoff = backoff

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
        synced = mark_synced(session, sorted(confirmed), now)
        if synced and self.on_synced is not None:
            self.on_synced(session, synced)

    def _retry_values(self, outcome: CheckOutcome, now: datetime) -> dict[str, object]:
        delay = self.backoff.delay(outcome.check.attempt_no, outcome.retry_after)
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


_DELETE_LEASED = (
    _CHECKS.delete()
    .where(
        _CHECKS.c.tuid.in_(bindparam("tuids", expanding=True)),
        _CHECKS.c.lease_owner.in_(bindparam("tokens", expanding=True)),
    )
    .returning(_CHECKS.c.tuid)
)


def _delete_leased(session: Session, outcomes: list[CheckOutcome]) -> set[str]:
    """Delete the rows still leased by these outcomes; return their TUIDs."""
    if not outcomes:
        return set()
    tokens = sorted({o.check.lease_token for o in outcomes})
    tuids = sorted(o.check.tuid for o in outcomes)
    return set(session.scalars(_DELETE_LEASED, {"tuids": tuids, "tokens": tokens}))


def _devices_with_new_work(session: Session, outcomes: list[CheckOutcome]) -> set[str]:
    """Devices that got a new step (unfinished, or done after the read began) since the claim."""
    busy: set[str] = set()
    for outcome in outcomes:
        check = outcome.check
        claimed_at = datetime.fromtimestamp(check.claimed_at, UTC)
        newer = exists().where(
            OutboxStep.tuid == check.tuid,
            or_(
                OutboxStep.state.in_(UNFINISHED_STEP_STATES),
                and_(OutboxStep.state == STEP_DONE, OutboxStep.completed_at >= claimed_at),
            ),
        )
        if session.scalar(select(newer)):
            busy.add(check.tuid)
    return busy


_OTHER_STEP = aliased(OutboxStep, name="other_step")
_OWED_STEP = aliased(OutboxStep, name="owed_step")
# Found from the devices' done steps, then updated by primary key: filtering operations on
# state = 'syncing' lets PostgreSQL walk every syncing operation instead.
_READY_TO_SYNC = (
    select(OutboxStep.operation_id)
    .join(Operation, Operation.id == OutboxStep.operation_id)
    .where(
        OutboxStep.tuid.in_(bindparam("tuids", expanding=True)),
        OutboxStep.state == STEP_DONE,
        Operation.state == SYNCING,
        ~exists().where(
            _OTHER_STEP.operation_id == OutboxStep.operation_id, _OTHER_STEP.state != STEP_DONE
        ),
        ~exists().where(
            _OWED_STEP.operation_id == OutboxStep.operation_id,
            _OWED_STEP.tuid == DeviceCheck.tuid,
        ),
    )
)
_KEEP_DRIFT = _OPERATIONS.c.error_code == DRIFT_REPAIRED
_NOW = bindparam("now", type_=_OPERATIONS.c.synced_at.type)
_MARK_SYNCED = (
    _OPERATIONS.update()
    .where(_OPERATIONS.c.id.in_(bindparam("ids", expanding=True)), _OPERATIONS.c.state == SYNCING)
    .values(
        state=SYNCED,
        synced_at=_NOW,
        updated_at=_NOW,
        error_code=case((_KEEP_DRIFT, _OPERATIONS.c.error_code), else_=None),
        error_message=case((_KEEP_DRIFT, _OPERATIONS.c.error_message), else_=None),
    )
)


def mark_synced(session: Session, tuids: list[str], now: datetime) -> list[int]:
    """Mark `synced` the operations on these devices that have nothing left to do or confirm.

    Return their ids.
    """
    if not tuids:
        return []
    ready = sorted(set(session.scalars(_READY_TO_SYNC, {"tuids": tuids})))
    if ready:
        session.execute(_MARK_SYNCED, {"ids": ready, "now": now})
    return ready


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
