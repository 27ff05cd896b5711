"""One device's timeline for supervisors: every operation that touched it, with each step and
sync attempt, and the audit events about it, oldest first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import CompoundSelect, or_, select, union

from app.database import db
from app.labels.device_types import device_type_for
from app.models.audit import AuditEvent
from app.models.devices import Device
from app.models.operations import Operation, OutboxStep, SyncAttempt
from app.models.users import User
from app.services.operation_rules import normalise_tuid


def operations_touching(tuid: str) -> CompoundSelect[Any]:
    """Return the ids of operations that touched a device: as their target, or as a step's.

    A UNION of two index lookups rather than `tuid = x OR id IN (...)`, which PostgreSQL can
    only answer by reading every operation.
    """
    return union(
        select(Operation.id).where(Operation.tuid == tuid),
        select(OutboxStep.operation_id).where(OutboxStep.tuid == tuid),
    )


@dataclass
class TimelineStep:
    step: OutboxStep
    attempts: list[SyncAttempt] = field(default_factory=list)


@dataclass
class TimelineEntry:
    at: datetime
    operation: Operation | None = None
    steps: list[TimelineStep] = field(default_factory=list)
    audit: AuditEvent | None = None
    audit_user: User | None = None


@dataclass
class DeviceTimeline:
    tuid: str
    device_type: str
    local: Device | None
    entries: list[TimelineEntry]
    truncated: bool


def device_timeline(raw_tuid: str, limit: int = 1000) -> DeviceTimeline:
    """Return every operation that touched the device and its audit events, oldest first."""
    tuid = normalise_tuid(raw_tuid)
    operations = list(
        db.session.scalars(
            select(Operation)
            .where(Operation.id.in_(operations_touching(tuid)))
            .order_by(Operation.device_time.desc(), Operation.id.desc())
            .limit(limit + 1)
        )
    )
    truncated = len(operations) > limit
    operations = list(reversed(operations[:limit]))
    op_ids = [op.id for op in operations]
    attempts: dict[int, list[SyncAttempt]] = {}
    if op_ids:
        for attempt in db.session.scalars(
            select(SyncAttempt)
            .where(SyncAttempt.operation_id.in_(op_ids))
            .order_by(SyncAttempt.started_at, SyncAttempt.id)
        ):
            attempts.setdefault(attempt.step_id, []).append(attempt)
    entries = [
        TimelineEntry(
            at=op.device_time,
            operation=op,
            steps=[TimelineStep(s, attempts.get(s.id, [])) for s in op.steps],
        )
        for op in operations
    ]
    audit_filter = AuditEvent.tuid == tuid
    if op_ids:
        audit_filter = or_(audit_filter, AuditEvent.operation_id.in_(op_ids))
    for event, user in db.session.execute(
        select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.user_id)
        .where(audit_filter)
        .order_by(AuditEvent.at, AuditEvent.id)
    ):
        entries.append(TimelineEntry(at=event.at, audit=event, audit_user=user))
    # Stable: an audit event at the same instant as an operation comes after it.
    entries.sort(key=lambda e: e.at)
    return DeviceTimeline(
        tuid=tuid,
        device_type=device_type_for(tuid),
        local=db.session.get(Device, tuid),
        entries=entries,
        truncated=truncated,
    )
