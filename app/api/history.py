"""Install history for supervisors: the filtered table, its CSV export and one device's timeline."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar, Literal

from flask import Response, jsonify, stream_with_context
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.api.access import SUPERVISORS, require_roles
from app.api.serializers import cached_device_json, iso, operation_json
from app.database import utcnow
from app.errors import Unprocessable
from app.input_bounds import PageNumber, QueryTime, RowId
from app.models.operations import OPERATION_STATES
from app.models.verifications import VERIFICATION_STATES
from app.services import exports
from app.services.history import SORT_COLUMNS, HistoryRow, history_page
from app.services.history_filters import HistoryFilter
from app.services.operation_rules import KINDS, InvalidOperation
from app.services.paging import MAX_PAGE_SIZE, SortKey, parse_sort
from app.services.timeline import DeviceTimeline, TimelineEntry, device_timeline
from app.services.verifications import latest_for_device, verification_json

bp = APIBlueprint("history", __name__, url_prefix="/api", abp_tags=[Tag(name="history")])

# "2026-11-22T10:00:00 02:00": a "+" sent unencoded in a query string arrives as a space.
_LOST_PLUS = re.compile(r"(T\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$")


def _split(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


class ListQuery(BaseModel):
    """Paging and sorting, as in every list (design.md, API conventions)."""

    page: PageNumber = 0
    size: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
    sort: list[str] = Field(
        default_factory=list,
        description=f"`field,asc|desc`, repeatable; fields: {', '.join(SORT_COLUMNS)}",
    )
    cursor: str | None = Field(
        default=None,
        max_length=2000,
        description="`nextCursor` or `prevCursor` of a page with the same sort: the page beside "
        "it, read from there however deep (`page` is then only echoed as `number`)",
    )


class HistoryQuery(ListQuery):
    model_config = ConfigDict(populate_by_name=True)

    technician: str | None = Field(default=None, max_length=64, description="username")
    group: str | None = Field(default=None, max_length=64)
    action: list[str] = Field(default_factory=list, description="kinds, repeatable or a,b")
    state: list[str] = Field(default_factory=list, description="states, repeatable or a,b")
    date_from: QueryTime | None = Field(default=None, alias="from")
    date_to: QueryTime | None = Field(
        default=None, alias="to", description="a date includes that whole (UTC) day"
    )
    date_field: Literal["device_time", "received_at"] = "device_time"
    tuid: str | None = Field(default=None, max_length=64, description="any part of a TUID")
    bulk_job_id: RowId | None = None
    verification: list[str] = Field(
        default_factory=list,
        description="install verification states, repeatable or a,b: "
        + ", ".join(VERIFICATION_STATES),
    )

    EXTRA_STATES: ClassVar[tuple[str, ...]] = ()  # filter words a narrower list adds

    @field_validator("date_from", "date_to", mode="before")
    @classmethod
    def _restore_plus(cls, value: Any) -> Any:
        if isinstance(value, str):
            return _LOST_PLUS.sub(r"\1+\2", value.strip())
        return value

    @field_validator("action")
    @classmethod
    def _kinds(cls, value: list[str]) -> list[str]:
        kinds = _split(value)
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise ValueError(f"unknown action {unknown[0]!r}; use {', '.join(KINDS)}")
        return kinds

    @field_validator("verification")
    @classmethod
    def _verification(cls, value: list[str]) -> list[str]:
        states = _split(value)
        unknown = [s for s in states if s not in VERIFICATION_STATES]
        if unknown:
            raise ValueError(
                f"unknown verification {unknown[0]!r}; use {', '.join(VERIFICATION_STATES)}"
            )
        return states

    @field_validator("state")
    @classmethod
    def _states(cls, value: list[str]) -> list[str]:
        states = _split(value)
        known = (*OPERATION_STATES, *cls.EXTRA_STATES)
        unknown = [s for s in states if s not in known]
        if unknown:
            raise ValueError(f"unknown state {unknown[0]!r}; use {', '.join(known)}")
        return states


class HistoryPage(BaseModel):
    """One page of operations, in the list shape of docs/api.md."""

    items: list[dict[str, Any]] = Field(description="operations (docs/api.md: history item)")
    totalElements: int = Field(description="exact up to 10,000, else the database's estimate")
    totalExact: bool = Field(description="false when totalElements (and totalPages) is estimated")
    totalPages: int
    number: int = Field(description="the page asked for (with a cursor: echoed back)")
    size: int
    last: bool = Field(description="no rows follow (always exact)")
    nextCursor: str | None = Field(
        description="`cursor` for the next page; null on the last page and for a sort on synced_at"
    )
    prevCursor: str | None = Field(description="`cursor` for the previous page; null on the first")


class CsvQuery(HistoryQuery):
    bom: bool = Field(default=True, description="start with a UTF-8 byte order mark (for Excel)")


class TimelinePath(BaseModel):
    tuid: str = Field(max_length=64)


class TimelineQuery(BaseModel):
    limit: int = Field(default=1000, ge=1, le=5000)


def _start(value: datetime | date | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, UTC)


def _end(value: datetime | date | None) -> datetime | None:
    """Return the exclusive end: after the given instant, or after the whole given day."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value + timedelta(microseconds=1)
    return datetime.combine(value + timedelta(days=1), time.min, UTC)


