"""Install history for supervisors: filtered, sorted, paged rows, the CSV stream, device timelines.

Rows are read as plain columns, not ORM objects, so the CSV export can stream any number of them
through a server-side cursor in bounded memory; the few extras a row needs (the replacement's
copied group, the platform's last answer) are fetched once per chunk.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select

from app.database import db
from app.labels.device_types import device_type_for
from app.models.audit import AuditEvent
from app.models.devices import Device
from app.models.operations import STEP_PENDING, SYNCING, Operation, OutboxStep, SyncAttempt
from app.models.users import User
from app.services.operation_plans import normalise_tuid
from app.services.paging import Page, SortKey, count, order_by

DATE_FIELDS = ("device_time", "received_at")
SORT_COLUMNS = {
    "device_time": Operation.device_time,
    "received_at": Operation.received_at,
    "synced_at": Operation.synced_at,
    "updated_at": Operation.updated_at,
    "tuid": Operation.tuid,
    "kind": Operation.kind,
    "action": Operation.kind,
    "state": Operation.state,
    "technician": User.username,
}
DEFAULT_SORT = (SortKey("device_time", True),)
EXPORT_CHUNK = 1000
# One 429 or a short outage is retried away unnoticed; this many failed tries in a row is worth
# a supervisor's look (the platform may be down, or this device's calls keep failing).
STILL_RETRYING_AFTER_ATTEMPTS = 3


def still_retrying() -> ColumnElement[bool]:
    """Operations the worker keeps retrying: a waiting step has failed this many times."""
    stuck_step = select(OutboxStep.id).where(
        OutboxStep.operation_id == Operation.id,
        OutboxStep.state == STEP_PENDING,
        OutboxStep.attempts >= STILL_RETRYING_AFTER_ATTEMPTS,
    )
    return and_(Operation.state == SYNCING, Operation.error_code == "retrying", exists(stuck_step))


@dataclass
class HistoryFilter:
    """What the supervisor narrowed the history down to; empty fields do not filter."""

    technician: str | None = None  # username, case-insensitive
    group: str | None = None
    kinds: Sequence[str] = ()
    states: Sequence[str] = ()
    date_from: datetime | None = None  # inclusive
    date_to: datetime | None = None  # exclusive
    date_field: str = "device_time"
    tuid: str | None = None  # case-insensitive substring of the device or the replacement
    bulk_job_id: int | None = None
    still_retrying: bool = False  # also operations the worker keeps retrying (beside `states`)


@dataclass
class PlatformAnswer:
    outcome: str
    http_status: int | None
    message: str | None
    at: datetime


@dataclass
class HistoryRow:
    """One operation as the history table and the CSV show it."""

    id: int
    op_id: str
    kind: str
    tuid: str
    args: dict[str, Any]
    state: str
    device_time: datetime
    received_at: datetime
    synced_at: datetime | None
    updated_at: datetime
    seen_status: str | None
    seen_group: str | None
    error_code: str | None
    error_message: str | None
    bulk_job_id: int | None
    username: str
    display_name: str
    copied_group: str | None = None
    platform: PlatformAnswer | None = None

    @property
    def device_type(self) -> str:
        return device_type_for(self.tuid)

    @property
    def new_tuid(self) -> str | None:
        value = self.args.get("new_tuid")
        return str(value) if value else None

    @property
    def group(self) -> str | None:
        """The group the action put the device in, else the one the technician saw it in."""
        target = self.args.get("group_id")
        if target:
            return str(target)
        return self.copied_group or self.seen_group

    @property
    def offline_delay_s(self) -> float:
        return max(0.0, (self.received_at - self.device_time).total_seconds())

    @property
    def platform_message(self) -> str | None:
        if self.error_message:
            return self.error_message
        return self.platform.message if self.platform else None


_ROW_COLUMNS = (
    Operation.id,
    Operation.op_id,
    Operation.kind,
    Operation.tuid,
    Operation.args,
    Operation.state,
    Operation.device_time,
    Operation.received_at,
    Operation.synced_at,
    Operation.updated_at,
    Operation.seen_status,
    Operation.seen_group,
    Operation.error_code,
    Operation.error_message,
    Operation.bulk_job_id,
    User.username,
    User.display_name,
)


def _tuid_fragment(raw: str) -> str:
    # TUIDs are stored uppercase letters and digits; anything else cannot match.
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def filtered_query(flt: HistoryFilter) -> Select[Any]:
    """Return the SELECT of history row columns matching the filter (unordered)."""
    query = select(*_ROW_COLUMNS).join(User, User.id == Operation.user_id)
    if flt.technician:
        query = query.where(func.lower(User.username) == flt.technician.strip().lower())
    if flt.kinds:
        query = query.where(Operation.kind.in_(list(flt.kinds)))
    if flt.states or flt.still_retrying:
        wanted: list[ColumnElement[bool]] = (
            [Operation.state.in_(list(flt.states))] if flt.states else []
        )
        if flt.still_retrying:
            wanted.append(still_retrying())
        query = query.where(or_(*wanted))
    if flt.bulk_job_id is not None:
        query = query.where(Operation.bulk_job_id == flt.bulk_job_id)
    date_column = (
        Operation.received_at if flt.date_field == "received_at" else Operation.device_time
    )
    if flt.date_from is not None:
        query = query.where(date_column >= flt.date_from)
    if flt.date_to is not None:
        query = query.where(date_column < flt.date_to)
    if flt.group:
        group = flt.group.strip().lower()
        into_group = select(OutboxStep.operation_id).where(
            or_(
                and_(OutboxStep.action == "set_group", OutboxStep.value == group),
                and_(OutboxStep.action == "copy_group", OutboxStep.result == group),
            )
        )
        query = query.where(or_(Operation.seen_group == group, Operation.id.in_(into_group)))
    if flt.tuid:
        fragment = _tuid_fragment(flt.tuid)
        if not fragment:
            return query.where(false())  # nothing a TUID could contain
        touched = select(OutboxStep.operation_id).where(
            OutboxStep.tuid.contains(fragment, autoescape=True)
        )
        query = query.where(
            or_(Operation.tuid.contains(fragment, autoescape=True), Operation.id.in_(touched))
        )
    return query


def _sorted(flt: HistoryFilter, sort: Sequence[SortKey]) -> Select[Any]:
    return order_by(filtered_query(flt), sort or DEFAULT_SORT, SORT_COLUMNS, Operation.id)


def _rows(raw_rows: Sequence[Any]) -> list[HistoryRow]:
    """Build rows for one chunk, with the replacement groups and the platform's last answers."""
    rows = [HistoryRow(**row._mapping) for row in raw_rows]
    if not rows:
        return rows
    ids = [r.id for r in rows]
    replaced = [r.id for r in rows if r.kind == "replace"]
    copied: dict[int, str | None] = {}
    if replaced:
        found = db.session.execute(
            select(OutboxStep.operation_id, OutboxStep.result).where(
                OutboxStep.operation_id.in_(replaced), OutboxStep.action == "copy_group"
            )
        )
        copied = {operation_id: result for operation_id, result in found}
    answers = last_platform_answers(ids)
    for row in rows:
        row.copied_group = copied.get(row.id)
        row.platform = answers.get(row.id)
    return rows


