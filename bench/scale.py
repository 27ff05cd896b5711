"""A year of a large fleet: the supervisor's requests, the CSV export, the worker's claim and
ingest, measured against the targets of issue #16.

Fills the database with COPY (PostgreSQL) or batched inserts (SQLite): by default 1,000,000
operations over 100,000 devices on PostgreSQL, 100,000 operations on SQLite; 200 technicians,
500 groups, bulk jobs of 10,000, ~1.55 steps and sync attempts per operation, audit events.
Then, warm, through the real Flask app (test client), p50/p95 of `--runs` runs of each request,
one CSV export of the whole history (rows/s, peak RSS growth), and the claim query and a
100-operation ingest against the same on a database without history ("empty": same users,
groups and device cache). Prints a table with targets and PASS/MISS, and the machine's load.

    .venv/bin/python bench/scale.py --database-url postgresql+psycopg://postgres@127.0.0.1/fh_bench
    .venv/bin/python bench/scale.py                      # SQLite in instance/, 100,000 operations
    ... --reuse          # keep an already filled database (migrations and ANALYZE still run)
    ... --explain NAME   # the plans of a request's queries: part of its name, `all` or a path
    ... --skip csv,claim # leave parts out: requests, csv, claim, ingest

Wall times on a shared machine stretch with everyone's load; the "cpu" per request (this process
and its PostgreSQL backend) is the figure to compare between runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import scale_fill  # noqa: E402
from bench._support import ROOT  # noqa: E402
from bench.scale_measure import (  # noqa: E402
    CpuMeter,
    Figure,
    app_for,
    load,
    percentile,
    print_table,
    signed_in,
    timed,
)
from bench.scale_worker import measure_claims, measure_ingest  # noqa: E402

HISTORY_P95_MS, DEEP_P95_MS = 150.0, 300.0
CSV_ROWS_PER_S, CSV_RSS_MB = 50_000, 100.0


def reset(url: str) -> None:
    from tests.conftest import _reset_database

    _reset_database(url)


def migrate(url: str) -> float:
    """Bring the schema to the head revision; return seconds taken."""
    from flask_migrate import upgrade

    from app import create_app
    from app.database import db
    from app.extensions import MIGRATIONS_DIR

    started = time.perf_counter()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        db.engine.dispose()
    return time.perf_counter() - started


def prepare(url: str, plan: scale_fill.Plan, reuse: bool, history: bool, now: datetime) -> str:
    """Fill the database unless --reuse finds it filled; say what was done."""
    from argon2 import PasswordHasher

    if reuse and history and scale_fill.filled(url, plan):
        seconds = migrate(url)
        scale_fill.remove_operations_from(url, plan.operations + 1)
        # A migration that changes a column's type discards its statistics (5c1e7a93d2b4 did,
        # for every device id), and nothing analyses again until a tenth of a table changed:
        # after migrating a large database, analyse it, as here.
        analyse_all(url)
        return f"reused (migrations {seconds:.1f} s, then ANALYZE)"
    reset(url)
    migrate(url)
    started = time.perf_counter()
    password_hash = PasswordHasher().hash(scale_fill.BENCH_PASSWORD)
    scale_fill.fill(url, plan, now, password_hash, history=history)
    return f"filled in {time.perf_counter() - started:.0f} s"


def analyse_all(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def history_requests(url: str, plan: scale_fill.Plan) -> list[tuple[str, str, float]]:
    """The console's requests: (name, path, p95 target in ms)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        newest = conn.execute(text("SELECT max(device_time) FROM operations")).scalar()
    engine.dispose()
    newest = datetime.fromisoformat(newest) if isinstance(newest, str) else newest
    day = newest.date()
    week = f"from={day - timedelta(days=14)}&to={day - timedelta(days=8)}"
    tech, group = scale_fill.technician_name(42), scale_fill.group_for(10)
    fragment = scale_fill.tuid_for(plan.devices * 2 // 3)[9:15]  # six digits of a PSN
    job = plan.bulk_jobs // 2 + 1
    history = "/api/history?"
    return [
        ("history: first page", history, HISTORY_P95_MS),
        ("history: technician", f"{history}technician={tech}", HISTORY_P95_MS),
        ("history: group", f"{history}group={group}", HISTORY_P95_MS),
        ("history: action", f"{history}action=replace", HISTORY_P95_MS),
        ("history: state", f"{history}state=failed", HISTORY_P95_MS),
        ("history: date range", f"{history}{week}", HISTORY_P95_MS),
        ("history: TUID substring", f"{history}tuid={fragment}", HISTORY_P95_MS),
        ("history: bulk job", f"{history}bulk_job_id={job}", HISTORY_P95_MS),
        (
            "history: technician+action, by received_at asc",
            f"{history}technician={tech}&action=install&sort=received_at,asc",
            HISTORY_P95_MS,
        ),
        (
            "history: group+state, by tuid asc",
            f"{history}group={group}&state=synced&sort=tuid,asc",
            HISTORY_P95_MS,
        ),
        ("history: deep page (2,000 of 50)", f"{history}page=1999&size=50", DEEP_P95_MS),
        ("inbox: counts (console badge)", "/api/inbox?size=1", HISTORY_P95_MS),
        ("inbox: first page", "/api/inbox?size=25", HISTORY_P95_MS),
        (
            f"device timeline ({scale_fill.TIMELINE_OPS} operations)",
            f"/api/history/devices/{quote(scale_fill.tuid_for(0))}?limit=500",
            HISTORY_P95_MS,
        ),
    ]


def broad_requests(plan: scale_fill.Plan) -> list[tuple[str, str, float]]:
    """Requests #16 sets no target for, measured beside them: filters matching a lot."""
    history = "/api/history?"
    return [
        ("group matching 13% (unassigned)", f"{history}group=unassigned", HISTORY_P95_MS),
        ("TUID of two characters", f"{history}tuid=12", HISTORY_P95_MS),
        ("sorted by technician", f"{history}sort=technician,asc", HISTORY_P95_MS),
        ("sorted by sync time (no cursor)", f"{history}sort=synced_at,desc", HISTORY_P95_MS),
        ("deep page by number, by state", f"{history}page=1999&sort=state,asc", DEEP_P95_MS),
    ]


def measure_requests(
    api: Any, requests: list[tuple[str, str, float]], runs: int, cpu: CpuMeter
) -> list[Figure]:
    figures = []
    for name, path, target in requests:

        def get(path: str = path) -> Any:
            response = api.get(path)
            assert response.status_code == 200, (path, response.status_code, response.json)
            return response.json

        get()
        started = cpu.seconds()
        times, body = timed(get, runs)
        cpu_ms = (cpu.seconds() - started) / (runs + 2) * 1000
        p50, p95 = statistics.median(times), percentile(times, 0.95)
        note = f"cpu {cpu_ms:5.1f} ms; "
        if "totalElements" in body:
            exact = "" if body.get("totalExact", True) else "~"
            note += f"{exact}{body['totalElements']:,} rows"
        if "events" in body:
            note += f"{len(body['events'])} events"
        figures.append(
            Figure(name, f"p50 {p50:6.1f} ms  p95 {p95:6.1f} ms", f"p95 <= {target:.0f} ms",
                   p95 <= target, note)
        )  # fmt: skip
    return figures


def explain_requests(
    app: Any, api: Any, requests: list[tuple[str, str, float]], wanted: str
) -> None:
    """Print the plan of every SELECT the named requests run (with timings on PostgreSQL)."""
    from sqlalchemy import event

    from app.database import db

    with app.app_context():
        engine = db.engine
    if wanted.startswith("/"):
        requests = [(wanted, wanted, 0.0)]
    for name, path, _ in requests:
        if wanted not in ("all", name) and wanted not in name:
            continue
        statements: list[tuple[str, Any]] = []

        def capture(
            conn: Any, cursor: Any, sql: str, params: Any, *_: Any, seen: list[Any] = statements
        ) -> None:
            if sql.lstrip().upper().startswith("SELECT"):
                seen.append((sql, params))

        event.listen(engine, "before_cursor_execute", capture)
        api.get(path)
        event.remove(engine, "before_cursor_execute", capture)
        print(f"\n=== {name}: {path}")
        raw = engine.raw_connection()
        sqlite = engine.dialect.name == "sqlite"
        try:
            cursor = raw.cursor()
            for sql, params in statements:
                if "FROM users" in sql and "WHERE users.id =" in sql:
                    continue  # the session's user
                explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
                started = time.perf_counter()
                cursor.execute(explain + sql, params)
                plan = cursor.fetchall()
                print("-- " + " ".join(sql.split())[:300])
                if sqlite:
                    cursor.execute(sql, params).fetchall()
                    print(f"   ({(time.perf_counter() - started) * 1000:.1f} ms)")
                print("\n".join(str(row[-1]) for row in plan))
            raw.rollback()
        finally:
            raw.close()


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_csv(api: Any, operations: int, cpu: CpuMeter, postgresql: bool) -> list[Figure]:
    """Export the whole history once; rows/s and how far the peak RSS rose above the start.

    #16 sets the rate for PostgreSQL; on SQLite it is a figure to watch.
    """
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
    before = _rss_mb("VmRSS")
    app_cpu, db_cpu = time.process_time(), cpu.database()
    started = time.perf_counter()
    response = api.get("/api/history.csv?bom=false", buffered=False)
    lines = 0
    for piece in response.iter_encoded():
        lines += piece.count(b"\r\n")
    seconds = time.perf_counter() - started
    response.close()
    app_cpu, db_cpu = time.process_time() - app_cpu, cpu.database() - db_cpu
    rows = lines - 1
    growth = _rss_mb("VmHWM") - before
    rate = rows / seconds
    # The database computes the next rows while the app writes these: on two idle cores the
    # export takes about as long as the busier of the two.
    bound = rows / max(app_cpu, db_cpu, 1e-9)
    spent = f"{rows:,} rows in {seconds:.1f} s; cpu app {app_cpu:.1f} s, database {db_cpu:.1f} s"
    return [
        Figure("CSV export: rows/s", f"{rate:9,.0f} rows/s", f">= {CSV_ROWS_PER_S:,}",
               rate >= CSV_ROWS_PER_S if postgresql else None,
               f"{spent}: {bound:,.0f} rows/s on idle cores"),
        Figure("CSV export: peak RSS growth", f"{growth:9.1f} MB", f"<= {CSV_RSS_MB:.0f} MB",
               growth <= CSV_RSS_MB and rows == operations, f"{rows:,} of {operations:,} rows"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in instance/)")
    parser.add_argument("--empty-url", help="the database without history (default: <url>_empty)")
    parser.add_argument("--operations", type=int, help="default 1,000,000 (PostgreSQL), 100,000")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="keep a database already filled")
    parser.add_argument("--skip", default="", help="comma list of: requests,csv,claim,ingest")
    parser.add_argument("--explain", metavar="NAME", help="EXPLAIN the requests named so (or all)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]

    os.environ.setdefault("FIELDHAND_SECRET_KEY", "bench")
    url = args.database_url or f"sqlite:///{ROOT / 'instance' / 'bench-scale.sqlite3'}"
    (ROOT / "instance").mkdir(exist_ok=True)
    postgresql = url.startswith("postgresql")
    empty = args.empty_url or (
        url + "_empty" if postgresql else url.replace(".sqlite3", "-empty.sqlite3")
    )
    plan = scale_fill.Plan(args.operations or (1_000_000 if postgresql else 100_000))
    skip = set(args.skip.split(","))
    now = datetime.now(UTC)
    if postgresql:
        ensure_database(url)
        ensure_database(empty)
    print(f"{url.rsplit('@', 1)[-1]}: {plan.operations:,} operations, {plan.devices:,} devices")
    print(f"  {prepare(url, plan, args.reuse, True, now)}; {load()}")
    figures: list[Figure] = []
    app = app_for(url)
    cpu = CpuMeter(app)
    api = signed_in(app, scale_fill.BENCH_USER)
    if args.explain:
        explain_requests(app, api, history_requests(url, plan), args.explain)
        return
    if "requests" not in skip:
        figures += measure_requests(api, history_requests(url, plan), args.runs, cpu)
        deep = api.get("/api/history?page=1999&size=50").json
        if deep["nextCursor"]:  # at 100,000 operations page 2,000 is the last
            after = f"/api/history?page=2000&size=50&cursor={deep['nextCursor']}"
            name = "history: the page after it, by cursor"
            figures += measure_requests(api, [(name, after, DEEP_P95_MS)], args.runs, cpu)
        print_table(f"Requests, warm, {args.runs} runs ({load()})", figures)
        extra = measure_requests(api, broad_requests(plan), args.runs, cpu)
        for figure in extra:
            figure.ok = None  # no target in #16: figures to watch
        print_table(f"Also measured, no target ({load()})", extra)
    if "csv" not in skip:
        csv_figures = measure_csv(api, plan.operations, cpu, postgresql)
        print_table(f"CSV export ({load()})", csv_figures)
        figures += csv_figures
    if not {"claim", "ingest"} <= skip:
        print(f"\nempty reference: {prepare(empty, plan, False, False, now)}")
    if "claim" not in skip:
        claims = measure_claims(url, empty, plan, args.runs)
        print_table(f"Claim query, p50 of {args.runs} ({load()})", claims)
        figures += claims
    if "ingest" not in skip:
        ingest = measure_ingest(url, empty, plan, args.runs)
        print_table(f"Ingest, p50 of {args.runs} ({load()})", ingest)
        figures += ingest
    misses = [f.name for f in figures if f.ok is False]
    print_table(f"Summary: {len(figures) - len(misses)} PASS, {len(misses)} MISS", figures)


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named by the URL if it does not exist."""
    from sqlalchemy import create_engine, text

    base, name = url.rsplit("/", 1)
    engine = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


if __name__ == "__main__":
    main()
