"""Writing bench rows fast: COPY on PostgreSQL, batched inserts on SQLite, table by table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

COLUMNS = {
    "users": "id username display_name role password_hash active created_at",
    "deployment_groups": "group_id description synced_at",
    "devices": "tuid device_type status group_id source updated_at",
    "bulk_jobs": "id action target_group source source_detail state created_by_id created_at "
    "confirmed_at finished_at cancelled_at summary",
    "operations": "id op_id kind tuid args user_id device_time received_at seen_status "
    "seen_group state error_code error_message synced_at updated_at bulk_job_id",
    "outbox": "id operation_id step_no tuid action value order_at state available_at "
    "lease_owner lease_until attempts outcome_uncertain last_error result completed_at",
    "sync_attempts": "id step_id operation_id attempt_no worker started_at finished_at outcome "
    "http_status message",
    "audit_events": "id at user_id action operation_id tuid reason details",
    "bulk_job_items": "id job_id line_no raw tuid verdict current_status current_group message "
    "operation_id",
}
FIELDS = {table: tuple(columns.split()) for table, columns in COLUMNS.items()}
SERIAL_TABLES = [t for t, f in FIELDS.items() if f[0] == "id"]


class Sink:
    """Rows in, table by table; `close` commits."""

    def write(self, table: str, row: tuple[Any, ...]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class CopySink(Sink):
    """PostgreSQL: one COPY per table, each on its own connection, all open at once.

    Foreign-key triggers are off in these sessions (session_replication_role = replica): rows
    reference rows that another connection's COPY has not committed yet. The generator keeps
    the references right.
    """

    def __init__(self, url: str) -> None:
        self.dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.open: dict[str, tuple[Any, Any, Any]] = {}  # table: (connection, context, copy)

    def write(self, table: str, row: tuple[Any, ...]) -> None:
        entry = self.open.get(table)
        if entry is None:
            import psycopg

            conn = psycopg.connect(self.dsn)
            conn.execute("SET session_replication_role = replica")
            context = conn.cursor().copy(f"COPY {table} ({', '.join(FIELDS[table])}) FROM STDIN")
            entry = self.open[table] = (conn, context, context.__enter__())
        entry[2].write_row(row)

    def close(self) -> None:
        for conn, context, _ in self.open.values():
            context.__exit__(None, None, None)
            conn.commit()
            conn.close()


class InsertSink(Sink):
    """SQLite: executemany in batches on one connection, in one transaction."""

    BATCH = 5000

    def __init__(self, engine: Engine) -> None:
        self.conn = engine.raw_connection()
        self.buffers: dict[str, list[tuple[Any, ...]]] = {}

    def write(self, table: str, row: tuple[Any, ...]) -> None:
        buffer = self.buffers.setdefault(table, [])
        buffer.append(tuple(_sqlite_value(v) for v in row))
        if len(buffer) >= self.BATCH:
            self._flush(table)

    def _flush(self, table: str) -> None:
        rows = self.buffers.pop(table, [])
        if rows:
            marks = ", ".join("?" for _ in FIELDS[table])
            sql = f"INSERT INTO {table} ({', '.join(FIELDS[table])}) VALUES ({marks})"
            self.conn.cursor().executemany(sql, rows)

    def close(self) -> None:
        for table in list(self.buffers):
            self._flush(table)
        self.conn.commit()
        self.conn.close()


def _sqlite_value(value: Any) -> Any:
    # Text as SQLAlchemy's DateTime stores it on SQLite, so comparisons and order hold.
    if isinstance(value, datetime):
        return f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}"
    return value


def sink_for(url: str, engine: Engine) -> Sink:
    """Return the fast way to write rows into this database."""
    return CopySink(url) if engine.dialect.name == "postgresql" else InsertSink(engine)
