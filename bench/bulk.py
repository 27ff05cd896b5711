"""Bulk retire of 10,000 devices: dry-run, confirm, and the sync worker draining it to the emulator.

The emulator runs as its own process at --latency-ms. The web side is the Flask test client in
this process (the dry run answers 202 and reads the devices in a background thread of this
process, followed by polling as the console does); the sync worker is `flask sync run
--concurrency C` as a separate process, started before the confirm so its start-up is not
timed. Prints the dry-run time (platform-bound: one status
read per device, C at a time), the database share of preview and confirm, the time from confirm
to the job being done, the bound N*L/C with the ratio, and the peak RSS of web and worker. As in
bench/sync.py, N counts every platform call the worker makes for the job: the writes and the
read-backs that confirm them (app.sync.readback).

    .venv/bin/python bench/bulk.py [--devices 10000] [--latency-ms 50] [--concurrency 16]
                                   [--database-url postgresql://...]
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _fleet as fleet  # noqa: E402
from bench._support import BIN, ROOT, emulator_process, fresh_database, peak_rss_mb  # noqa: E402

PASSWORD = "bench-password-long"


class InstantPlatform:
    """Answers preview reads at once, so the preview's own database time can be measured."""

    def get_installation_status(self, tuid: str) -> str:
        return "installed"

    def get_group(self, tuid: str) -> str:
        return "unassigned"

    def list_groups(self, q: str | None = None, limit: int | None = None) -> list[Any]:
        return []

    def group_things(self, group_id: str) -> list[str]:
        return []


def _json(response: Any) -> dict[str, Any]:
    body = response.json
    assert isinstance(body, dict), response
    return body


