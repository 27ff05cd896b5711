"""Paged, sorted lists the way every list endpoint answers (design.md, API conventions).

`sort` values follow the seed's conventions: `field,asc`, `field desc`, `a,b asc` (both fields
ascending) or a bare `field`. A bare field sorts descending, as the seed documents.

Large lists page two ways. A page number reads past `page * size` rows (cheap for the first
pages, costly thousands of pages in); a cursor names the row a page ends at, so the next or
previous page starts right there through the sort's index, however deep (keyset paging). Their
totals are exact up to COUNT_EXACT_UP_TO rows; past that the database's estimate is given and
`totalExact` is false, because counting a million rows costs more than the page itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Generic, TypeVar, TypeVarTuple

from sqlalchemy import ColumnElement, Select, TypeDecorator, and_, func, or_, select

from app.database import db
from app.errors import Unprocessable
from app.input_bounds import in_datetime_range, in_id_range

T = TypeVar("T")
U = TypeVar("U")
Ts = TypeVarTuple("Ts")

MAX_PAGE_SIZE = 500
DIRECTIONS = ("asc", "desc")
COUNT_EXACT_UP_TO = 10_000


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool


@dataclass
class Page(Generic[T]):
    """One page of a list plus what the client needs to page on."""

    items: list[T]
    total: int
    number: int
    size: int
    total_exact: bool = True
    has_next: bool | None = None  # known from reading one row more; else from the total
    cursors: bool = False  # the list also pages by cursor
    next_cursor: str | None = None
    prev_cursor: str | None = None

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total / self.size) if self.size else 0

    @property
    def last(self) -> bool:
        if self.has_next is not None:
            return not self.has_next
        return (self.number + 1) * self.size >= self.total

    def map(self, serialise: Callable[[T], U]) -> Page[U]:
        """Return the same page with each item serialised."""
        items = [serialise(item) for item in self.items]
        return Page(items, **{f: getattr(self, f) for f in _PAGE_FIELDS})

    def json(self, serialise: Callable[[T], Any] | None = None) -> dict[str, Any]:
        """Return the page in the list shape of the API conventions."""
        items = [serialise(i) for i in self.items] if serialise else list(self.items)
        body = {
            "items": items,
            "totalElements": self.total,
            "totalExact": self.total_exact,
            "totalPages": self.total_pages,
            "number": self.number,
            "size": self.size,
            "last": self.last,
        }
        if self.cursors:
            body.update(nextCursor=self.next_cursor, prevCursor=self.prev_cursor)
        return body


_PAGE_FIELDS = [f.name for f in fields(Page) if f.name != "items"]


def parse_sort(values: Iterable[str], allowed: Iterable[str]) -> list[SortKey]:
    """Turn `sort` query values into sort keys; raise Unprocessable on an unknown field.

    A field named again adds nothing to the order (the first mention decides), so it is
    dropped: there are never more keys than sortable fields.
    """
    allowed = tuple(allowed)
    keys: list[SortKey] = []
    named: set[str] = set()
    for raw in values:
        text = raw.strip()
        if not text:
            continue
        direction = "desc"
        head, _, tail = text.rpartition(" ")
        if head and tail.lower() in DIRECTIONS:
            text, direction = head, tail.lower()
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if len(parts) > 1 and parts[-1].lower() in DIRECTIONS:
            direction = parts.pop().lower()
        for field in parts:
            if field not in allowed:
                raise Unprocessable(
                    f"Cannot sort by '{field}'; use one of {', '.join(allowed)}.",
                    {"field": "sort", "allowed": list(allowed)},
                )
            if field not in named:
                named.add(field)
                keys.append(SortKey(field, direction == "desc"))
    return keys


def _ordered(keys: Sequence[SortKey], columns: Mapping[str, Any], tiebreak: Any) -> list[Any]:
    """The sort's columns with their directions, ending in the unique tiebreak."""
    last_desc = keys[-1].descending if keys else True
    return [(columns[k.field], k.descending) for k in keys] + [(tiebreak, last_desc)]


