"""Sync worker throughput: 10,000 operations (5,000 devices x status + group) to the emulator.

Prints wall time, the bound N*L/C (N platform writes, L latency, C concurrency), the ratio,
token requests and peak RSS of the worker process.

    .venv/bin/python bench/sync.py [--devices 5000] [--latency-ms 50] [--concurrency 16]
                                   [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import emulator_process, fresh_database, peak_rss_mb  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from app import create_app
    from app.database import db
    from app.services.accounts import create_user
    from app.services.operations import ingest
    from app.sync.worker import SyncWorker, WorkerSettings, favour_io_threads

    with (
        tempfile.TemporaryDirectory() as tmp,
        emulator_process(
            "--devices", str(args.devices), "--seed", "11", "--latency-ms", str(args.latency_ms)
        ) as emu,
    ):
        url = fresh_database(args.database_url, Path(tmp))
        tuids = httpx.get(
            emu["base_url"] + "groups/unassigned/things",
            headers={
                "Authorization": "Bearer "
                + httpx.post(
                    emu["base_url"] + "auth/client-token",
                    json={"client_id": emu["client_id"], "client_secret": emu["client_secret"]},
                ).json()["data"]["token"]
            },
            timeout=60,
        ).json()["data"]["tuids"][: args.devices]
        httpx.post(emu["control_url"] + "settings", json={"latency_ms": 0})
        app = create_app(
            {
                "DATABASE_URL": url,
                "PLATFORM_URL": emu["base_url"],
                "PLATFORM_CLIENT_ID": emu["client_id"],
                "PLATFORM_CLIENT_SECRET": emu["client_secret"],
            }
        )
        with app.app_context():
            user = create_user("bench", "bench-password-long", "technician")
            token = httpx.post(
                emu["base_url"] + "auth/client-token",
                json={"client_id": emu["client_id"], "client_secret": emu["client_secret"]},
            ).json()["data"]["token"]
            httpx.post(
                emu["base_url"] + "groups",
                json={"group_id": "prfi00bench"},
                headers={"Authorization": f"Bearer {token}"},
            )
            at = datetime.now(UTC) - timedelta(hours=1)
            ops = []
            for i, tuid in enumerate(tuids):
                when = (at + timedelta(milliseconds=i)).isoformat()
                ops.append(
                    {
                        "op_id": str(uuid.uuid4()),
                        "kind": "set_status",
                        "tuid": tuid,
                        "args": {"status": "installed"},
                        "device_time": when,
                    }
                )
                ops.append(
                    {
                        "op_id": str(uuid.uuid4()),
                        "kind": "set_group",
                        "tuid": tuid,
                        "args": {"group_id": "prfi00bench"},
                        "device_time": when,
                    }
                )
            for start in range(0, len(ops), 500):
                ingest(ops[start : start + 500], user)
            db.session.remove()
        stats_before = httpx.get(emu["control_url"] + "stats").json()
        httpx.post(emu["control_url"] + "settings", json={"latency_ms": args.latency_ms})

        settings = WorkerSettings.from_config(app.config)
        settings.concurrency = args.concurrency
        settings.poll_seconds = 0.05
        favour_io_threads()  # as `flask sync run` does
        worker = SyncWorker(app, settings, name="bench")
        started = time.perf_counter()
        done = worker.run(until_idle=True)
        wall = time.perf_counter() - started
        stats = httpx.get(emu["control_url"] + "stats").json()

    n = len(ops)
    bound = n * args.latency_ms / 1000 / args.concurrency
    print(f"database            {url.split(':')[0]}")
    print(f"operations          {n} ({len(tuids)} devices x status + group)")
    print(f"steps completed     {done}")
    print(f"latency, concurrency {args.latency_ms:.0f} ms, {args.concurrency}")
    print(f"wall time           {wall:.2f} s")
    print(f"bound N*L/C         {bound:.2f} s")
    print(f"ratio bound/wall    {bound / wall:.1%}")
    print(f"throughput          {n / wall:.0f} ops/s")
    print(f"token requests      {stats['token_requests'] - stats_before['token_requests']}")
    print(f"peak RSS (worker)   {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
