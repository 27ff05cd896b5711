"""Install verification at fleet size: 5,000 installed sensors, 80 % report within 5 min of the
install, 15 % late (5 to 25 min), 5 % never; the emulator's clock is advanced, not waited for.

The installs are synced by the worker first (writes and read-backs, real time). Then the bench
moves the emulator's clock and the worker's verification clock together, each time to the next
look due (at most --step seconds on), and waits until the worker has recorded every look due.
A look happens at its due time plus however long the worker really takes, and that real time is
counted in the delays. Printed: platform calls spent per device on verification (target <= 3 on
average), the time from a device's first message to `verified` (target <= the poll interval +
10 s), and that every silent device is flagged and no reporting device is.

    .venv/bin/python bench/verify.py [--devices 5000] [--latency-ms 10] [--concurrency 16]
                                     [--database-url postgresql://...]
"""

from __future__ import annotations

import os
import random
import statistics
import string
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _fleet as fleet  # noqa: E402
from bench._support import emulator_process, fresh_database, load_average  # noqa: E402

PROMPT, LATE, NEVER = "prompt", "late", "never"


def _plan(tuids: list[str], rng: random.Random) -> dict[str, tuple[str, float | None]]:
    """Who reports when: 80 % within 5 min, 15 % between 5 and 25 min, 5 % never."""
    plan: dict[str, tuple[str, float | None]] = {}
    shuffled = tuids[:]
    rng.shuffle(shuffled)
    n = len(tuids)
    for i, tuid in enumerate(shuffled):
        if i < n * 0.80:
            plan[tuid] = (PROMPT, rng.uniform(5, 300))
        elif i < n * 0.95:
            plan[tuid] = (LATE, rng.uniform(300, 1500))
        else:
            plan[tuid] = (NEVER, None)
    return plan


