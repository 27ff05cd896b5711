"""Turn a chunk of confirmed bulk job items into operations and outbox steps, in one transaction.

The same path as the technicians' ingest: the plan and the held rule of
app.services.operation_rules, the rows written by app.services.operation_writer, idempotent by
op_id. What is the job's own: a repeated confirm links its items to the operations the first
one stored, and each item is pointed at its operation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from app.database import db, utcnow
from app.models.bulk import BulkJobItem
from app.models.operations import Operation
from app.models.users import User
from app.services.operation_rules import plan_steps
from app.services.operation_writer import NewOperation, with_retries, write_operations


@dataclass(frozen=True)
class ChunkItem:
    """One confirmed job item: its row id, device and what the preview read."""

    item_id: int
    op_id: str
    tuid: str
    seen_status: str | None
    seen_group: str | None


def _enqueue_once(
    job_id: int, kind: str, args: dict[str, Any], items: Sequence[ChunkItem], user_id: int
) -> int:
    now = utcnow()
    existing = set(
        db.session.scalars(
            select(Operation.op_id).where(Operation.op_id.in_([i.op_id for i in items]))
        )
    )
    fresh: list[NewOperation] = []
    for item in items:
        if item.op_id in existing:
            continue
        normalised, steps = plan_steps(kind, item.tuid, args)
        fresh.append(
            NewOperation(
                op_id=item.op_id,
                kind=kind,
                tuid=item.tuid,
                args=normalised,
                steps=steps,
                user_id=user_id,
                device_time=now,
                seen_status=item.seen_status,
                seen_group=item.seen_group,
                bulk_job_id=job_id,
            )
        )
    ids = {op_id: stored.id for op_id, stored in write_operations(fresh, now).items()}
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
    return len(fresh)


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


def enqueue_chunk(
    job_id: int, kind: str, args: dict[str, Any], items: Sequence[ChunkItem], user: User
) -> int:
    """Store operations and outbox steps for these items in one transaction; return how many."""
    user_id = user.id
    return with_retries(lambda: _enqueue_once(job_id, kind, args, items, user_id))
