"""CSV exports of the install history and of bulk job results, written chunk by chunk.

The csv module does the quoting (commas, quotes, newlines survive a round trip). Free-text
cells that a spreadsheet would run as a formula (=, +, -, @ first) get a leading apostrophe, the
usual defence against CSV injection: display names and platform messages come from people and
from a remote service. A UTF-8 byte order mark is written first by default, because Excel, the
tool supervisors open these files with, reads BOM-less CSV as the local code page and turns
"Jääskeläinen" into mojibake; scripts that do not want it ask for bom=false.

On PostgreSQL the history export is written by the database (COPY ... FORMAT csv) from the same
cells computed in SQL (history_cells_sql): at 1,000,000 rows that cut the export's CPU from
14.3 s in this process and 4.9 s in the database to 2.0 s and 8.8 s (bench/scale.py). Its
quoting is the csv module's (a cell is quoted when it holds a comma, a quote or a line break);
tests/api/test_history.py holds the two writers to the same text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Float, Select, String, case, cast, extract, func, literal

from app.database import db
from app.labels.device_types import _FAMILY_BY_PREFIX, TYPE_BY_IMC, UNKNOWN
from app.services.bulk.results import ResultRow, result_label
from app.services.history import EXPORT_CHUNK, HistoryRow, iter_history, sorted_rows
from app.services.history_filters import HistoryFilter
from app.services.paging import SortKey, copy_csv
from app.services.verifications import SilentRow

T = TypeVar("T")
BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str | None) -> str:
    """Return free text safe to open in a spreadsheet."""
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _time(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


HISTORY_HEADER = (
    "op_id",
    "device_time",
    "received_at",
    "offline_delay_s",
    "synced_at",
    "technician",
    "technician_name",
    "tuid",
    "device_type",
    "action",
    "group",
    "new_tuid",
    "state",
    "platform_http_status",
    "platform_message",
    "bulk_job_id",
    "verification",
)


def history_cells(row: HistoryRow) -> list[Any]:
    """Return one history row's CSV cells, in HISTORY_HEADER order."""
    return [
        row.op_id,
        _time(row.device_time),
        _time(row.received_at),
        f"{row.offline_delay_s:.1f}",
        _time(row.synced_at),
        text_cell(row.username),
        text_cell(row.display_name),
        row.tuid,
        row.device_type,
        row.kind,
        row.group or "",
        row.new_tuid or "",
        row.state,
        row.platform.http_status if row.platform and row.platform.http_status else "",
        text_cell(row.platform_message),
        row.bulk_job_id or "",
        row.verification or "",
    ]


def _empty_is_null(value: Any) -> Any:
    return func.nullif(value, "")


def _text_cell_sql(value: Any) -> Any:
    """text_cell() in SQL."""
    return case(
        (value == "", None),
        (func.left(value, 1).in_(_FORMULA_START), literal("'") + value),
        else_=value,
    )


def _time_sql(value: Any) -> Any:
    """_time() in SQL: isoformat() of a UTC time, its fraction only when there is one."""
    text = func.to_char(func.timezone("UTC", value), 'YYYY-MM-DD"T"HH24:MI:SS.US')
    return func.replace(text, ".000000", "", type_=String) + "+00:00"


def _device_type_sql(tuid: Any) -> Any:
    """device_type_for() in SQL: the exact IMC, else the family's prefix, else unknown."""
    imc = func.upper(func.left(func.btrim(tuid), 6))
    family = case(
        *((imc.like(prefix + "%"), name) for prefix, name in _FAMILY_BY_PREFIX), else_=UNKNOWN
    )
    return case(
        (func.length(func.btrim(tuid)) < 6, UNKNOWN),
        else_=case(TYPE_BY_IMC, value=imc, else_=family),
    )


