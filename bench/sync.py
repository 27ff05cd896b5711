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

from bench import _fleet as fleet  # noqa: E402
from bench._support import emulator_process, fresh_database, load_average, peak_rss_mb  # noqa: E402


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
    parser = fleet.arguments(__doc__, devices=5000, latency_ms=50.0)
    parser.add_argument("--rate-limit", type=float, default=0.0, help="emulator requests/s")
    parser.add_argument("--profile", default=None, help="write a cProfile of the worker here")
    args = parser.parse_args()

    load_before = load_average()
    with (
        tempfile.TemporaryDirectory() as tmp,
        emulator_process("--devices", str(args.devices), "--seed", "11") as emu,
    ):
        url = fresh_database(args.database_url, Path(tmp))
        tuids = fleet.unassigned_tuids(emu, args.devices)
        fleet.add_group(emu, "prfi00bench")
        app = fleet.create_app(url, emu)
        ops = _operations(tuids, "prfi00bench")
        fleet.ingest_as_technician(app, ops)
        httpx.post(
            emu["control_url"] + "settings",
            json={"latency_ms": args.latency_ms, "rate_limit": args.rate_limit},
        )
        stats_before = httpx.get(emu["control_url"] + "stats").json()
        emulator_proc = psutil.Process(emu["pid"])
        emulator_cpu_before = sum(emulator_proc.cpu_times()[:2])

        worker = fleet.worker(app, args.concurrency)
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
