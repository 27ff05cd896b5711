"""Ingest technician operations idempotently and answer questions about their state.

One call ingests a batch in one transaction: the operation rows, their outbox steps and the
device cache commit together (transactional outbox). A repeated op_id returns the stored row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.database import db, is_transient_error, utcnow
from app.input_bounds import DeviceTime
from app.models.operations import (
    ACCEPTED,
    CONFLICT,
    STEP_DONE,
    STEP_HELD,
    STEP_LEASED,
    STEP_PENDING,
    Operation,
    OutboxStep,
)
from app.models.users import User
from app.services.operation_plans import InvalidOperation, normalise_tuid, plan_steps
from app.services.timeline import operations_touching
from app.services.undo import UNDO, UndoRefused, UndoRequest, UndoTarget, plan_undo
from app.sync.device_cache import SOURCE_LOCAL, remember_devices

# A phone clock this far ahead of ours is wrong; order its actions by arrival instead.
CLOCK_SKEW_TOLERANCE = timedelta(minutes=5)
TRANSIENT_DB_RETRIES = 3


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
    for attempt in range(1, TRANSIENT_DB_RETRIES + 1):
        try:
            return _ingest_once(items, user)
        except IntegrityError:
            # Another request stored some of the same op_ids between our check and our insert;
            # run again so those become duplicates.
            db.session.rollback()
            return _ingest_once(items, user)
        except DBAPIError as exc:
            # A deadlock, serialization failure or lost connection rolled the whole batch back:
            # running it again is safe (op_ids make it idempotent).
            db.session.rollback()
            if not is_transient_error(exc) or attempt == TRANSIENT_DB_RETRIES:
                raise
    raise AssertionError("unreachable")


def _ingest_once(items: list[Any], user: User) -> list[IngestResult]:
    now = utcnow()
    results: list[IngestResult] = []
    valid: list[tuple[int, OperationIn, dict[str, Any], list[Any]]] = []
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
        valid.append((index, parsed, args, steps))

    op_ids = [str(parsed.op_id) for _, parsed, _, _ in valid] + [
        str(parsed.op_id) for _, parsed in undos
    ]
    existing = (
        {
            op.op_id: op
            for op in db.session.scalars(select(Operation).where(Operation.op_id.in_(op_ids)))
        }
        if op_ids
        else {}
    )
    valid += _plan_undos(undos, valid, existing, user, results)

    tuids = {step.tuid for _, _, _, steps in valid for step in steps}
    newest_sent = newest_sent_order(tuids)
    op_rows: list[dict[str, Any]] = []
    planned: dict[str, list[Any]] = {}
    intents: dict[str, dict[str, str]] = {}
    accepted_index: dict[str, int] = {}
    for index, parsed, args, steps in sorted(valid, key=lambda v: v[1].device_time):
        op_id = str(parsed.op_id)
        stored = existing.get(op_id)
        if stored is not None:
            results[index] = IngestResult(op_id, "duplicate", stored)
            continue
        if op_id in accepted_index:
            results[index] = IngestResult(op_id, "duplicate")  # operation filled in below
            continue
        device_time_plausible = parsed.device_time <= now + CLOCK_SKEW_TOLERANCE
        order_at = parsed.device_time if device_time_plausible else now
        stale_against = [
            newest_sent[s.tuid]
            for s in steps
            if s.tuid in newest_sent and newest_sent[s.tuid] > order_at
        ]
        row: dict[str, Any] = {
            "op_id": op_id,
            "kind": parsed.kind,
            "tuid": parsed.tuid,
            "args": args,
            "user_id": user.id,
            "device_time": parsed.device_time,
            "received_at": now,
            "updated_at": now,
            "seen_status": parsed.seen.status,
            "seen_group": parsed.seen.group,
            "state": ACCEPTED,
            "error_code": None,
            "error_message": None,
        }
        if stale_against:
            row.update(
                state=CONFLICT,
                error_code="out_of_order",
                error_message=held_message(max(stale_against), "older action"),
            )
        else:
            _collect_intent(intents, steps)
        op_rows.append(row)
        planned[op_id] = [
            (step, order_at, STEP_HELD if stale_against else STEP_PENDING) for step in steps
        ]
        accepted_index[op_id] = index
    if op_rows:
        connection = db.session.connection()
        ids = {
            r.op_id: r.id
            for r in connection.execute(
                Operation.__table__.insert().returning(
                    Operation.__table__.c.id, Operation.__table__.c.op_id
                ),
                op_rows,
            )
        }
        step_rows = [
            {
                "operation_id": ids[op_id],
                "step_no": step_no,
                "tuid": step.tuid,
                "action": step.action,
                "value": step.value,
                "order_at": order_at,
                "state": state,
                "available_at": now,
                "attempts": 0,
                "outcome_uncertain": False,
            }
            for op_id, steps in planned.items()
            for step_no, (step, order_at, state) in enumerate(steps)
        ]
        connection.execute(OutboxStep.__table__.insert(), step_rows)
        _remember_intents(intents, now)
    db.session.commit()
    # Answer from what we just wrote rather than reading it back: this is the hot path.
    views = {row["op_id"]: _stored_view(row, ids[row["op_id"]], user, planned) for row in op_rows}
    for index, result in enumerate(results):
        if result.op_id in views and result.operation is None:
            kind = "accepted" if accepted_index.get(result.op_id) == index else "duplicate"
            results[index] = IngestResult(result.op_id, kind, views[result.op_id])
    return results


def _stored_view(row: dict[str, Any], op_pk: int, user: User, planned: dict[str, list[Any]]) -> Any:
    """An object shaped like the stored Operation (same attributes), built without a query."""
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
        for step, _order_at, state in planned[row["op_id"]]
    ]
    return SimpleNamespace(
        id=op_pk,
        **row,
        synced_at=None,
        bulk_job_id=None,
        user=user,
        steps=steps,
        offline_delay_s=max(0.0, (row["received_at"] - row["device_time"]).total_seconds()),
    )


def _rejected(op_id: str, message: str, code: str = "invalid_operation") -> IngestResult:
    return IngestResult(op_id, "rejected", None, code, message)


def _plan_undos(
    undos: list[tuple[int, OperationIn]],
    valid: list[tuple[int, OperationIn, dict[str, Any], list[Any]]],
    existing: dict[str, Operation],
    user: User,
    results: list[IngestResult],
) -> list[tuple[int, OperationIn, dict[str, Any], list[Any]]]:
    """Plan the batch's undos (app.services.undo); a refused one becomes a rejected result."""
    batch = [
        UndoTarget(
            str(p.op_id),
            p.kind,
            p.tuid,
            user.id,
            p.device_time,
            p.seen.status,
            p.seen.group,
            tuple(steps),
        )
        for _, p, _, steps in valid
    ]
    planned: list[tuple[int, OperationIn, dict[str, Any], list[Any]]] = []
    for index, parsed in undos:
        if str(parsed.op_id) in existing:  # a repeat: answered from the stored row
            planned.append((index, parsed, {}, []))
            continue
        try:
            args, steps = plan_undo(
                UndoRequest(parsed.tuid, parsed.args, parsed.device_time), user, batch
            )
        except UndoRefused as exc:
            results[index] = _rejected(str(parsed.op_id), str(exc), UndoRefused.code)
            continue
        except InvalidOperation as exc:
            results[index] = _rejected(str(parsed.op_id), str(exc))
            continue
        planned.append((index, parsed, args, steps))
        # A second undo of the same action in this batch finds this one newer and is refused.
        batch.append(
            UndoTarget(
                str(parsed.op_id),
                UNDO,
                parsed.tuid,
                user.id,
                parsed.device_time,
                parsed.seen.status,
                parsed.seen.group,
                tuple(steps),
            )
        )
    return planned


