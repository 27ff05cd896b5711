"""The database side of sync: lease claimable steps, record outcomes, derive operation states.

Claims work on any number of worker processes: on PostgreSQL candidates are locked with
FOR UPDATE SKIP LOCKED; everywhere the lease UPDATE re-checks claimability and stamps a unique
token, so two workers can never both hold a step. A step is claimable only when no earlier
unfinished step exists for the same device (per-device order) or the same operation (steps of
one action run in sequence). A lease that expires (killed worker) makes the step claimable again
with `outcome_uncertain` set, so the next attempt reads the platform before writing.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from app.labels.device_types import device_type_for
from app.models.devices import Device
from app.models.operations import (
    ACCEPTED,
    CONFLICT,
    DISCARDED,
    FAILED,
    STEP_BLOCKED,
    STEP_DONE,
    STEP_FAILED,
    STEP_LEASED,
    STEP_PENDING,
    SYNCED,
    SYNCING,
    Operation,
    OutboxStep,
    SyncAttempt,
)
from app.sync.backoff import retry_delay
from app.sync.step_runner import ClaimedStep, StepOutcome


def _claimable(step: type[OutboxStep], now: datetime):  # type: ignore[no-untyped-def]
    earlier = aliased(OutboxStep)
    before_in_op = aliased(OutboxStep)
    ready = or_(
        and_(step.state == STEP_PENDING, step.available_at <= now),
        and_(step.state == STEP_LEASED, step.lease_until < now),
    )
    earlier_on_device = exists().where(
        earlier.tuid == step.tuid,
        earlier.id != step.id,
        earlier.state.in_((STEP_PENDING, STEP_LEASED)),
        or_(
            earlier.order_at < step.order_at,
            and_(earlier.order_at == step.order_at, earlier.id < step.id),
        ),
    )
    earlier_in_operation = exists().where(
        before_in_op.operation_id == step.operation_id,
        before_in_op.step_no < step.step_no,
        before_in_op.state != STEP_DONE,
    )
    return and_(ready, ~earlier_on_device, ~earlier_in_operation)


def claim_steps(
    session: Session, worker: str, limit: int, now: datetime, lease_seconds: float
) -> list[ClaimedStep]:
    """Lease up to `limit` claimable steps for this worker and return them."""
    if limit <= 0:
        return []
    query = (
        select(OutboxStep.id)
        .where(_claimable(OutboxStep, now))
        .order_by(OutboxStep.order_at, OutboxStep.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=OutboxStep)
    ids = list(session.scalars(query))
    if not ids:
        session.rollback()
        return []
    token = f"{worker[:40]}:{uuid.uuid4().hex[:12]}"
    session.execute(
        update(OutboxStep)
        .where(OutboxStep.id.in_(ids), _claimable(OutboxStep, now))
        .values(
            # An expired lease means a worker died mid-call: the write may have happened.
            outcome_uncertain=or_(OutboxStep.outcome_uncertain, OutboxStep.state == STEP_LEASED),
            state=STEP_LEASED,
            lease_owner=token,
            lease_until=now + timedelta(seconds=lease_seconds),
            attempts=OutboxStep.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    claimed = list(
        session.execute(
            select(
                OutboxStep.id,
                OutboxStep.operation_id,
                OutboxStep.tuid,
                OutboxStep.action,
                OutboxStep.value,
                OutboxStep.attempts,
                OutboxStep.outcome_uncertain,
            )
            .where(OutboxStep.lease_owner == token, OutboxStep.state == STEP_LEASED)
            .order_by(OutboxStep.order_at, OutboxStep.id)
        )
    )
    if claimed:
        session.execute(
            update(Operation)
            .where(Operation.id.in_({row.operation_id for row in claimed}))
            .where(Operation.state == ACCEPTED)
            .values(state=SYNCING, updated_at=now)
            .execution_options(synchronize_session=False)
        )
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
        )
        for row in claimed
    ]


class OutcomeRecorder:
    """Write step outcomes, attempts, operation states and the device cache in one transaction."""

    def __init__(
        self,
        *,
        worker: str,
        backoff_base: float,
        backoff_cap: float,
        max_attempts: int = 0,
        rng: random.Random | None = None,
    ) -> None:
        self.worker = worker
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_attempts = max_attempts
        self.rng = rng or random.Random()

    def record(self, session: Session, outcomes: Iterable[StepOutcome], now: datetime) -> None:
        """Persist these outcomes and commit."""
        outcomes = list(outcomes)
        if not outcomes:
            return
        steps = {
            s.id: s
            for s in session.scalars(
                select(OutboxStep).where(OutboxStep.id.in_([o.step.id for o in outcomes]))
            )
        }
        touched_ops: set[int] = set()
        for outcome in outcomes:
            step = steps.get(outcome.step.id)
            session.add(self._attempt_row(outcome))
            if (
                step is None
                or step.state != STEP_LEASED
                or step.lease_owner != outcome.step.lease_token
            ):
                continue  # our lease expired and another worker took over; it will verify first
            self._apply(step, outcome, now)
            touched_ops.add(step.operation_id)
        for operation in session.scalars(select(Operation).where(Operation.id.in_(touched_ops))):
            derive_operation_state(operation, now)
        session.commit()

    def _attempt_row(self, outcome: StepOutcome) -> SyncAttempt:
        return SyncAttempt(
            step_id=outcome.step.id,
            operation_id=outcome.step.operation_id,
            attempt_no=outcome.step.attempt_no,
            worker=self.worker[:64],
            started_at=_from_ts(outcome.started_at),
            finished_at=_from_ts(outcome.finished_at),
            outcome=outcome.kind,
            http_status=outcome.http_status,
            message=outcome.message,
        )

    def _apply(self, step: OutboxStep, outcome: StepOutcome, now: datetime) -> None:
        step.lease_owner = None
        step.lease_until = None
        if outcome.kind in ("applied", "already_applied"):
            step.state = STEP_DONE
            step.result = outcome.result
            step.completed_at = now
            step.last_error = None
            step.outcome_uncertain = False
            _confirm_device(step, outcome.result, now)
            return
        step.last_error = outcome.message
        gave_up = self.max_attempts and step.attempts >= self.max_attempts
        if outcome.kind == "retry" and not gave_up:
            delay = retry_delay(
                step.attempts,
                base=self.backoff_base,
                cap=self.backoff_cap,
                retry_after=outcome.retry_after,
                rng=self.rng,
            )
            step.state = STEP_PENDING
            step.available_at = now + timedelta(seconds=delay)
            step.outcome_uncertain = outcome.outcome_uncertain
            return
        step.state = STEP_FAILED
        step.outcome_uncertain = outcome.outcome_uncertain
        for later in step.operation.steps:
            if later.step_no > step.step_no and later.state == STEP_PENDING:
                later.state = STEP_BLOCKED


def derive_operation_state(operation: Operation, now: datetime) -> None:
    """Set the operation's state from its steps (conflict and discarded are left alone)."""
    if operation.state in (CONFLICT, DISCARDED):
        return
    steps = operation.steps
    failed = next((s for s in steps if s.state == STEP_FAILED), None)
    if steps and all(s.state == STEP_DONE for s in steps):
        operation.state = SYNCED
        operation.synced_at = now
        operation.error_code = None
        operation.error_message = None
    elif failed is not None:
        operation.state = FAILED
        operation.error_code = "platform_rejected"
        operation.error_message = failed.last_error
    else:
        operation.state = SYNCING
        retrying = next((s for s in steps if s.state == STEP_PENDING and s.last_error), None)
        operation.error_code = "retrying" if retrying else None
        operation.error_message = retrying.last_error if retrying else None
    operation.updated_at = now


def _confirm_device(step: OutboxStep, value: str | None, now: datetime) -> None:
    session = Session.object_session(step)
    assert session is not None
    device = session.get(Device, step.tuid)
    if device is None:
        device = Device(tuid=step.tuid, device_type=device_type_for(step.tuid))
        session.add(device)
    if step.action == "set_status":
        device.status = value
    else:
        device.group_id = value
    device.source = "platform"
    device.updated_at = now


def _from_ts(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