def order_by(
    query: Select[*Ts],
    keys: Sequence[SortKey],
    columns: Mapping[str, Any],
    tiebreak: Any,
    *,
    reverse: bool = False,
) -> Select[*Ts]:
    """Apply sort keys, then a unique tiebreak so pages never overlap or skip rows."""
    return query.order_by(
        *(
            column.desc() if descending != reverse else column.asc()
            for column, descending in _ordered(keys, columns, tiebreak)
        )
    )


def count(query: Select[Any]) -> int:
    """Return how many rows the (unordered) query selects."""
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    return int(db.session.scalar(counted) or 0)


def bounded_count(query: Select[Any], *, distinct: bool = False) -> tuple[int, bool]:
    """Return how many rows the query selects and whether that is exact.

    Exact up to COUNT_EXACT_UP_TO (counting stops there); beyond, PostgreSQL's planner estimate
    (never below what was counted). SQLite has no estimate and counts on. `distinct` counts the
    distinct values of the query's first column instead of its rows.
    """
    query = query.order_by(None)
    cap = COUNT_EXACT_UP_TO
    limited = query.limit(cap + 1).subquery()
    first = limited.c[0]
    counted = func.count(first.distinct()) if distinct else func.count()
    rows, found = db.session.execute(select(func.count(), counted).select_from(limited)).one()
    if rows <= cap:
        return int(found), True
    return past_the_bound(query, int(found), distinct=distinct)


def past_the_bound(query: Select[Any], found: int, *, distinct: bool = False) -> tuple[int, bool]:
    """bounded_count() for a query already seen to select more than COUNT_EXACT_UP_TO rows,
    `found` of them distinct: PostgreSQL's estimate, or SQLite's exact count."""
    query = query.order_by(None)
    estimate = planner_estimate(query)
    if estimate is None:
        every = query.subquery()
        counted = func.count(every.c[0].distinct()) if distinct else func.count()
        return int(db.session.scalar(select(counted).select_from(every)) or 0), True
    return max(estimate, found), False


def planner_estimate(query: Select[Any]) -> int | None:
    """Return the database's estimate of how many rows the query selects (PostgreSQL only)."""
    bind = db.session.get_bind()
    if bind.dialect.name != "postgresql":
        return None
    compiled = query.compile(bind, compile_kwargs={"render_postcompile": True})
    connection = db.session.connection()
    answer: Any = connection.exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params
    ).scalar()
    plan = json.loads(answer) if isinstance(answer, str) else answer
    return int(plan[0]["Plan"]["Plan Rows"])


# --- cursors -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """A position in a sorted list: the sort values and tiebreak of the row a page ends at."""

    values: tuple[Any, ...]
    before: bool  # the page before this position (previous) rather than after it (next)


def _signature(keys: Sequence[SortKey]) -> str:
    return ",".join(f"{k.field}:{'d' if k.descending else 'a'}" for k in keys)


