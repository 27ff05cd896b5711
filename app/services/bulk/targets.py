"""Which devices a bulk job is about: a pasted list, an uploaded CSV, or a whole deployment group.

Every input line becomes a TargetLine, valid or not, so the preview can show the supervisor
exactly which lines were not understood and why. Lines may be plain TUIDs or any label text the
scanner understands (app.labels.parser), since supervisors paste what scanners exported.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.errors import NotFound, PayloadTooLarge, ServiceUnavailable, Unprocessable
from app.labels.device_ids import parse_device_label
from app.labels.parser import LabelError
from app.platform import errors as platform_errors
from app.platform.interface import Platform
from app.services.operation_rules import InvalidOperation, normalise_group, normalise_tuid

RAW_MAX_CHARS = 200  # bulk_job_items.raw
SOURCE_DETAIL_MAX_CHARS = 200
_SEPARATORS = re.compile(r"[\s,;]+")
_CSV_DELIMITERS = ",;\t|"
_HEADER_NAMES = ("tuid", "tuids", "device", "device_id", "deviceid", "thing", "serial")


@dataclass(frozen=True)
class TargetLine:
    line_no: int
    raw: str
    tuid: str | None
    error: str | None = None


@dataclass(frozen=True)
class Targets:
    """A bulk job's input lines and where they came from."""

    lines: list[TargetLine]
    source: str  # list | csv | group
    detail: str  # shown beside the source: "12 lines", the file's name, the group
    known_group: str | None = None  # every device is in this group (a whole-group job)

    def unique_tuids(self) -> list[str]:
        """Return each valid TUID once, in input order."""
        return list(dict.fromkeys(line.tuid for line in self.lines if line.tuid is not None))


def tuid_from_text(text: str) -> tuple[str | None, str | None]:
    """Return (tuid, None) for a TUID or any label text the scanner reads, else (None, why)."""
    try:
        return normalise_tuid(text), None
    except InvalidOperation:
        pass
    try:
        label = parse_device_label(text)
    except LabelError as exc:
        return None, exc.message
    return label.tuid, None


def _check_size(lines: list[TargetLine], limit: int) -> list[TargetLine]:
    if len(lines) > limit:
        raise PayloadTooLarge(
            f"A bulk job takes at most {limit} devices; split the list.", {"limit": limit}
        )
    if not lines:
        raise Unprocessable("No devices given: the list is empty.", {"field": "targets"})
    return lines


def _line(line_no: int, raw: str) -> list[TargetLine]:
    text = raw.strip()
    tuid, error = tuid_from_text(text)
    if tuid is not None:
        return [TargetLine(line_no, text[:RAW_MAX_CHARS], tuid)]
    # "A, B, C" on one line: accept it when every part is a TUID.
    parts = [p for p in _SEPARATORS.split(text) if p]
    if len(parts) > 1:
        parsed = [tuid_from_text(p) for p in parts]
        if all(t is not None for t, _ in parsed):
            return [
                TargetLine(line_no, p[:RAW_MAX_CHARS], t)
                for p, (t, _) in zip(parts, parsed, strict=True)
            ]
    return [TargetLine(line_no, text[:RAW_MAX_CHARS], None, error)]


def _entries(entries: Iterable[str], limit: int) -> list[TargetLine]:
    lines: list[TargetLine] = []
    for line_no, entry in enumerate(entries, start=1):
        if entry.strip():
            lines.extend(_line(line_no, entry))
        if len(lines) > limit:
            break
    return _check_size(lines, limit)


def from_entries(entries: Sequence[str], limit: int) -> Targets:
    """Parse pasted entries (one device or label per entry); blank entries are skipped."""
    return Targets(_entries(entries, limit), "list", f"{len(entries)} entries")


def from_text(text: str, limit: int) -> Targets:
    """Parse a pasted block: one device or label per line."""
    rows = text.splitlines()
    return Targets(_entries(rows, limit), "list", f"{len(rows)} lines")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's "CSV (comma delimited)" on Windows is cp1252; TUIDs are ASCII either way.
        return data.decode("cp1252", errors="replace")


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample, delimiters=_CSV_DELIMITERS)
    except csv.Error:
        return csv.excel


def _is_header(cells: list[str]) -> int | None:
    """Return the TUID column if this row is a header, else None."""
    lowered = [c.strip().lower().lstrip("#") for c in cells]
    for index, name in enumerate(lowered):
        if name in _HEADER_NAMES:
            return index
    first = lowered[0] if lowered else ""
    if first and not any(ch.isdigit() for ch in first) and tuid_from_text(cells[0])[0] is None:
        return 0  # a header with another name ("Laite", "id"...): TUIDs are in the first column
    return None


def from_csv(data: bytes, name: str, limit: int) -> Targets:
    """Parse an uploaded CSV: the tuid column, else the first; header, BOM and blanks tolerated."""
    return Targets(_csv_lines(data, limit), "csv", name[:SOURCE_DETAIL_MAX_CHARS])


def _csv_lines(data: bytes, limit: int) -> list[TargetLine]:
    text = _decode(data)
    if "\x00" in text:  # a binary file; the database cannot store NUL in text either
        raise Unprocessable("The file holds NUL characters: it is not a CSV.", {"field": "file"})
    dialect = _dialect(text[:4096])
    delimiter = str(dialect.delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    column = 0
    seen_data = False
    lines: list[TargetLine] = []
    try:
        for row in reader:
            line_no = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if not seen_data:
                seen_data = True
                header_column = _is_header(row)
                if header_column is not None:
                    column = header_column
                    continue
            value = row[column].strip() if column < len(row) else ""
            if not value:
                lines.append(
                    TargetLine(line_no, delimiter.join(row)[:RAW_MAX_CHARS], None, "No TUID here.")
                )
            elif tuid_from_text(value)[0] is None and len(row) > 1 and column == 0:
                # A legacy label ("PSN,IMC") was split into cells by the CSV reader.
                whole = delimiter.join(row).strip()
                tuid, _ = tuid_from_text(whole)
                lines.extend(
                    [TargetLine(line_no, whole[:RAW_MAX_CHARS], tuid)]
                    if tuid
                    else _line(line_no, value)
                )
            else:
                lines.extend(_line(line_no, value))
            if len(lines) > limit:
                break
    except csv.Error as exc:
        raise Unprocessable(f"The file is not a readable CSV: {exc}.", {"field": "file"}) from exc
    return _check_size(lines, limit)


def from_group(platform: Platform, group_id: str, limit: int) -> Targets:
    """Return every device of a deployment group, as the platform lists them now."""
    named = group_id.strip().lower()
    return Targets(_group_lines(platform, group_id, limit), "group", named, known_group=named)


def _group_lines(platform: Platform, group_id: str, limit: int) -> list[TargetLine]:
    try:
        group = normalise_group(group_id)
    except InvalidOperation as exc:
        raise Unprocessable(str(exc), {"field": "group_id"}) from exc
    try:
        tuids = platform.group_things(group)
    except platform_errors.NotFound as exc:
        raise NotFound(f"Deployment group '{group}' does not exist on the platform.") from exc
    except platform_errors.NotSupported as exc:
        raise Unprocessable(f"{exc.message}.", {"field": "group_id"}) from exc
    except platform_errors.PlatformError as exc:
        raise ServiceUnavailable(
            f"Could not list the group's devices: {exc.message}. Try again shortly."
        ) from exc
    lines = [TargetLine(i, t, t) for i, t in enumerate(tuids, start=1)]
    if not lines:
        raise Unprocessable(f"Deployment group '{group}' has no devices.", {"field": "group_id"})
    return _check_size(lines, limit)
