"""Ingest technician operations idempotently and answer questions about their state.

One call ingests a batch in one transaction: the operation rows, their outbox steps and the
device cache commit together (transactional outbox, written by app.services.operation_writer
by the rules of app.services.operation_rules). A repeated op_id returns the stored row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import select

from app.database import db, utcnow
from app.input_bounds import DeviceTime
from app.models.operations import Operation
from app.models.users import User
from app.services.operation_rules import (
    InvalidOperation,
    PlannedStep,
    normalise_tuid,
    plan_steps,
)
from app.services.operation_writer import (
    NewOperation,
    StoredOperation,
    with_retries,
    write_operations,
)
from app.services.timeline import operations_touching
from app.services.undo import UNDO, UndoRefused, UndoRequest, UndoTarget, plan_undo


class SeenState(BaseModel):
    status: str | None = Field(default=None, max_length=16)
    group: str | None = Field(default=None, max_length=64)


class OperationIn(BaseModel):
    """One action as the phone recorded it."""

    op_id: UUID
    kind: str = Field(max_length=16)
    tuid: str = Field(max_length=64)
    args: dict[str, Any] = Field(default_factory=dict)
    device_time: DeviceTime
    seen: SeenState = Field(default_factory=SeenState)

    @field_validator("tuid")
    @classmethod
    def _tuid(cls, value: str) -> str:
        try:
            return normalise_tuid(value)
        except InvalidOperation as exc:
            raise ValueError(str(exc)) from None


@dataclass
class IngestResult:
    op_id: str
    result: str  # accepted | duplicate | rejected
    operation: Any = None  # the stored Operation, or an object with the same attributes
    error_code: str | None = None
    error_message: str | None = None


def _validation_message(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err["loc"])
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _raw_op_id(item: object) -> str:
    return str(item.get("op_id", "")) if isinstance(item, dict) else ""


def ingest(items: list[Any], user: User) -> list[IngestResult]:
    """Store a batch of operations; return one result per item, in order."""
    return with_retries(lambda: _ingest_once(items, user))


def _ingest_once(items: list[Any], user: User) -> list[IngestResult]:
    now = utcnow()
    results: list[IngestResult] = []
    valid: list[tuple[int, NewOperation]] = []
    undos: list[tuple[int, OperationIn]] = []
    for index, item in enumerate(items):
        try:
            parsed = OperationIn.model_validate(item)
            if parsed.kind == UNDO:
                results.append(IngestResult(str(parsed.op_id), "pending"))
                undos.append((index, parsed))  # planned below, against the device's actions
                continue
            args, steps = plan_steps(parsed.kind, parsed.tuid, parsed.args)
        except ValidationError as exc:
            results.append(_rejected(_raw_op_id(item), _validation_message(exc)))
            continue
        except InvalidOperation as exc:
            results.append(_rejected(_raw_op_id(item), str(exc)))
            continue
        results.append(IngestResult(str(parsed.op_id), "pending"))
        valid.append((index, _new_operation(parsed, user, args, steps)))

    op_ids = [new.op_id for _, new in valid] + [str(parsed.op_id) for _, parsed in undos]
    existing = (
        {
            op.op_id: op
            for op in db.session.scalars(select(Operation).where(Operation.op_id.in_(op_ids)))
        }
        if op_ids
        else {}
    )
    valid += _plan_undos(undos, valid, existing, user, results)
    fresh: list[NewOperation] = []
    accepted_index: dict[str, int] = {}
    # In the order performed, so a later action wins in the device cache.
    for index, new in sorted(valid, key=lambda v: v[1].device_time):
        stored = existing.get(new.op_id)
        if stored is not None:
            results[index] = IngestResult(new.op_id, "duplicate", stored)
        elif new.op_id in accepted_index:
            results[index] = IngestResult(new.op_id, "duplicate")  # operation filled in below
        else:
            fresh.append(new)
            accepted_index[new.op_id] = index
    written = write_operations(fresh, now)
    db.session.commit()
    # Answer from what we just wrote rather than reading it back: this is the hot path.
    views = {op_id: _stored_view(stored, user) for op_id, stored in written.items()}
    for index, result in enumerate(results):
        if result.op_id in views and result.operation is None:
            kind = "accepted" if accepted_index.get(result.op_id) == index else "duplicate"
            results[index] = IngestResult(result.op_id, kind, views[result.op_id])
    return results


def _stored_view(stored: StoredOperation, user: User) -> Any:
    """An object shaped like the stored Operation (same attributes), built without a query."""
    row = stored.row
    steps = [
        SimpleNamespace(
            tuid=step.tuid,
            action=step.action,
            value=step.value,
            state=state,
            attempts=0,
            result=None,
            last_error=None,
        )
        for step, state in stored.steps
    ]
    return SimpleNamespace(
        id=stored.id,
        **row,
        synced_at=None,
        user=user,
        steps=steps,
        offline_delay_s=max(0.0, (row["received_at"] - row["device_time"]).total_seconds()),
    )


def _rejected(op_id: str, message: str, code: str = "invalid_operation") -> IngestResult:
    return IngestResult(op_id, "rejected", None, code, message)


def _new_operation(
    parsed: OperationIn, user: User, args: dict[str, Any], steps: Sequence[PlannedStep]
) -> NewOperation:
    return NewOperation(
        op_id=str(parsed.op_id),
        kind=parsed.kind,
        tuid=parsed.tuid,
        args=args,
        steps=steps,
        user_id=user.id,
        device_time=parsed.device_time,
        seen_status=parsed.seen.status,
        seen_group=parsed.seen.group,
    )


def _undo_target(new: NewOperation) -> UndoTarget:
    return UndoTarget(
        new.op_id,
        new.kind,
        new.tuid,
        new.user_id,
        new.device_time,
        new.seen_status,
        new.seen_group,
        tuple(new.steps),
    )


def _plan_undos(
    undos: list[tuple[int, OperationIn]],
    valid: list[tuple[int, NewOperation]],
    existing: dict[str, Operation],
    user: User,
    results: list[IngestResult],
) -> list[tuple[int, NewOperation]]:
    """Plan the batch's undos (app.services.undo); a refused one becomes a rejected result."""
    batch = [_undo_target(new) for _, new in valid]
    planned: list[tuple[int, NewOperation]] = []
    for index, parsed in undos:
        if str(parsed.op_id) in existing:  # a repeat: answered from the stored row
            planned.append((index, _new_operation(parsed, user, {}, [])))
            continue
        try:
            args, steps = plan_undo(
                UndoRequest(parsed.tuid, parsed.args, parsed.device_time), user, batch
            )
        except UndoRefused as exc:
            results[index] = _rejected(str(parsed.op_id), str(exc), exc.code)
            continue
        except InvalidOperation as exc:
            results[index] = _rejected(str(parsed.op_id), str(exc))
            continue
        new = _new_operation(parsed, user, args, steps)
        planned.append((index, new))
        # A second undo of the same action in this batch finds this one newer and is refused.
        batch.append(_undo_target(new))
    return planned


def get_by_op_ids(op_ids: list[str]) -> list[Operation]:
    """Return the stored operations with these op_ids, in the order asked."""
    if not op_ids:
        return []
    found = {
        op.op_id: op
        for op in db.session.scalars(select(Operation).where(Operation.op_id.in_(op_ids)))
    }
    return [found[op_id] for op_id in op_ids if op_id in found]


def list_for_user(user: User, since: datetime | None, limit: int = 500) -> list[Operation]:
    """Return the user's operations received since a time, newest first."""
    query = select(Operation).where(Operation.user_id == user.id)
    if since is not None:
        query = query.where(Operation.updated_at >= since)
    query = query.order_by(Operation.received_at.desc(), Operation.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def device_history(tuid: str, limit: int = 100) -> list[Operation]:
    """Return operations that touched this device (as target or replacement), newest first."""
    query = (
        select(Operation)
        .where(Operation.id.in_(operations_touching(tuid)))
        .order_by(Operation.device_time.desc(), Operation.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