def held_message(newest_sent: datetime, what: str) -> str:
    """Why an action was held as a conflict instead of sent (shown in the supervisor's inbox)."""
    return (
        "A later action on this device reached the platform first "
        f"(performed {newest_sent.isoformat(timespec='seconds')}). This {what} was held so it "
        "does not undo it; a supervisor can apply or discard it."
    )


def newest_sent_order(tuids: set[str]) -> dict[str, datetime]:
    """Per device, the latest action time already sent (or being sent) to the platform."""
    if not tuids:
        return {}
    rows = db.session.execute(
        select(OutboxStep.tuid, func.max(OutboxStep.order_at))
        .where(OutboxStep.tuid.in_(tuids), OutboxStep.state.in_((STEP_LEASED, STEP_DONE)))
        .group_by(OutboxStep.tuid)
    )
    return {tuid: newest for tuid, newest in rows}


def _collect_intent(intents: dict[str, dict[str, str]], steps: list[Any]) -> None:
    """Fold what these steps will make true into the per-device intent (later wins)."""
    for step in steps:
        if step.action == "set_status":
            intents.setdefault(step.tuid, {})["status"] = step.value
        elif step.action == "set_group":
            intents.setdefault(step.tuid, {})["group_id"] = step.value


def _remember_intents(intents: dict[str, dict[str, str]], now: datetime) -> None:
    """Update the device cache with what the actions will make true, marked not yet confirmed."""
    # One upsert in TUID order, as the worker and bulk confirm do (app.sync.device_cache).
    remember_devices(db.session(), intents, source=SOURCE_LOCAL, now=now)


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