def main() -> None:
    parser = fleet.arguments(__doc__, devices=5000, latency_ms=10.0)
    parser.add_argument("--step", type=float, default=30.0, help="largest clock move, seconds")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()

    from sqlalchemy import func, select

    from app.database import db
    from app.models.operations import SYNCED, Operation
    from app.models.verifications import SILENT, VERIFIED, WAITING, InstallVerification

    rng = random.Random(args.seed)
    tuids = sorted(
        {
            "TSPR04" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=11))
            for _ in range(args.devices * 2)
        }
    )[: args.devices]
    plan = _plan(tuids, rng)
    load_before = load_average()
    offset = [0.0]  # the verification clock's lead over real time, as the emulator's

    def verify_now() -> datetime:
        return datetime.fromtimestamp(time.time() + offset[0], UTC)

    with tempfile.TemporaryDirectory() as tmp, emulator_process("--seed", "11") as emu:
        url = fresh_database(args.database_url, Path(tmp))
        control = httpx.Client(base_url=emu["control_url"], timeout=120)
        control.post("devices", json={"tuids": tuids}).raise_for_status()
        fleet.add_group(emu, "prfi00bench")
        app = fleet.create_app(url, emu, PLATFORM_RATE_LIMIT=0)
        installed_at = datetime.now(UTC)
        power = control.post(
            "power-plan", json={"devices": {t: after for t, (_, after) in plan.items()}}
        ).json()
        powered_from = power["now"]  # emulator time the delays count from
        ops = [
            {
                "op_id": str(uuid.uuid4()),
                "kind": "install",
                "tuid": tuid,
                "args": {"group_id": "prfi00bench"},
                "device_time": installed_at.isoformat(),
            }
            for tuid in tuids
        ]
        fleet.ingest_as_technician(app, ops)
        control.post("settings", json={"latency_ms": args.latency_ms})

        worker = fleet.worker(app, args.concurrency, verify_clock=verify_now)
        thread = threading.Thread(target=worker.run, name="bench-worker")
        sync_started = time.perf_counter()
        thread.start()
        with app.app_context():
            while db.session.scalar(select(func.count()).where(Operation.state == SYNCED)) < len(
                ops
            ):
                db.session.rollback()
                time.sleep(0.5)
            db.session.rollback()
        sync_wall = time.perf_counter() - sync_started
        looks_during_sync = worker.looks

        verify_started = time.perf_counter()
        steps = 0
        rows = InstallVerification
        with app.app_context():
            while True:
                now = verify_now()
                busy = db.session.scalar(
                    select(rows.id)
                    .where((rows.lease_owner.is_not(None)) | (rows.due_at <= now))
                    .limit(1)
                )
                if busy is not None:
                    db.session.rollback()
                    time.sleep(0.1)
                    continue
                next_due = db.session.scalar(select(func.min(rows.due_at)))
                db.session.rollback()
                if next_due is None:
                    break
                move = min(args.step, max(0.0, (next_due - now).total_seconds()) + 0.001)
                control.post("clock/advance", json={"seconds": move}).raise_for_status()
                offset[0] += move
                steps += 1
            verify_wall = time.perf_counter() - verify_started
            worker.stop()
            thread.join()
            results = {r.tuid: r for r in db.session.scalars(select(InstallVerification))}
            db.session.expunge_all()

    states = {t: r.state for t, r in results.items()}
    looks = [r.looks for r in results.values()]
    delays = []
    for tuid, (kind, after) in plan.items():
        row = results[tuid]
        if kind != NEVER and row.state == VERIFIED and row.verified_at is not None:
            first_message = powered_from + (after or 0.0)
            delays.append(row.verified_at.timestamp() - first_message)
    flagged_wrong = [t for t, (k, _) in plan.items() if k != NEVER and states[t] == SILENT]
    missed = [t for t, (k, _) in plan.items() if k == NEVER and states[t] != SILENT]
    unsettled = [t for t, s in states.items() if s == WAITING]
    by_kind = {
        k: [results[t].looks for t, (kk, _) in plan.items() if kk == k] for k in plan_kinds()
    }
    poll = float(app.config["VERIFY_POLL_S"])
    delays.sort()
    print(f"database             {url.split(':')[0]}")
    print(f"devices              {len(tuids)} installs (80 % prompt, 15 % late, 5 % never)")
    print(f"sync of the installs {sync_wall:.1f} s real (looks meanwhile: {looks_during_sync})")
    print(
        f"verification         {verify_wall:.1f} s real, {steps} clock moves, "
        f"window {app.config['VERIFY_WINDOW_S']:.0f} s, poll {poll:.0f} s"
    )
    print(
        f"platform calls/device {statistics.mean(looks):.2f} on average (target <= 3); "
        f"worker counted {worker.looks} looks = {worker.looks / len(tuids):.2f} per device"
    )
    for kind, counts in by_kind.items():
        print(
            f"  {kind:<7} {len(counts):>5} devices, {statistics.mean(counts):.2f} calls each, "
            f"max {max(counts)}"
        )
    print(
        f"first message -> verified: median {statistics.median(delays):.1f} s, "
        f"p95 {delays[int(len(delays) * 0.95) - 1]:.1f} s, max {delays[-1]:.1f} s "
        f"(target <= {poll + 10:.0f} s)"
    )
    print(f"verified             {sum(1 for s in states.values() if s == VERIFIED)}")
    print(
        f"silent               {sum(1 for s in states.values() if s == SILENT)} "
        f"(never-reporting devices not flagged: {len(missed)}; reporting devices flagged: "
        f"{len(flagged_wrong)}; still waiting: {len(unsettled)})"
    )
    ok = (
        statistics.mean(looks) <= 3
        and delays[-1] <= poll + 10
        and not missed
        and not flagged_wrong
        and not unsettled
    )
    print(f"verdict              {'PASS' if ok else 'FAIL'}")
    print(
        f"load average         {load_before} before, {load_average()} after "
        f"({os.cpu_count()} cores)"
    )


def plan_kinds() -> tuple[str, ...]:
    return (PROMPT, LATE, NEVER)


if __name__ == "__main__":
    main()
