"""Turn a chunk of confirmed bulk job items into operations and outbox steps, in one transaction.

This is the technicians' ingest (app.services.operations.ingest) done set-wise: the same
validation and step plan (plan_steps), the same idempotency by op_id, the same rule that holds
an action as a conflict when a later one on the device was already sent (newest_sent_order),
the same outbox rows and the same device-cache intent. Only the writes differ: multi-row
INSERTs and one UPDATE per chunk instead of ORM objects, because a 10,000-device job through
the per-row ORM path costs seconds of database time where this costs a fraction of one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from app.database import db, utcnow
from app.labels.device_types import device_type_for
from app.models.bulk import BulkJobItem
from app.models.devices import Device
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
from app.services.operations import newest_sent_order


@dataclass(frozen=True)
class ChunkItem:
    """One confirmed job item: its row id, device and what the preview read."""

    item_id: int
    op_id: str
    tuid: str
    seen_status: str | None
    seen_group: str | None


def _held_message(newest: datetime) -> str:
    return (
        "A later action on this device reached the platform first "
        f"(performed {newest.isoformat(timespec='seconds')}). This bulk action was held so it "
        "does not undo it; a supervisor can apply or discard it."
    )


def _remember(steps: list[PlannedStep], known: set[str], now: datetime) -> None:
    """Write the actions' intended values into the device cache, as ingest does."""
    by_value: dict[tuple[str, str], list[str]] = {}
    for step in steps:
        by_value.setdefault((step.action, step.value), []).append(step.tuid)
    missing: list[dict[str, Any]] = []
    for (action, value), tuids in by_value.items():
        column = "status" if action == "set_status" else "group_id"
        present = [t for t in tuids if t in known]
        if present:
            db.session.execute(
                update(Device)
                .where(Device.tuid.in_(present))
                .values({column: value, "source": "local", "updated_at": now})
                .execution_options(synchronize_session=False)
            )
        missing += [
            {
                "tuid": t,
                "device_type": device_type_for(t),
                "status": value if column == "status" else None,
                "group_id": value if column == "group_id" else None,
                "source": "local",
                "updated_at": now,
            }
            for t in tuids
            if t not in known
        ]
    if missing:
        db.session.execute(insert(Device), missing)


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
                "error_message": _held_message(max(stale)) if stale else None,
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
        step_rows = [
            {
                "operation_id": ids[op_id],
                "step_no": step_no,
                "tuid": step.tuid,
                "action": step.action,
                "value": step.value,
                "order_at": now,
                "state": STEP_HELD if held[op_id] else STEP_PENDING,
                "available_at": now,
                "attempts": 0,
                "outcome_uncertain": False,
            }
            for op_id, (_, steps) in plans.items()
            for step_no, step in enumerate(steps)
        ]
        db.session.execute(insert(OutboxStep), step_rows)
        sent_steps = [s for op_id, (_, steps) in plans.items() if not held[op_id] for s in steps]
        known = set(
            db.session.scalars(
                select(Device.tuid).where(Device.tuid.in_({s.tuid for s in sent_steps}))
            )
        )
        _remember(sent_steps, known, now)
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
    links = [{"id": i.item_id, "operation_id": ids[i.op_id]} for i in items if i.op_id in ids]
    if links:
        db.session.execute(update(BulkJobItem), links)
    db.session.commit()
    return len(operation_rows)


def enqueue_chunk(
    job_id: int, kind: str, args: dict[str, Any], items: Sequence[ChunkItem], user: User
) -> int:
    """Store operations and outbox steps for these items in one transaction; return how many."""
    user_id = user.id
    try:
        return _enqueue_once(job_id, kind, args, items, user_id)
    except IntegrityError:
        # A second confirm of the same job stored some of these op_ids first: they are now
        # existing operations, which the next pass links instead of creating.
        db.session.rollback()
        return _enqueue_once(job_id, kind, args, items, user_id)