def last_platform_answers(operation_ids: Sequence[int]) -> dict[int, PlatformAnswer]:
    """Return the newest sync attempt of each operation, as the platform's last answer."""
    if not operation_ids:
        return {}
    newest = (
        select(func.max(SyncAttempt.id))
        .where(SyncAttempt.operation_id.in_(list(operation_ids)))
        .group_by(SyncAttempt.operation_id)
    )
    result = db.session.execute(
        select(
            SyncAttempt.operation_id,
            SyncAttempt.outcome,
            SyncAttempt.http_status,
            SyncAttempt.message,
            SyncAttempt.finished_at,
        ).where(SyncAttempt.id.in_(newest))
    )
    return {
        r.operation_id: PlatformAnswer(r.outcome, r.http_status, r.message, r.finished_at)
        for r in result
    }


def history_page(
    flt: HistoryFilter, sort: Sequence[SortKey], page: int, size: int
) -> Page[HistoryRow]:
    """Return one page of the filtered history."""
    total = count(filtered_query(flt))
    raw = db.session.execute(_sorted(flt, sort).offset(page * size).limit(size)).all()
    return Page(_rows(raw), total, page, size)


def iter_history(
    flt: HistoryFilter, sort: Sequence[SortKey], chunk: int = EXPORT_CHUNK
) -> Iterator[list[HistoryRow]]:
    """Yield the filtered history in chunks, reading through a server-side cursor."""
    # stream_results asks PostgreSQL for a named cursor; yield_per bounds rows held in Python.
    result = db.session.execute(
        _sorted(flt, sort).execution_options(stream_results=True, yield_per=chunk)
    )
    try:
        for partition in result.partitions(chunk):
            yield _rows(partition)
    finally:
        result.close()


# --- device timeline ---------------------------------------------------------------------------


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
    touched = select(OutboxStep.operation_id).where(OutboxStep.tuid == tuid)
    operations = list(
        db.session.scalars(
            select(Operation)
            .where(or_(Operation.tuid == tuid, Operation.id.in_(touched)))
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