def history_cells_sql(query: Select[Any]) -> list[ColumnElement[Any]]:
    """history_cells() in SQL over history.sorted_rows()'s columns, for PostgreSQL's COPY.

    The same text cell for cell: isoformat() times, the delay as "%.1f" rounds it (to_char of
    a double is C's printf), the formula guard, and NULL wherever history_cells() writes "".
    """
    (
        _id,
        op_id,
        kind,
        tuid,
        target_group,
        new_tuid,
        state,
        device_time,
        received_at,
        synced_at,
        _updated_at,
        _seen_status,
        seen_group,
        _error_code,
        error_message,
        bulk_job_id,
        username,
        display_name,
        copied_group,
        outcome,
        http_status,
        message,
        _finished_at,
        verification,
    ) = query.selected_columns
    delay = func.greatest(cast(extract("epoch", received_at - device_time), Float), 0.0)
    answered = outcome.is_not(None)
    cells = [
        _empty_is_null(op_id),
        _time_sql(device_time),
        _time_sql(received_at),
        func.to_char(delay, "FM999999999990.0"),
        _time_sql(synced_at),
        _text_cell_sql(username),
        _text_cell_sql(display_name),
        _empty_is_null(tuid),
        _device_type_sql(tuid),
        _empty_is_null(kind),
        func.coalesce(*(_empty_is_null(g) for g in (target_group, copied_group, seen_group))),
        _empty_is_null(new_tuid),
        _empty_is_null(state),
        case((answered & (http_status != 0), cast(http_status, String))),
        _text_cell_sql(
            func.coalesce(_empty_is_null(error_message), case((answered, message)), type_=String)
        ),
        cast(func.nullif(bulk_job_id, 0), String),
        _empty_is_null(verification),
    ]
    return [cell.label(name) for cell, name in zip(cells, HISTORY_HEADER, strict=True)]


def history_csv(flt: HistoryFilter, sort: Sequence[SortKey], *, bom: bool = True) -> Iterator[Any]:
    """Yield the filtered history as CSV: written by PostgreSQL itself (COPY), else here."""
    if db.session.get_bind().dialect.name != "postgresql":
        yield from csv_chunks(HISTORY_HEADER, iter_history(flt, sort), history_cells, bom=bom)
        return
    query = sorted_rows(flt, sort)
    yield from csv_chunks(HISTORY_HEADER, (), history_cells, bom=bom)
    yield from copy_csv(query.with_only_columns(*history_cells_sql(query)), EXPORT_CHUNK)


RESULTS_HEADER = (
    "line",
    "input",
    "tuid",
    "preview",
    "status_before",
    "group_before",
    "op_id",
    "operation_state",
    "result",
    "message",
    "synced_at",
)


def result_cells(row: ResultRow) -> list[Any]:
    """Return one bulk result row's CSV cells, in RESULTS_HEADER order."""
    return [
        row.line_no,
        text_cell(row.raw),
        row.tuid or "",
        row.verdict,
        row.current_status or "",
        row.current_group or "",
        row.op_id or "",
        row.state or "",
        result_label(row),
        text_cell(row.error_message or row.message),
        _time(row.synced_at),
    ]


SILENT_HEADER = (
    "tuid",
    "device_type",
    "group",
    "technician",
    "technician_name",
    "installed_at",
    "silent_at",
    "last_seen_at",
    "battery_level",
    "looks",
)


def silent_cells(row: SilentRow) -> list[Any]:
    """Return one silent device's CSV cells, in SILENT_HEADER order."""
    v = row.verification
    return [
        v.tuid,
        v.device_type,
        v.group_id or "",
        text_cell(row.username),
        text_cell(row.display_name),
        _time(v.installed_at),
        _time(v.silent_at),
        _time(v.last_seen_at),
        "" if v.battery_level is None else v.battery_level,
        v.looks,
    ]


def csv_chunks(
    header: Sequence[str],
    chunks: Iterable[Sequence[T]],
    cells: Callable[[T], list[Any]],
    *,
    bom: bool = True,
) -> Iterator[str]:
    """Yield CSV text: the header, then one piece per chunk of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield (BOM if bom else "") + buffer.getvalue()
    for chunk in chunks:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(cells(row) for row in chunk)
        yield buffer.getvalue()


def attachment_name(prefix: str, today: date) -> str:
    """Return a download file name such as fieldhand-history-2026-11-22.csv."""
    return f"{prefix}-{today.isoformat()}.csv"
