"""CSV exports of the install history and of bulk job results, written chunk by chunk.

The csv module does the quoting (commas, quotes, newlines survive a round trip). Free-text
cells that a spreadsheet would run as a formula (=, +, -, @ first) get a leading apostrophe, the
usual defence against CSV injection: display names and platform messages come from people and
from a remote service. A UTF-8 byte order mark is written first by default, because Excel, the
tool supervisors open these files with, reads BOM-less CSV as the local code page and turns
"Jääskeläinen" into mojibake; scripts that do not want it ask for bom=false.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from app.services.bulk.results import ResultRow, result_label
from app.services.history import HistoryRow
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
