"""Ingest technician operations idempotently and answer questions about their state.

One call ingests a batch in one transaction: the operation rows, their outbox steps and the
device cache commit together (transactional outbox). A repeated op_id returns the stored row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field, ValidationError, field_validator
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.database import db, utcnow
from app.labels.device_types import device_type_for
from app.models.devices import Device
from app.models.operations import (
    ACCEPTED,
    CONFLICT,
    STEP_DONE,
    STEP_HELD,
    STEP_LEASED,
    Operation,
    OutboxStep,
)
from app.models.users import User
from app.services.operation_plans import InvalidOperation, normalise_tuid, plan_steps

# A phone clock this far ahead of ours is wrong; order its actions by arrival instead.
CLOCK_SKEW_TOLERANCE = timedelta(minutes=5)


class SeenState(BaseModel):
    status: str | None = Field(default=None, max_length=16)
    group: str | None = Field(default=None, max_length=64)


class OperationIn(BaseModel):
    """One action as the phone recorded it."""

    op_id: UUID
    kind: str = Field(max_length=16)
    tuid: str = Field(max_length=64)
    args: dict[str, Any] = Field(default_factory=dict)
    device_time: AwareDatetime
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
    operation: Operation | None = None
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
    try:
        return _ingest_once(items, user)
    except IntegrityError:
        # Another request stored some of the same op_ids between our check and our insert;
        # run again so those become duplicates.
        db.session.rollback()
        return _ingest_once(items, user)


def _ingest_once(items: list[Any], user: User) -> list[IngestResult]:
    now = utcnow()
    results: list[IngestResult] = []
    valid: list[tuple[int, OperationIn, dict[str, Any], list[Any]]] = []
    for index, item in enumerate(items):
        try:
            parsed = OperationIn.model_validate(item)
            args, steps = plan_steps(parsed.kind, parsed.tuid, parsed.args)
        except ValidationError as exc:
            results.append(_rejected(_raw_op_id(item), _validation_message(exc)))
            continue
        except InvalidOperation as exc:
            results.append(_rejected(_raw_op_id(item), str(exc)))
            continue
        results.append(IngestResult(str(parsed.op_id), "pending"))
        valid.append((index, parsed, args, steps))

    op_ids = [str(parsed.op_id) for _, parsed, _, _ in valid]
    existing = (
        {
            op.op_id: op
            for op in db.session.scalars(select(Operation).where(Operation.op_id.in_(op_ids)))
        }
        if op_ids
        else {}
    )

    tuids = {step.tuid for _, _, _, steps in valid for step in steps}
    newest_sent = _newest_sent_order(tuids)
    new_ops: dict[str, Operation] = {}
    for index, parsed, args, steps in sorted(valid, key=lambda v: v[1].device_time):
        op_id = str(parsed.op_id)
        stored = existing.get(op_id) or new_ops.get(op_id)
        if stored is not None:
            results[index] = IngestResult(op_id, "duplicate", stored)
            continue
        device_time_plausible = parsed.device_time <= now + CLOCK_SKEW_TOLERANCE
        order_at = parsed.device_time if device_time_plausible else now
        stale_against = [
            newest_sent[s.tuid]
            for s in steps
            if s.tuid in newest_sent and newest_sent[s.tuid] > order_at
        ]
        operation = Operation(
            op_id=op_id,
            kind=parsed.kind,
            tuid=parsed.tuid,
            args=args,
            user_id=user.id,
            device_time=parsed.device_time,
            received_at=now,
            seen_status=parsed.seen.status,
            seen_group=parsed.seen.group,
            state=CONFLICT if stale_against else ACCEPTED,
        )
        if stale_against:
            operation.error_code = "out_of_order"
            operation.error_message = (
                "A later action on this device reached the platform first "
                f"(performed {max(stale_against).isoformat(timespec='seconds')}). This older "
                "action was held so it does not undo it; a supervisor can apply or discard it."
            )
        for step_no, step in enumerate(steps):
            operation.steps.append(
                OutboxStep(
                    step_no=step_no,
                    tuid=step.tuid,
                    action=step.action,
                    value=step.value,
                    order_at=order_at,
                    state=STEP_HELD if stale_against else "pending",
                    available_at=now,
                )
            )
        if not stale_against:
            _remember_intent(parsed.tuid, steps, now)
        db.session.add(operation)
        new_ops[op_id] = operation
        results[index] = IngestResult(op_id, "accepted", operation)
    db.session.commit()
    return results


def _rejected(op_id: str, message: str) -> IngestResult:
    return IngestResult(op_id, "rejected", None, "invalid_operation", message)


def _newest_sent_order(tuids: set[str]) -> dict[str, datetime]:
    """Per device, the latest action time already sent (or being sent) to the platform."""
    if not tuids:
        return {}
    rows = db.session.execute(
        select(OutboxStep.tuid, func.max(OutboxStep.order_at))
        .where(OutboxStep.tuid.in_(tuids), OutboxStep.state.in_((STEP_LEASED, STEP_DONE)))
        .group_by(OutboxStep.tuid)
    )
    return {tuid: newest for tuid, newest in rows}


def _remember_intent(tuid: str, steps: list[Any], now: datetime) -> None:
    """Update the device cache with what the action will make true, marked as not yet confirmed."""
    for step in steps:
        if step.action == "copy_group":
            continue
        device = db.session.get(Device, step.tuid)
        if device is None:
            device = Device(tuid=step.tuid, device_type=device_type_for(step.tuid))
            db.session.add(device)
        if step.action == "set_status":
            device.status = step.value
        else:
            device.group_id = step.value
        device.source = "local"
        device.updated_at = now


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
    step_ops = select(OutboxStep.operation_id).where(OutboxStep.tuid == tuid)
    query = (
        select(Operation)
        .where((Operation.tuid == tuid) | Operation.id.in_(step_ops))
        .order_by(Operation.device_time.desc(), Operation.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
