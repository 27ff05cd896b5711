"""Install history for supervisors: filtered, sorted, paged rows and the CSV stream.

A row is read as plain columns with everything it shows joined in (the technician, the
replacement's copied group, the platform's last answer), so the CSV export streams any number
of rows in one query and bounded memory. A page reads its ids first, from the sort's columns
alone, then the rows for those ids: deep pages skip index entries, not whole rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Label, Select, and_, func, select, true
from sqlalchemy.orm import aliased

from app.database import db
from app.labels.device_types import device_type_for
from app.models.operations import Operation, OutboxStep, SyncAttempt
from app.models.users import User
from app.models.verifications import InstallVerification
from app.services import paging
from app.services.history_filters import (
    HistoryFilter,
    count_matching,
    matching,
    matching_counted,
    narrowed,
)
from app.services.paging import (
    Cursor,
    Page,
    SortKey,
    beyond,
    decode_cursor,
    encode_cursor,
    order_by,
    pages_by_cursor,
    stream_rows,
)

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


@dataclass
class PlatformAnswer:
    outcome: str
    http_status: int | None
    message: str | None
    at: datetime


@dataclass(slots=True)
class HistoryRow:
    """One operation as the history table and the CSV show it."""

    id: int
    op_id: str
    kind: str
    tuid: str
    target_group: str | None  # the action's group_id argument
    new_tuid: str | None  # a replacement's new device
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
    verification: str | None = None  # install verification: waiting, verified, silent...
    args: dict[str, Any] | None = None  # read for the API's rows; the CSV needs none of it

    @property
    def device_type(self) -> str:
        return device_type_for(self.tuid)

    @property
    def group(self) -> str | None:
        """The group the action put the device in, else the one the technician saw it in."""
        return self.target_group or self.copied_group or self.seen_group

    @property
    def offline_delay_s(self) -> float:
        return max(0.0, (self.received_at - self.device_time).total_seconds())

    @property
    def platform_message(self) -> str | None:
        if self.error_message:
            return self.error_message
        return self.platform.message if self.platform else None


_OPERATION_COLUMNS = (
    Operation.id,
    Operation.op_id,
    Operation.kind,
    Operation.tuid,
    # Two arguments read by the database: parsing every row's JSON would cost the CSV a fifth
    # of its time.
    Operation.args["group_id"].as_string(),
    Operation.args["new_tuid"].as_string(),
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


@lru_cache(maxsize=8)
def _row_select_for(dialect: str, with_args: bool) -> Select[Any]:
    copy_step = aliased(OutboxStep, name="copy_step")
    if dialect == "postgresql":
        # One index probe per row for the newest attempt; a join on "id = (SELECT max(id) ...)"
        # costs PostgreSQL twice as much when a whole history streams out.
        joined: Any = (
            select(
                SyncAttempt.outcome,
                SyncAttempt.http_status,
                SyncAttempt.message,
                SyncAttempt.finished_at,
            )
            .where(SyncAttempt.operation_id == Operation.id)
            .order_by(SyncAttempt.id.desc())
            .limit(1)
            .lateral("last_attempt")
        )
        last, on_last = joined.c, true()
    else:
        joined = last = aliased(SyncAttempt, name="last_attempt")
        newest = (
            select(func.max(SyncAttempt.id))
            .where(SyncAttempt.operation_id == Operation.id)
            .scalar_subquery()
        )
        on_last = last.id == newest
    # By position, in HistoryRow's field order: building rows is the CSV's hot path.
    return (
        select(
            *_OPERATION_COLUMNS,
            copy_step.result,
            last.outcome,
            last.http_status,
            last.message,
            last.finished_at,
            InstallVerification.state,
            *([Operation.args] if with_args else []),
        )
        .join(User, User.id == Operation.user_id)
        # A replacement has exactly one copy_group step (operation_rules.plan_steps).
        .outerjoin(
            copy_step,
            and_(copy_step.operation_id == Operation.id, copy_step.action == "copy_group"),
        )
        .outerjoin(joined, on_last)
        # At most one per operation (unique): a probe of its index.
        .outerjoin(InstallVerification, InstallVerification.operation_id == Operation.id)
    )


def _row_select(with_args: bool = False) -> Select[Any]:
    """Every column a history row shows, with the replacement's copied group and the platform's
    last answer (the newest sync attempt) joined in, so any number of rows stream in one query.
    """
    return _row_select_for(db.session.get_bind().dialect.name, with_args)


_BASE = len(_OPERATION_COLUMNS) + 1  # and the copied group


def _history_row(row: Any) -> HistoryRow:
    item = HistoryRow(*row[:_BASE])
    outcome, http_status, message, at = row[_BASE : _BASE + 4]
    if outcome is not None:
        item.platform = PlatformAnswer(outcome, http_status, message, at)
    item.verification = row[_BASE + 4]
    if len(row) > _BASE + 5:
        item.args = row[_BASE + 5]
    return item


def filtered_query(flt: HistoryFilter) -> Select[Any]:
    """Return the SELECT of history row columns matching the filter (unordered)."""
    return narrowed(_row_select(), flt)


def sorted_rows(flt: HistoryFilter, sort: Sequence[SortKey]) -> Select[Any]:
    """Return the SELECT of history row columns matching the filter, in the sort's order."""
    return order_by(filtered_query(flt), sort or DEFAULT_SORT, SORT_COLUMNS, Operation.id)