def encode_cursor(keys: Sequence[SortKey], values: Sequence[Any], *, before: bool) -> str:
    """Return an opaque cursor for the position given by a row's sort values and tiebreak."""
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    data = json.dumps({"s": _signature(keys), "v": plain, "b": before}, separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def decode_cursor(
    token: str, keys: Sequence[SortKey], columns: Mapping[str, Any], tiebreak: Any
) -> Cursor:
    """Read a cursor made for this sort; raise Unprocessable when it is not one."""
    problem = Unprocessable(
        "This cursor does not belong to this list or sort; start again from page 0.",
        {"field": "cursor"},
    )
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        raw, before = list(data["v"]), data["b"]
        if data["s"] != _signature(keys) or not isinstance(before, bool):
            raise problem
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise problem from None
    ordered = _ordered(keys, columns, tiebreak)
    if len(raw) != len(ordered):
        raise problem
    values = []
    for (column, _), value in zip(ordered, raw, strict=True):
        kind = column.type
        wanted = (kind.impl_instance if isinstance(kind, TypeDecorator) else kind).python_type
        if wanted is datetime and isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                raise problem from None
            if moment.tzinfo is None or not in_datetime_range(moment):
                raise problem
            values.append(moment)
        elif type(value) is wanted and (wanted is not int or in_id_range(value)):
            values.append(value)
        else:
            raise problem
    return Cursor(tuple(values), before)


def pages_by_cursor(keys: Sequence[SortKey], columns: Mapping[str, Any]) -> bool:
    """Tell whether a sort can page by cursor: none of its columns may be NULL."""
    return not any(
        getattr(getattr(columns[k.field], "expression", None), "nullable", True) for k in keys
    )


def beyond(
    cursor: Cursor, keys: Sequence[SortKey], columns: Mapping[str, Any], tiebreak: Any
) -> ColumnElement[bool]:
    """Rows after the cursor's position in the sort (before it, for a previous page).

    `a < x OR (a = x AND (b < y OR (b = y AND id < z)))`, led by the bound `a <= x` so the
    database can start reading the sort's index right at the position.
    """
    ordered = _ordered(keys, columns, tiebreak)
    condition: ColumnElement[bool] | None = None
    for (column, descending), value in reversed(list(zip(ordered, cursor.values, strict=True))):
        downward = descending != cursor.before
        past = column < value if downward else column > value
        condition = past if condition is None else or_(past, and_(column == value, condition))
    assert condition is not None
    (first, descending), value = ordered[0], cursor.values[0]
    bound = first <= value if descending != cursor.before else first >= value
    return and_(bound, condition)


# --- streaming ---------------------------------------------------------------------------------


def stream_rows(query: Select[Any], chunk: int) -> Iterator[Sequence[Any]]:
    """Yield every row the query selects, `chunk` rows at a time, never holding more.

    PostgreSQL streams the result to us as it computes it (psycopg's stream in chunks), so it
    works on the next rows while we handle these; a server-side cursor would wait for each
    FETCH. Rows come as the driver reads them, in UTC, and parameters go to it unconverted:
    fine for strings, numbers and aware datetimes, not for types SQLAlchemy must convert
    (JSON). Elsewhere SQLAlchemy's stream_results.
    """
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        result = connection.execution_options(stream_results=True, yield_per=chunk).execute(query)
        try:
            yield from result.partitions(chunk)
        finally:
            result.close()
        return
    connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
    compiled = query.compile(connection, compile_kwargs={"render_postcompile": True})
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        rows: list[Any] = []
        for row in cursor.stream(str(compiled), compiled.params, size=chunk):
            rows.append(row)
            if len(rows) == chunk:
                yield rows
                rows = []
        if rows:
            yield rows
    finally:
        cursor.close()


def copy_csv(query: Select[Any], chunk: int) -> Iterator[bytes]:
    """Yield the query's rows as CSV the database wrote (PostgreSQL's COPY), `chunk` rows a piece.

    COPY formats every cell in the server, so no Python object is made per value: a million
    rows cost this process about a second. Rows end in CRLF, as the csv module writes them;
    COPY ends each in LF and sends it as one message (libpq hands out one row per read), so
    the line end is swapped per row and a newline quoted inside a cell stays as it is. NULL is
    written as an empty cell and an empty string as "": select NULL for an empty cell.
    """
    connection = db.session.connection()
    compiled = query.compile(connection, compile_kwargs={"render_postcompile": True})
    statement = f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv)"
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(statement, compiled.params or None) as copy:
            rows: list[Any] = []
            for row in copy:
                rows.append(row[:-1])
                if len(rows) == chunk:
                    rows.append(b"")
                    yield b"\r\n".join(rows)
                    rows = []
            if rows:
                rows.append(b"")
                yield b"\r\n".join(rows)
    finally:
        cursor.close()
