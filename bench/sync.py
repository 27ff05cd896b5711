"""Sync worker throughput: 10,000 operations (5,000 devices x status + group) to the emulator.

Every device is read back after its last step (app.sync.readback), so the platform serves
N = 10,000 writes + 10,000 read-back GETs (status and group) = 20,000 calls. The bound is
N*L/C (N platform calls, L latency, C concurrency), printed with the ratio bound/wall, and the
CPU time the worker and the emulator spend per platform call (robust on a loaded machine).

With --rate-limit R the emulator answers 429 beyond R requests/s (API Gateway's throttle) and
the bench prints wall time against calls/R, the rate-limit bound.

    .venv/bin/python bench/sync.py [--devices 5000] [--latency-ms 50] [--concurrency 16]
                                   [--rate-limit 0] [--profile worker.prof]
                                   [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import (  # noqa: E402
    emulator_process,
    emulator_token,
    fresh_database,
    load_average,
    peak_rss_mb,
)


def _operations(tuids: list[str], group: str) -> list[dict[str, object]]:
    at = datetime.now(UTC) - timedelta(hours=1)
    ops: list[dict[str, object]] = []
    for i, tuid in enumerate(tuids):
        when = (at + timedelta(milliseconds=i)).isoformat()
        for kind, args in (
            ("set_status", {"status": "installed"}),
            ("set_group", {"group_id": group}),
        ):
            ops.append(
                {
                    "op_id": str(uuid.uuid4()),
                    "kind": kind,
                    "tuid": tuid,
                    "args": args,
                    "device_time": when,
                }
            )
    return ops


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate-limit", type=float, default=0.0, help="emulator requests/s")
    parser.add_argument("--profile", default=None, help="write a cProfile of the worker here")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from app import create_app
    from app.database import db
    from app.services.accounts import create_user
    from app.services.operations import ingest
    from app.sync.worker import SyncWorker, WorkerSettings, favour_io_threads

    load_before = load_average()
    with (
        tempfile.TemporaryDirectory() as tmp,
        emulator_process("--devices", str(args.devices), "--seed", "11") as emu,
    ):
        url = fresh_database(args.database_url, Path(tmp))
        token = emulator_token(emu)
        headers = {"Authorization": f"Bearer {token}"}
        tuids = httpx.get(
            emu["base_url"] + "groups/unassigned/things", headers=headers, timeout=60
        ).json()["data"]["tuids"][: args.devices]
        httpx.post(emu["base_url"] + "groups", json={"group_id": "prfi00bench"}, headers=headers)
        app = create_app(
            {
                "DATABASE_URL": url,
                "PLATFORM_URL": emu["base_url"],
                "PLATFORM_CLIENT_ID": emu["client_id"],
                "PLATFORM_CLIENT_SECRET": emu["client_secret"],
            }
        )
        ops = _operations(tuids, "prfi00bench")
        with app.app_context():
            user = create_user("bench", "bench-password-long", "technician")
            for start in range(0, len(ops), 500):
                ingest(ops[start : start + 500], user)
            db.session.remove()
        httpx.post(
            emu["control_url"] + "settings",
            json={"latency_ms": args.latency_ms, "rate_limit": args.rate_limit},
        )
        stats_before = httpx.get(emu["control_url"] + "stats").json()
        emulator_proc = psutil.Process(emu["pid"])
        emulator_cpu_before = sum(emulator_proc.cpu_times()[:2])

        settings = WorkerSettings.from_config(app.config)
        settings.concurrency = args.concurrency
        settings.poll_seconds = 0.05
        favour_io_threads()  # as `flask sync run` does
        worker = SyncWorker(app, settings, name="bench")
        profiler = cProfile.Profile() if args.profile else None
        cpu_before = time.process_time()
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        done = worker.run(until_idle=True)
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        wall = time.perf_counter() - started
        worker_cpu = time.process_time() - cpu_before
        emulator_cpu = sum(emulator_proc.cpu_times()[:2]) - emulator_cpu_before
        stats = httpx.get(emu["control_url"] + "stats").json()
        refused = sum(
            1
            for c in httpx.get(emu["control_url"] + "calls", timeout=60).json()["calls"]
            if c["status"] == 429
        )

    tokens = stats["token_requests"] - stats_before["token_requests"]
    requests = stats["requests"] - stats_before["requests"]
    calls = requests - tokens - refused  # platform calls served (writes + read-backs)
    writes = len(ops)
    read_backs = calls - writes
    bound = calls * args.latency_ms / 1000 / args.concurrency
    print(f"database            {url.split(':')[0]}")
    print(f"operations          {len(ops)} ({len(tuids)} devices x status + group)")
    print(f"steps completed     {done}, devices read back {worker.read_backs}")
    print(f"platform calls N    {calls} = {writes} writes + {read_backs} read-back GETs")
    print(f"latency, concurrency {args.latency_ms:.0f} ms, {args.concurrency}")
    print(f"wall time           {wall:.2f} s")
    print(f"bound N*L/C         {bound:.2f} s   (N counts writes and read-backs)")
    print(f"ratio bound/wall    {bound / wall:.1%}")
    print(f"throughput          {len(ops) / wall:.0f} ops/s, {calls / wall:.0f} calls/s")
    print(f"worker CPU per call {worker_cpu / calls * 1000:.2f} ms ({worker_cpu:.1f} s)")
    print(f"emulator CPU / call {emulator_cpu / calls * 1000:.2f} ms ({emulator_cpu:.1f} s)")
    if args.rate_limit:
        limit_bound = calls / args.rate_limit
        print(f"rate limit          {args.rate_limit:.0f} requests/s, {refused} answered 429")
        print(f"bound calls/rate    {limit_bound:.2f} s; wall / bound {wall / limit_bound:.3f}")
    print(f"token requests      {tokens}")
    print(f"peak RSS (worker)   {peak_rss_mb():.0f} MB")
    print(
        f"load average        {load_before} before, {load_average()} after ({os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
