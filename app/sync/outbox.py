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
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
        earlier.state.in_((STEP_PENDING, STEP_LEASED)),
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
        earlier_on_source.state.in_((STEP_PENDING, STEP_LEASED)),
        earlier_on_source.order_at <= OutboxStep.order_at,
    )
    copy_source_ready = or_(OutboxStep.action != "copy_group", ~source_not_ready)
    return and_(~earlier_on_device, ~earlier_in_operation, copy_source_ready)


# Statements are built once: constructing these aliased EXISTS clauses costs more than running
# them, and the claim runs many times a second. Values come in as bound parameters.
_NOW = bindparam("now", type_=OutboxStep.__table__.c.available_at.type)
_NO_EARLIER_WORK = _no_earlier_work()
_READY = or_(
    and_(OutboxStep.state == STEP_PENDING, OutboxStep.available_at <= _NOW),
    and_(OutboxStep.state == STEP_LEASED, OutboxStep.lease_until < _NOW),
)
_PENDING_CANDIDATES = (
    select(OutboxStep.id)
    .where(OutboxStep.state == STEP_PENDING, OutboxStep.available_at <= _NOW)
    .where(_NO_EARLIER_WORK)
    .order_by(OutboxStep.state, OutboxStep.order_at, OutboxStep.id)
)
_EXPIRED_CANDIDATES = (
    select(OutboxStep.id)
    .where(OutboxStep.state == STEP_LEASED, OutboxStep.lease_until < _NOW)
    .where(_NO_EARLIER_WORK)
    .order_by(OutboxStep.order_at, OutboxStep.id)
)
_LEASE = (
    update(OutboxStep)
    .where(OutboxStep.id.in_(bindparam("ids", expanding=True)), _READY, _NO_EARLIER_WORK)
    .values(
        # An expired lease means a worker died mid-call: the write may have happened.
        outcome_uncertain=or_(OutboxStep.outcome_uncertain, OutboxStep.state == STEP_LEASED),
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


_STEPS = OutboxStep.__table__
_OPERATIONS = Operation.__table__
_DEVICES = Device.__table__
# Core executemany statements with one parameter set per row: the ORM's bulk-update path costs
# more Python per row than SQLite spends executing it.
# How close to its end we stop trusting our own clock about a lease and ask the database.
LEASE_SAFETY_S = 5.0
_STEP_RESULT = (
    _STEPS.update()
    .where(
        _STEPS.c.id == bindparam("b_id"),
        _STEPS.c.lease_owner == bindparam("b_token"),
        _STEPS.c.state == STEP_LEASED,
    )
    .values(
        state=bindparam("b_state"),
        result=bindparam("b_result"),
        completed_at=bindparam("b_completed_at"),
        available_at=bindparam("b_available_at"),
        last_error=bindparam("b_last_error"),
        outcome_uncertain=bindparam("b_outcome_uncertain"),
        lease_owner=None,
        lease_until=None,
    )
)
_OPERATION_STATE = (
    _OPERATIONS.update()
    .where(
        _OPERATIONS.c.id == bindparam("b_id"),
        # Literals, not an expanding IN: executemany cannot expand parameters.
        _OPERATIONS.c.state != literal_column(f"'{CONFLICT}'"),
        _OPERATIONS.c.state != literal_column(f"'{DISCARDED}'"),
    )
    .values(
        state=bindparam("b_state"),
        synced_at=bindparam("b_synced_at"),
        error_code=bindparam("b_error_code"),
        error_message=bindparam("b_error_message"),
        updated_at=bindparam("b_updated_at"),
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
# For the claim's transaction only, walk the indexes in order and look ids up by primary key.
_INDEX_ORDER_PLANS = text(
    "SELECT set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true)"
)


def _candidates(session: Session, now: datetime, limit: int) -> list[int]:
    # Two narrow queries rather than one OR: each walks an index in order and stops early.
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        session.execute(_INDEX_ORDER_PLANS)
    expired, _ = _candidate_queries(postgresql, limit)
    ids = list(session.scalars(expired, {"now": now}))
    if len(ids) < limit:
        _, pending = _candidate_queries(postgresql, limit - len(ids))
        ids += session.scalars(pending, {"now": now})
    return ids


def claim_steps(
    session: Session, worker: str, limit: int, now: datetime, lease_seconds: float
) -> list[ClaimedStep]:
    """Lease up to `limit` claimable steps for this worker and return them."""
    if limit <= 0:
        return []
    ids = _candidates(session, now, limit)
    if not ids:
        session.rollback()
        return []
    token = f"{worker[:40]}:{uuid.uuid4().hex[:12]}"
    lease_until = now + timedelta(seconds=lease_seconds)
    session.execute(_LEASE, {"ids": ids, "now": now, "token": token, "lease_until": lease_until})
    claimed = list(session.execute(_LEASED_BY_TOKEN, {"token": token}))
    if claimed:
        # Only the primary key in WHERE, the state test in SET: given "state = 'accepted'" to
        # filter on, PostgreSQL may walk every accepted operation in the state index.
        starting = Operation.state == ACCEPTED
        session.execute(
            update(Operation)
            .where(Operation.id.in_({row.operation_id for row in claimed}))
            .values(
                state=case((starting, SYNCING), else_=Operation.state),
                updated_at=case(
                    (starting, literal(now, _OPERATIONS.c.updated_at.type)),
                    else_=Operation.updated_at,
                ),
            )
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
            step_no=row.step_no,
            last_step=bool(row.last_step),
            lease_until=lease_until.timestamp(),
        )
        for row in claimed
    ]


class OutcomeRecorder:
    """Write step outcomes, attempts, operation states and the device cache in one transaction.

    Set-based statements, not ORM objects: this runs on the worker's single database thread
    for every platform call, so its cost bounds the worker's throughput.
    """

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
        connection = session.connection()
        connection.execute(SyncAttempt.__table__.insert(), [self._attempt_row(o) for o in outcomes])
        current = [o for o in outcomes if o.step.lease_until - LEASE_SAFETY_S > now.timestamp()]
        if len(current) < len(outcomes):
            current += self._still_ours([o for o in outcomes if o not in current], session)
        step_updates = [self._step_update(o, o.step.attempt_no, now) for o in current]
        if step_updates:
            connection.execute(_STEP_RESULT, step_updates)
        for outcome, values in zip(current, step_updates, strict=True):
            if values["b_state"] == STEP_FAILED:
                session.execute(
                    update(OutboxStep)
                    .where(
                        OutboxStep.operation_id == outcome.step.operation_id,
                        OutboxStep.step_no > outcome.step.step_no,
                        OutboxStep.state == STEP_PENDING,
                    )
                    .values(state=STEP_BLOCKED)
                )
        device_values: dict[str, dict[str, str | None]] = {}
        for outcome, values in zip(current, step_updates, strict=True):
            if values["b_state"] == STEP_DONE:
                column = "status" if outcome.step.action == "set_status" else "group_id"
                device_values.setdefault(outcome.step.tuid, {})[column] = outcome.result
        _confirm_devices(session, device_values, now)
        operation_updates = [
            _operation_after(o, str(values["b_state"]), now)
            for o, values in zip(current, step_updates, strict=True)
        ]
        if operation_updates:
            connection.execute(_OPERATION_STATE, operation_updates)
        session.commit()

    @staticmethod
    def _still_ours(outcomes: list[StepOutcome], session: Session) -> list[StepOutcome]:
        """Keep the outcomes whose lease nobody took over (ours ran past its lease time)."""
        owners = {
            row.id: row.lease_owner
            for row in session.execute(
                select(OutboxStep.id, OutboxStep.lease_owner).where(
                    OutboxStep.id.in_([o.step.id for o in outcomes]),
                    OutboxStep.state == STEP_LEASED,
                )
            )
        }
        # Another worker that took over will read the platform before writing again.
        return [o for o in outcomes if owners.get(o.step.id) == o.step.lease_token]

    def _attempt_row(self, outcome: StepOutcome) -> dict[str, object]:
        return {
            "step_id": outcome.step.id,
            "operation_id": outcome.step.operation_id,
            "attempt_no": outcome.step.attempt_no,
            "worker": self.worker[:64],
            "started_at": _from_ts(outcome.started_at),
            "finished_at": _from_ts(outcome.finished_at),
            "outcome": outcome.kind,
            "http_status": outcome.http_status,
            "message": outcome.message,
        }

    def _step_update(self, outcome: StepOutcome, attempts: int, now: datetime) -> dict[str, object]:
        values: dict[str, object] = {
            "b_id": outcome.step.id,
            "b_token": outcome.step.lease_token,
            "b_result": None,
            "b_completed_at": None,
            "b_available_at": now,
            "b_last_error": outcome.message,
            "b_outcome_uncertain": outcome.outcome_uncertain,
        }
        if outcome.kind in ("applied", "already_applied"):
            values.update(
                b_state=STEP_DONE,
                b_result=outcome.result,
                b_completed_at=now,
                b_last_error=None,
                b_outcome_uncertain=False,
            )
            return values
        gave_up = self.max_attempts and attempts >= self.max_attempts
        if outcome.kind == "retry" and not gave_up:
            delay = retry_delay(
                attempts,
                base=self.backoff_base,
                cap=self.backoff_cap,
                retry_after=outcome.retry_after,
                rng=self.rng,
            )
            values.update(b_state=STEP_PENDING, b_available_at=now + timedelta(seconds=delay))
        else:
            values.update(b_state=STEP_FAILED)
        return values


def _operation_after(outcome: StepOutcome, step_state: str, now: datetime) -> dict[str, object]:
    """The operation's state once this step's outcome is known.

    Earlier steps of an operation are done before a later one is claimed, so the step's own
    outcome and whether it is the last one decide the operation's state without a query.
    """
    values: dict[str, object] = {
        "b_id": outcome.step.operation_id,
        "b_updated_at": now,
        "b_synced_at": None,
        "b_state": SYNCING,
        "b_error_code": None,
        "b_error_message": None,
    }
    if step_state == STEP_DONE and outcome.step.last_step:
        values.update(b_state=SYNCED, b_synced_at=now)
    elif step_state == STEP_FAILED:
        values.update(
            b_state=FAILED, b_error_code="platform_rejected", b_error_message=outcome.message
        )
    elif step_state == STEP_PENDING:
        values.update(b_error_code="retrying", b_error_message=outcome.message)
    return values


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


def _confirm_devices(
    session: Session, values: dict[str, dict[str, str | None]], now: datetime
) -> None:
    """Record what the platform now holds for these devices in the local cache (one upsert)."""
    if not values:
        return
    connection = session.connection()
    insert = sqlite_insert if connection.dialect.name == "sqlite" else pg_insert
    statement = insert(_DEVICES)
    upsert = statement.on_conflict_do_update(
        index_elements=["tuid"],
        set_={
            # None means "unchanged": one statement serves status and group confirmations.
            "status": func.coalesce(statement.excluded.status, _DEVICES.c.status),
            "group_id": func.coalesce(statement.excluded.group_id, _DEVICES.c.group_id),
            "source": "platform",
            "updated_at": statement.excluded.updated_at,
        },
    )
    connection.execute(
        upsert,
        [
            {
                "tuid": tuid,
                "device_type": device_type_for(tuid),
                "status": changed.get("status"),
                "group_id": changed.get("group_id"),
                "source": "platform",
                "updated_at": now,
            }
            for tuid, changed in values.items()
        ],
    )


def _from_ts(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