def _column(query: Select[Any], name: str) -> Any:
    column = query.selected_columns[name]
    return column.element if isinstance(column, Label) else column


def history_page(
    flt: HistoryFilter,
    sort: Sequence[SortKey],
    page: int,
    size: int,
    cursor: str | None = None,
) -> Page[HistoryRow]:
    """Return one page of the filtered history: page `page`, or the one beside a cursor."""
    keys: list[SortKey] = []
    for key in sort or DEFAULT_SORT:
        if all(k.field != key.field for k in keys):  # a second mention changes no order
            keys.append(key)
    columns_wanted = [
        Operation.id.label("id"),
        *(SORT_COLUMNS[k.field].label(k.field) for k in keys),
    ]
    with_users = any(k.field == "technician" for k in keys)
    found: list[Any] | None = None
    rows: list[Any] = []
    position = None
    counted = matching_counted(columns_wanted, flt, with_users=with_users)
    if counted is not None:  # count and page in one reading of the ways of matching
        query, position = _page_query(counted, keys, page, size, cursor)
        rows = list(db.session.execute(query.limit(size + 1)))
        if rows and rows[0].ways_rows <= paging.COUNT_EXACT_UP_TO:
            total, exact = int(rows[0].matched), True
            found = [row[: 1 + len(keys)] for row in rows]
        elif not rows and page == 0 and position is None:
            total, exact, found = 0, True, []  # nothing matches
    if found is None:
        past_bound = int(rows[0].matched) if rows else None
        total, exact = count_matching(flt, past_bound)
        ids = matching(columns_wanted, flt, with_users=with_users, many=not exact)
        query, position = _page_query(ids, keys, page, size, cursor)
        found = list(db.session.execute(query.limit(size + 1)))
    more = len(found) > size
    found = found[:size]
    backward = position is not None and position.before
    if backward:
        if not more and len(found) < size:
            return history_page(flt, keys, 0, size)  # back at the start: a full first page
        found.reverse()
    has_next = True if backward else more
    has_prev = more if backward else (position is not None or page > 0)
    result = Page(
        _rows_by_id([row[0] for row in found]),
        total,
        page,
        size,
        total_exact=exact,
        has_next=has_next,
        cursors=True,
    )
    if found and pages_by_cursor(keys, SORT_COLUMNS):
        first, last = ((*row[1:], row[0]) for row in (found[0], found[-1]))
        result.prev_cursor = encode_cursor(keys, first, before=True) if has_prev else None
        result.next_cursor = encode_cursor(keys, last, before=False) if has_next else None
    return result


def _page_query(
    ids: Select[Any], keys: Sequence[SortKey], page: int, size: int, cursor: str | None
) -> tuple[Select[Any], Cursor | None]:
    """Order the matching ids for page `page`, or for the page beside a cursor."""
    columns = {k.field: _column(ids, k.field) for k in keys}
    tiebreak = _column(ids, "id")
    position = decode_cursor(cursor, keys, columns, tiebreak) if cursor else None
    if position is None:
        return order_by(ids, keys, columns, tiebreak).offset(page * size), None
    query = order_by(
        ids.where(beyond(position, keys, columns, tiebreak)),
        keys,
        columns,
        tiebreak,
        reverse=position.before,
    )
    return query, position


def _rows_by_id(ids: Sequence[int]) -> list[HistoryRow]:
    """Return history rows for these operation ids, in the order given."""
    if not ids:
        return []
    found = db.session.execute(_row_select(with_args=True).where(Operation.id.in_(list(ids))))
    by_id = {row.id: _history_row(row) for row in found}
    return [by_id[i] for i in ids if i in by_id]


def iter_history(
    flt: HistoryFilter, sort: Sequence[SortKey], chunk: int = EXPORT_CHUNK
) -> Iterator[list[HistoryRow]]:
    """Yield the filtered history in chunks, streamed from the database in bounded memory."""
    for rows in stream_rows(sorted_rows(flt, sort), chunk):
        yield [_history_row(row) for row in rows]