def history_filter(query: HistoryQuery) -> HistoryFilter:
    """Turn validated query parameters into the service's filter."""
    start, end = _start(query.date_from), _end(query.date_to)
    if start and end and start >= end:
        raise Unprocessable("'from' must be before 'to'.", {"field": "from"})
    return HistoryFilter(
        technician=query.technician,
        group=query.group,
        kinds=query.action,
        states=query.state,
        date_from=start,
        date_to=end,
        date_field=query.date_field,
        tuid=query.tuid,
        bulk_job_id=query.bulk_job_id,
        verification=query.verification,
    )


def sort_keys(values: list[str]) -> list[SortKey]:
    """Parse `sort` parameters against the history's sortable fields."""
    return parse_sort(values, SORT_COLUMNS)


def history_row_json(row: HistoryRow) -> dict[str, Any]:
    """Serialise one history row."""
    return {
        "op_id": row.op_id,
        "kind": row.kind,
        "tuid": row.tuid,
        "device_type": row.device_type,
        "new_tuid": row.new_tuid,
        "args": row.args or {},
        "group": row.group,
        "state": row.state,
        "device_time": iso(row.device_time),
        "received_at": iso(row.received_at),
        "synced_at": iso(row.synced_at),
        "updated_at": iso(row.updated_at),
        "offline_delay_s": round(row.offline_delay_s, 1),
        "technician": {"username": row.username, "display_name": row.display_name},
        "seen": {"status": row.seen_status, "group": row.seen_group},
        "error": (
            {"code": row.error_code, "message": row.error_message} if row.error_message else None
        ),
        "platform": (
            {
                "outcome": row.platform.outcome,
                "http_status": row.platform.http_status,
                "message": row.platform.message,
                "at": iso(row.platform.at),
            }
            if row.platform
            else None
        ),
        "bulk_job_id": row.bulk_job_id,
        "verification": row.verification,
    }


@bp.get("/history", responses={200: HistoryPage})
@require_roles(*SUPERVISORS)
def list_history(query: HistoryQuery) -> Response:
    """Page through every operation, filtered and sorted."""
    page = history_page(
        history_filter(query), sort_keys(query.sort), query.page, query.size, query.cursor
    )
    return jsonify(page.json(history_row_json))


@bp.get("/history.csv")
@require_roles(*SUPERVISORS)
def export_history(query: CsvQuery) -> Response:
    """Stream exactly the filtered rows as CSV, without holding them in memory."""
    flt, sort = history_filter(query), sort_keys(query.sort)
    body = exports.history_csv(flt, sort, bom=query.bom)
    filename = exports.attachment_name("fieldhand-history", utcnow().date())
    return Response(
        stream_with_context(body),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _audit_json(entry: TimelineEntry) -> dict[str, Any]:
    event = entry.audit
    assert event is not None
    user = entry.audit_user
    return {
        "id": event.id,
        "at": iso(event.at),
        "action": event.action,
        "user": {"username": user.username, "display_name": user.display_name} if user else None,
        "reason": event.reason,
        "details": event.details,
    }


def _timeline_entry_json(entry: TimelineEntry) -> dict[str, Any]:
    if entry.audit is not None:
        return {"type": "audit", "at": iso(entry.at), "audit": _audit_json(entry)}
    assert entry.operation is not None
    operation = operation_json(entry.operation, with_steps=False)
    operation["steps"] = [
        {
            "step_no": item.step.step_no,
            "tuid": item.step.tuid,
            "action": item.step.action,
            "value": item.step.value,
            "state": item.step.state,
            "attempts": item.step.attempts,
            "result": item.step.result,
            "last_error": item.step.last_error,
            "completed_at": iso(item.step.completed_at),
            "sync_attempts": [
                {
                    "attempt_no": a.attempt_no,
                    "worker": a.worker,
                    "started_at": iso(a.started_at),
                    "finished_at": iso(a.finished_at),
                    "outcome": a.outcome,
                    "http_status": a.http_status,
                    "message": a.message,
                }
                for a in item.attempts
            ],
        }
        for item in entry.steps
    ]
    return {"type": "operation", "at": iso(entry.at), "operation": operation}


def timeline_json(timeline: DeviceTimeline) -> dict[str, Any]:
    """Serialise a device timeline."""
    return {
        "tuid": timeline.tuid,
        "device_type": timeline.device_type,
        "local": cached_device_json(timeline.local),
        "events": [_timeline_entry_json(e) for e in timeline.entries],
        "truncated": timeline.truncated,
        "verification": verification_json(latest_for_device(timeline.tuid)),
    }


@bp.get("/history/devices/<tuid>")
@require_roles(*SUPERVISORS)
def device_history(path: TimelinePath, query: TimelineQuery) -> Response:
    """Return everything that happened to one device, oldest first."""
    try:
        timeline = device_timeline(path.tuid, query.limit)
    except InvalidOperation as exc:
        raise Unprocessable(str(exc), {"field": "tuid"}) from exc
    return jsonify(timeline_json(timeline))
