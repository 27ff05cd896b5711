"""Write new operations set-wise: the operation rows, their outbox steps and the device intent.

Ingest and bulk confirm (and any other way to make actions) hand their planned actions here;
what the rows say (order, held or sent) is decided by app.services.operation_rules. Everything
is written in the caller's transaction, so an operation and its outbox steps commit together
(transactional outbox); the caller commits.

Writes are multi-row: an INSERT ... RETURNING for the operations (SQLAlchemy sends it as few
multi-row statements), then the steps. When every action shares one plan on its own device
at one time (a bulk job), each step number is one INSERT ... SELECT over the operations just
stored, because on PostgreSQL (psycopg) an executemany is a statement per row; otherwise an
executemany (a C loop on SQLite).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    String,
    any_,
    bindparam,
    case,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.database import db, is_transient_error
from app.models.operations import ACCEPTED, CONFLICT, STEP_HELD, STEP_PENDING, Operation, OutboxStep
from app.services.operation_rules import (
    PlannedStep,
    SentActions,
    intended_values,
    order_at,
)
from app.sync.device_cache import SOURCE_LOCAL, remember_devices

TRANSIENT_DB_RETRIES = 3
_T = TypeVar("_T")
_STEP_COLUMNS = (
    "operation_id",
    "step_no",
    "tuid",
    "action",
    "value",
    "order_at",
    "state",
    "available_at",
    "attempts",
    "outcome_uncertain",
)


@dataclass(frozen=True)
class NewOperation:
    """An action to store: who did what to which device, when, and its planned steps."""

    op_id: str
    kind: str
    tuid: str
    args: dict[str, Any]
    steps: Sequence[PlannedStep]
    user_id: int
    device_time: datetime
    seen_status: str | None = None
    seen_group: str | None = None
    bulk_job_id: int | None = None


@dataclass(frozen=True)
class StoredOperation:
    """An operation as written: its id, its columns and each step with its state."""

    id: int
    row: dict[str, Any]
    steps: list[tuple[PlannedStep, str]] = field(default_factory=list)


def write_operations(actions: Sequence[NewOperation], now: datetime) -> dict[str, StoredOperation]:
    """Store these new operations, their steps and their device intent; return them by op_id.

    The actions are taken in the order given: later ones win in the device cache.
    """
    if not actions:
        return {}
    sent = SentActions.for_actions(actions)
    rows: list[dict[str, Any]] = []
    placed: list[tuple[NewOperation, datetime, str]] = []
    for action in actions:
        at = order_at(action.device_time, now)
        hold = sent.hold(action, at)
        rows.append(
            {
                "op_id": action.op_id,
                "kind": action.kind,
                "tuid": action.tuid,
                "args": action.args,
                "user_id": action.user_id,
                "device_time": action.device_time,
                "received_at": now,
                "updated_at": now,
                "seen_status": action.seen_status,
                "seen_group": action.seen_group,
                "state": CONFLICT if hold else ACCEPTED,
                "error_code": hold.code if hold else None,
                "error_message": hold.message if hold else None,
                "bulk_job_id": action.bulk_job_id,
            }
        )
        placed.append((action, at, STEP_HELD if hold else STEP_PENDING))
    # Rows come back keyed by op_id, so their order does not matter (asking for parameter
    # order makes SQLite insert them one by one).
    inserted = db.session.connection().execute(
        insert(Operation).returning(Operation.id, Operation.op_id), rows
    )
    ids = {op_id: pk for pk, op_id in inserted}
    if not _insert_shared_plan(placed, ids, now):
        _insert_steps(placed, ids, now)
    intents = intended_values(
        step for action, _, state in placed if state != STEP_HELD for step in action.steps
    )
    remember_devices(db.session(), intents, source=SOURCE_LOCAL, now=now)
    return {
        row["op_id"]: StoredOperation(
            ids[row["op_id"]], row, [(step, state) for step in action.steps]
        )
        for row, (action, _, state) in zip(rows, placed, strict=True)
    }


def _insert_steps(
    placed: list[tuple[NewOperation, datetime, str]], ids: dict[str, int], now: datetime
) -> None:
    """Write every step as its own row, in one executemany."""
    db.session.connection().execute(
        OutboxStep.__table__.insert(),
        [
            dict(
                zip(
                    _STEP_COLUMNS,
                    (ids[action.op_id], no, s.tuid, s.action, s.value, at, state, now, 0, False),
                    strict=True,
                )
            )
            for action, at, state in placed
            for no, s in enumerate(action.steps)
        ],
    )


def _insert_shared_plan(
    placed: list[tuple[NewOperation, datetime, str]], ids: dict[str, int], now: datetime
) -> bool:
    """Write the steps with one INSERT ... SELECT per step number when every action has the
    same plan on its own device and one place in the order; return False when they do not."""
    shapes = {tuple((s.action, s.value) for s in action.steps) for action, _, _ in placed}
    times = {at for _, at, _ in placed}
    if len(placed) < 2 or len(shapes) != 1 or len(times) != 1:
        return False
    if any(s.tuid != action.tuid for action, _, _ in placed for s in action.steps):
        return False
    table = OutboxStep.__table__.c
    at = times.pop()
    for step_no, (action, value) in enumerate(shapes.pop()):
        rows = select(
            Operation.id,
            literal(step_no, Integer),
            Operation.tuid,
            literal(action, String),
            literal(value, String),
            literal(at, table.order_at.type),
            case((Operation.state == CONFLICT, STEP_HELD), else_=STEP_PENDING),
            literal(now, table.available_at.type),
            literal(0, Integer),
            literal(False, Boolean),
        ).where(_stored(list(ids.values())))
        db.session.execute(insert(OutboxStep).from_select(list(_STEP_COLUMNS), rows))
    return True


def _stored(ids: list[int]) -> ColumnElement[bool]:
    """Select the operations just stored: on PostgreSQL by one array parameter, because psycopg
    parses each of an IN list's placeholders in Python, for every statement (a thousand per
    bulk chunk and step number)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return Operation.id == any_(bindparam("stored_ids", ids, type_=ARRAY(Integer)))
    return Operation.id.in_(ids)


def with_retries(write: Callable[[], _T]) -> _T:
    """Run a transaction that stores operations; run it again after a race or a transient error.

    A unique-key race on op_ids (another request stored some of the same ones first) runs it
    once more, so those become existing operations. A deadlock, serialization failure or lost
    connection rolled the whole transaction back: running it again is safe, op_ids make it
    idempotent.
    """
    for attempt in range(1, TRANSIENT_DB_RETRIES + 1):
        try:
            return write()
        except IntegrityError:
            db.session.rollback()
            return write()
        except DBAPIError as exc:
            db.session.rollback()
            if not is_transient_error(exc) or attempt == TRANSIENT_DB_RETRIES:
                raise
    raise AssertionError("unreachable")