def main() -> None:
    args = fleet.arguments(__doc__, devices=10_000, latency_ms=50.0).parse_args()

    from app.database import db
    from app.models.operations import SyncAttempt
    from app.models.users import User
    from app.services import bulk as bulk_service
    from app.services.accounts import create_user
    from tests.conftest import ApiClient

    with (
        tempfile.TemporaryDirectory() as tmp,
        emulator_process(
            "--devices", str(args.devices), "--seed", "11", "--latency-ms", "0"
        ) as emu,
    ):
        url = fresh_database(args.database_url, Path(tmp))
        tuids = fleet.unassigned_tuids(emu, args.devices)
        app = fleet.create_app(
            url, emu, SECRET_KEY="bench", BULK_PREVIEW_CONCURRENCY=args.concurrency
        )
        with app.app_context():
            create_user("sue", PASSWORD, "supervisor", display_name="Bench Supervisor")
            # The preview's database work alone, against a platform that answers at once.
            user = db.session.scalar(select(User).where(User.username == "sue"))
            assert user is not None
            from app.services.bulk.targets import from_entries

            started = time.perf_counter()
            targets = from_entries(tuids, 50_000)
            action = bulk_service.job_action("retire", None)
            instant: Any = InstantPlatform()
            dry = bulk_service.create_checking_job(
                action=action, targets=targets, user=user, platform=instant
            )
            bulk_service.check_devices(
                dry.id,
                action=action,
                targets=targets,
                platform=instant,
                concurrency=args.concurrency,
            )
            preview_db_s = time.perf_counter() - started
            bulk_service.cancel(dry.id, user)
            db.session.remove()

        httpx.post(emu["control_url"] + "settings", json={"latency_ms": args.latency_ms})
        env = dict(os.environ)
        platform = fleet.platform_settings(emu)
        env.update({f"FIELDHAND_{name}": value for name, value in platform.items()})
        env.update(
            FIELDHAND_DATABASE_URL=url, FIELDHAND_SECRET_KEY="bench", FIELDHAND_SYNC_POLL_S="0.05"
        )
        worker = subprocess.Popen(
            [
                str(BIN / "flask"),
                "--app",
                "app",
                "sync",
                "run",
                "--concurrency",
                str(args.concurrency),
                "--name",
                "bench-worker",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            api = ApiClient(app.test_client())
            assert api.login("sue", PASSWORD).status_code == 200

            started = time.perf_counter()
            preview = api.post("/api/bulk/preview", json={"action": "retire", "tuids": tuids})
            assert preview.status_code == 202, preview.json
            job = _json(preview)["job"]
            while job["state"] == "checking":  # read in the background; follow it as the UI does
                time.sleep(0.1)
                job = _json(api.get(f"/api/bulk/{job['id']}"))
            dry_run_s = time.perf_counter() - started
            assert job["state"] == "preview", job
            will_change = job["summary"]["will_change"]

            before = httpx.get(emu["control_url"] + "stats").json()
            started, confirm_cpu = time.perf_counter(), time.process_time()
            confirmed = api.post(
                f"/api/bulk/{job['id']}/confirm", json={"expected_count": will_change}
            )
            confirm_s = time.perf_counter() - started
            confirm_cpu = time.process_time() - confirm_cpu
            assert confirmed.status_code == 200, confirmed.json
            while True:
                state = _json(api.get(f"/api/bulk/{job['id']}"))
                if state["state"] == "done":
                    break
                if worker.poll() is not None:
                    error = worker.stderr.read().decode() if worker.stderr else ""
                    raise SystemExit(f"worker exited: {error[-2000:]}")
                time.sleep(0.5)  # light polling: this machine's cores are shared with the worker
            seen_done_s = time.perf_counter() - started
            at_done = httpx.get(emu["control_url"] + "stats").json()
            confirm_started_at = datetime.now(UTC) - timedelta(seconds=seen_done_s)
            worker_rss = peak_rss_mb(worker.pid)
            with app.app_context():
                first, last = db.session.execute(
                    select(func.min(SyncAttempt.started_at), func.max(SyncAttempt.finished_at))
                ).one()
                db.session.remove()
            complete_s = (last - confirm_started_at).total_seconds()
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
        stats = httpx.get(emu["control_url"] + "stats").json()

    n = will_change
    tokens = at_done["token_requests"] - before["token_requests"]
    calls = at_done["requests"] - before["requests"] - tokens
    bound = calls * args.latency_ms / 1000 / args.concurrency
    writes_bound = n * args.latency_ms / 1000 / args.concurrency
    by_state = state["progress"]["by_state"]
    print(f"database              {url.split(':')[0]}")
    print(f"devices               {len(tuids)} listed, {n} to retire")
    print(f"latency, concurrency  {args.latency_ms:.0f} ms, {args.concurrency}")
    print(f"dry-run (preview)     {dry_run_s:.2f} s  ({len(tuids)} status reads)")
    print(f"  of which database   {preview_db_s:.2f} s  (same preview, instant platform)")
    print(f"confirm               {confirm_s:.2f} s  ({n} operations + outbox rows)")
    print(f"  CPU of this process {confirm_cpu:.2f} s  (steadier than wall time under load)")
    print(f"confirm -> done       {seen_done_s:.2f} s  (the job seen done, polled every 0.5 s)")
    print(f"  last write after    {complete_s:.2f} s  ({by_state})")
    print(f"  first write after   {(first - confirm_started_at).total_seconds():.2f} s")
    print(f"  sync window         {(last - first).total_seconds():.2f} s  (first to last write)")
    print(f"platform calls N      {calls} = {n} writes + {calls - n} read-back GETs")
    print(f"bound N*L/C           {bound:.2f} s  (N counts writes and read-backs)")
    print(f"ratio done/bound      {seen_done_s / bound:.2f}x  (target <= 1.20x)")
    last_ratio = complete_s / writes_bound
    print(f"writes alone          {writes_bound:.2f} s bound; last write at {last_ratio:.2f}x")
    print(f"emulator requests     {stats.get('requests')}")
    print(f"peak RSS web          {peak_rss_mb():.0f} MB  (this process: test client + app)")
    print(f"peak RSS worker       {worker_rss:.0f} MB")


if __name__ == "__main__":
    main()
