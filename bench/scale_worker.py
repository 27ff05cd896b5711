"""The worker's side of bench/scale.py: the claim query and a 100-operation ingest, on the full
database and on one without history ("empty": the same users, groups and device cache), taking
turns so that load from elsewhere falls on both alike. Targets: full within 1.5x of empty.
"""

from __future__ import annotations

import random
import statistics
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import scale_fill
from bench.scale_measure import CpuMeter, Figure, app_for, interleaved, signed_in

WORKER_RATIO = 1.5
CLAIM_LIMIT = 32  # a worker of concurrency 16 asks for twice that


def analyse(url: str, vacuum: bool = False) -> None:
    """Refresh the statistics (as autovacuum would, eventually); `vacuum` also clears dead rows."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name != "postgresql":
            conn.execute(text("ANALYZE"))
        elif vacuum:
            conn.execute(text("VACUUM (ANALYZE) operations, outbox"))
        else:
            conn.execute(text("ANALYZE outbox"))
    engine.dispose()


def _claimer(app: Any) -> Callable[[], Any]:
    from app.database import db, utcnow
    from app.sync.outbox import claim_steps

    def claim() -> Any:
        with app.app_context():
            return claim_steps(db.session(), "bench", CLAIM_LIMIT, utcnow(), 60)

    return claim


def _compare(
    name: str, actions: dict[str, Callable[[], Any]], meters: dict[str, CpuMeter], runs: int
) -> Figure:
    """Time the full and the empty database's action in turns; compare their medians."""
    before = {label: meter.database() for label, meter in meters.items()}
    times = interleaved(actions, runs)
    cpu = {
        label: (meters[label].database() - before[label]) / (runs + 2) * 1000 for label in meters
    }
    full, empty = statistics.median(times["full"]), statistics.median(times["empty"])
    ratio = full / empty
    note = f"ratio {ratio:.2f} (p50)"
    if meters["full"].backends:  # SQLite works inside this process
        note += f"; database cpu {cpu['full']:.1f} vs {cpu['empty']:.1f} ms"
    return Figure(
        name,
        f"{full:6.1f} ms vs {empty:6.1f} ms empty",
        f"ratio <= {WORKER_RATIO}",
        ratio <= WORKER_RATIO,
        note,
    )


def autovacuum(url: str, on: bool) -> None:
    """Let autovacuum analyse the outbox, or not: its statistics then stay those of before a
    burst until we say, as they do after any burst smaller than a tenth of the table."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    if engine.dialect.name == "postgresql":
        setting = "RESET (autovacuum_enabled)" if on else "SET (autovacuum_enabled = off)"
        with engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE outbox {setting}"))
    engine.dispose()


def _pending_steps(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM outbox WHERE state = 'pending'")).scalar()
    engine.dispose()
    return int(count or 0)


def measure_claims(full: str, empty: str, plan: scale_fill.Plan, runs: int) -> list[Figure]:
    """Claim with nothing due and with a backlog, on the full and the empty database.

    The year has operations still being retried, their steps waiting out a backoff; the empty
    database gets as many, so that "nothing due" compares history alone.
    """
    urls = {"full": full, "empty": empty}
    apps = {label: app_for(url) for label, url in urls.items()}
    meters = {label: CpuMeter(app) for label, app in apps.items()}
    actions = {label: _claimer(app) for label, app in apps.items()}
    now = datetime.now(UTC)
    later = now + scale_fill.FAR_FUTURE
    waiting = _pending_steps(full)
    firsts = {"empty": scale_fill.add_backlog(empty, waiting // 2, now, plan.bench_user_id, later)}
    figures = []
    try:
        figures.append(
            _compare(f"claim {CLAIM_LIMIT}: none due ({waiting} in backoff)", actions, meters, runs)
        )
        backlog = plan.devices  # two steps each: 200,000 pending steps at 1,000,000 operations
        name = f"claim {CLAIM_LIMIT}: {2 * backlog:,} pending"
        for label, url in urls.items():
            autovacuum(url, on=False)
            first = scale_fill.add_backlog(url, backlog, now, plan.bench_user_id)
            firsts.setdefault(label, first)
        # Right after a burst the statistics still say "hardly anything pending".
        figures.append(_compare(f"{name}, stale statistics", actions, meters, runs))
        for url in urls.values():
            autovacuum(url, on=True)
            analyse(url)
        figures.append(_compare(f"{name}, analysed", actions, meters, runs))
        for label, url in urls.items():
            scale_fill.remove_operations_from(url, firsts[label])
            scale_fill.add_backlog(url, backlog, now, plan.bench_user_id, later)
            analyse(url)
        outage = _compare(f"{name}, none due (an outage's backoff)", actions, meters, runs)
        outage.ok = None  # no target in #16: how an idle claim costs during an outage
        figures.append(outage)
    finally:
        for label, url in urls.items():
            autovacuum(url, on=True)
            scale_fill.remove_operations_from(url, firsts.get(label, plan.operations + 1))
            analyse(url, vacuum=True)
    return figures


def ingest_batch(plan: scale_fill.Plan, seed: int) -> dict[str, Any]:
    """Return 100 installs on known devices, as a phone sends them."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    return {
        "operations": [
            {
                "op_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "kind": "install",
                "tuid": scale_fill.tuid_for(rng.randrange(1, plan.devices)),
                "args": {"group_id": scale_fill.group_for(rng.randrange(scale_fill.GROUPS))},
                "device_time": (now - timedelta(seconds=n)).isoformat(),
                "seen": {"status": "new", "group": "unassigned"},
            }
            for n in range(100)
        ]
    }


def measure_ingest(full: str, empty: str, plan: scale_fill.Plan, runs: int) -> list[Figure]:
    """POST /api/operations with 100 operations to the full and the empty database in turns."""
    apps = {"full": app_for(full), "empty": app_for(empty)}
    meters = {label: CpuMeter(app) for label, app in apps.items()}
    seeds = iter(range(10**6))
    actions = {}
    for label, app in apps.items():
        api = signed_in(app, scale_fill.technician_name(1))

        def post(api: Any = api) -> None:
            response = api.post("/api/operations", json=ingest_batch(plan, next(seeds)))
            assert response.status_code == 200, response.json

        actions[label] = post
    try:
        return [_compare("ingest: 100-operation batch", actions, meters, runs)]
    finally:
        scale_fill.remove_operations_from(full, plan.operations + 1)
        scale_fill.remove_operations_from(empty, 1)
