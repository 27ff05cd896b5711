"""Turn a chunk of confirmed bulk job items into operations and outbox steps, in one transaction.

This is the technicians' ingest (app.services.operations.ingest) done set-wise: the same
validation and step plan (plan_steps), the same idempotency by op_id, the same rule that holds
an action as a conflict when a later one on the device was already sent (newest_sent_order),
the same outbox rows and the same device-cache intent. Only the writes differ: multi-row
INSERTs and one UPDATE per chunk instead of ORM objects, because a 10,000-device job through
the per-row ORM path costs seconds of database time where this costs a fraction of one. The
outbox rows are written by INSERT ... SELECT from the operations just stored: on PostgreSQL an
executemany is a statement per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, case, exists, insert, literal, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.database import db, is_transient_error, utcnow
from app.models.bulk import BulkJobItem
from app.models.operations import (
    ACCEPTED,
    CONFLICT,
    STEP_HELD,
    STEP_PENDING,
    Operation,
    OutboxStep,
)
from app.models.users import User
from app.services.operation_plans import PlannedStep, plan_steps
from app.services.operations import TRANSIENT_DB_RETRIES, held_message, newest_sent_order
from app.sync.device_cache import SOURCE_LOCAL, remember_devices


@dataclass(frozen=True)
class ChunkItem:
    """One confirmed job item: its row id, device and what the preview read."""

    item_id: int
    op_id: str
    tuid: str
    seen_status: str | None
    seen_group: str | None


def _remember(steps: list[PlannedStep], now: datetime) -> None:
    """Write the actions' intended values into the device cache, as ingest does."""
    intents: dict[str, dict[str, str]] = {}
    for step in steps:
        if step.action in ("set_status", "set_group"):
            column = "status" if step.action == "set_status" else "group_id"
            intents.setdefault(step.tuid, {})[column] = step.value
    # One upsert in TUID order, as ingest and the worker write devices (app.sync.device_cache).
    remember_devices(db.session(), intents, source=SOURCE_LOCAL, now=now)


def _enqueue_once(
    job_id: int, kind: str, args: dict[str, Any], items: Sequence[ChunkItem], user_id: int
) -> int:
    now = utcnow()
    existing = set(
        db.session.scalars(
            select(Operation.op_id).where(Operation.op_id.in_([i.op_id for i in items]))
        )
    )
    fresh = [i for i in items if i.op_id not in existing]
    plans = {i.op_id: plan_steps(kind, i.tuid, args) for i in fresh}
    newest_sent = newest_sent_order({s.tuid for _, steps in plans.values() for s in steps})
    operation_rows: list[dict[str, Any]] = []
    held: dict[str, bool] = {}
    for item in fresh:
        normalised, steps = plans[item.op_id]
        stale = [newest_sent[s.tuid] for s in steps if newest_sent.get(s.tuid, now) > now]
        held[item.op_id] = bool(stale)
        operation_rows.append(
            {
                "op_id": item.op_id,
                "kind": kind,
                "tuid": item.tuid,
                "args": normalised,
                "user_id": user_id,
                "device_time": now,
                "received_at": now,
                "seen_status": item.seen_status,
                "seen_group": item.seen_group,
                "state": CONFLICT if stale else ACCEPTED,
                "error_code": "out_of_order" if stale else None,
                "error_message": held_message(max(stale), "bulk action") if stale else None,
                "updated_at": now,
                "bulk_job_id": job_id,
            }
        )
    ids: dict[str, int] = {}
    if operation_rows:
        # Rows come back keyed by op_id, so their order does not matter (asking for parameter
        # order makes SQLite insert them one by one).
        inserted = db.session.execute(
            insert(Operation).returning(Operation.id, Operation.op_id), operation_rows
        )
        ids = {op_id: pk for pk, op_id in inserted}
        planned = [(i.tuid, plans[i.op_id][1]) for i in fresh]
        _insert_steps(job_id, planned, min(ids.values()), max(ids.values()), now)
        sent_steps = [s for op_id, (_, steps) in plans.items() if not held[op_id] for s in steps]
        _remember(sent_steps, now)
    if existing:
        # A repeated confirm: link the items to the operations the first one created.
        ids.update(
            {
                op_id: pk
                for pk, op_id in db.session.execute(
                    select(Operation.id, Operation.op_id).where(Operation.op_id.in_(existing))
                )
            }
        )
    _link_items(job_id, [(i.item_id, ids[i.op_id]) for i in items if i.op_id in ids])
    db.session.commit()
    return len(operation_rows)


def _link_items(job_id: int, pairs: list[tuple[int, int]]) -> None:
    """Point each job item at its operation.

    SQLite runs an executemany as one loop in C; PostgreSQL (psycopg) sends a statement per
    row, so there one UPDATE joins the items to the job's operations by device instead (a job
    holds one operation per device).
    """
    if not pairs:
        return
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(BulkJobItem), [{"id": item, "operation_id": op} for item, op in pairs]
        )
        return
    db.session.execute(
        update(BulkJobItem)
        .where(
            BulkJobItem.id.in_([item for item, _ in pairs]),
            Operation.bulk_job_id == job_id,
            Operation.tuid == BulkJobItem.tuid,
        )
        .values(operation_id=Operation.id)
        .execution_options(synchronize_session=False)
    )


def _insert_steps(
    job_id: int,
    planned: list[tuple[str, list[PlannedStep]]],
    first_id: int,
    last_id: int,
    now: datetime,
) -> None:
    """Write the outbox steps of the operations just stored (the job's ids first_id..last_id).

    Every operation of a job has the same kind and arguments, so its steps differ only in the
    device: each step_no is one INSERT ... SELECT over the new operations.
    """
    shapes = {tuple((s.action, s.value) for s in steps) for _, steps in planned}
    if len(shapes) != 1 or any(s.tuid != tuid for tuid, steps in planned for s in steps):
        raise ValueError("a bulk job's operations must share one plan, each on its own device")
    columns = [
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
    ]
    table = OutboxStep.__table__.c
    for step_no, (action, value) in enumerate(shapes.pop()):
        written = exists().where(OutboxStep.operation_id == Operation.id, table.step_no == step_no)
        rows = select(
            Operation.id,
            literal(step_no, Integer),
            Operation.tuid,
            literal(action, String),
            literal(value, String),
            literal(now, table.order_at.type),
            case((Operation.state == CONFLICT, STEP_HELD), else_=STEP_PENDING),
            literal(now, table.available_at.type),
            literal(0, Integer),
            literal(False, Boolean),
        ).where(
            Operation.bulk_job_id == job_id,
            Operation.id.between(first_id, last_id),
            ~written,  # never twice, whatever else shares the id range
        )
        db.session.execute(insert(OutboxStep).from_select(columns, rows))


def enqueue_chunk(
    job_id: int, kind: str, args: dict[str, Any], items: Sequence[ChunkItem], user: User
) -> int:
    """Store operations and outbox steps for these items in one transaction; return how many."""
    user_id = user.id
    for attempt in range(1, TRANSIENT_DB_RETRIES + 1):
        try:
            return _enqueue_once(job_id, kind, args, items, user_id)
        except IntegrityError:
            # A second confirm of the same job stored some of these op_ids first: they are now
            # existing operations, which the next pass links instead of creating.
            db.session.rollback()
            return _enqueue_once(job_id, kind, args, items, user_id)
        except DBAPIError as exc:
            # A deadlock or lost connection rolled the chunk back whole; op_ids make a rerun safe.
            db.session.rollback()
            if not is_transient_error(exc) or attempt == TRANSIENT_DB_RETRIES:
                raise
    raise AssertionError("unreachable")
