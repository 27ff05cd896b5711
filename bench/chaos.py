"""Chaos run (issue #11): is "synced" true when the platform is slow, late, flaky and down?

Starts on loopback ports a PostgreSQL-backed web (gunicorn), two `flask sync run` workers and
the Thingsee emulator; sends 10,000 operations over 2,000 devices through the HTTP API (10 % of
batches sent again, one batch sent twice at once, 200 out-of-order pairs) while the emulator
answers 20 % of calls 5xx, applies some writes and then answers 5xx, rate limits in windows,
stalls writes longer than the client's timeout, expires tokens every 30 s; SIGKILLs a worker
five times (a supervisor starts it again) and stops answering for 60 s (closing connections
unanswered) while the phones keep sending. Injected 5xx end when the outage begins, so the
recovery figure is the outage's own: the in-flight waits of 504s answered after the platform's
return would add up to one bound each, whatever the outage did. Then it compares the
database with every write the emulator received, per device, and prints:
lost operations, duplicate platform writes, devices whose final state or history order differs
from their applied actions in device_time order, operations reported `synced` on a drifted
device, worker deaths (exits we did not cause), seconds from the platform's return until the
outbox drained and until every operation settled, and wall time against max(N*L/C, N/rate).

    .venv/bin/python bench/chaos.py [--scale 1.0] [--operations N] [--duration 120]
        [--outage-s 60] [--late-stalls] [--database-url postgresql://.../fieldhand_chaos]

The full run is the default. `--scale 0.1 --duration 40 --outage-s 15` is a short run.
`--late-stalls` adds writes stalled past the in-flight bound (40 s): each such write lands
after the app has written again, so it costs one unavoidable duplicate entry; the final state
must still be the technician's last action.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _chaos_workload as workload  # noqa: E402
from bench._support import (  # noqa: E402
    BIN,
    ROOT,
    emulator_process,
    emulator_token,
    free_port,
    fresh_database,
    load_average,
)

PASSWORD = "chaos-password-long"
LATENCY_MS, JITTER_MS = 30.0, 40.0
WORKER_CONCURRENCY = 16
RATE_LIMIT_WINDOW = 150.0  # requests/s during the 429 windows
OUTAGE_AT = 0.75  # share of the sending time: phones keep sending through the outage
SENDING_SHARE = 0.9  # the phones' batches are spread over this share of the duration
LATE_BY_S = 10.0  # the older action of an out-of-order pair arrives this long after the newer


def _ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


class Workers:
    """Two `flask sync run` processes, started again whenever they exit (a supervisor)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.procs: list[subprocess.Popen[bytes] | None] = [None, None]
        self.killed: set[int] = set()
        self.deaths = 0
        self.kills = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _start(self, index: int) -> None:
        log = open(self.logs / f"worker{index}.log", "ab")  # noqa: SIM115 - lives with the process
        command = [str(BIN / "flask"), "--app", "app", "sync", "run"]
        command += ["--concurrency", str(WORKER_CONCURRENCY), "--name", f"chaos{index}"]
        self.procs[index] = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def start(self) -> None:
        for index in range(len(self.procs)):
            self._start(index)
        self._thread.start()

    def kill_one(self) -> None:
        """SIGKILL one worker mid-call, as an OOM killer or a host failure would."""
        index = self.kills % len(self.procs)
        proc = self.procs[index]
        if proc is not None and proc.poll() is None:
            self.killed.add(proc.pid)
            proc.send_signal(signal.SIGKILL)
            self.kills += 1

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            for index, proc in enumerate(self.procs):
                if proc is not None and proc.poll() is not None:
                    if proc.pid not in self.killed:
                        self.deaths += 1
                    self._start(index)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            if proc is not None:
                try:
                    code = proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    code = -9
                if code not in (0, -signal.SIGTERM):
                    self.deaths += 1


class Phone:
    """A technician's phone: signs in, posts batches, resends until the server answers."""

    def __init__(self, base: str, username: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=60)
        login = self.http.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        login.raise_for_status()
        self.headers = {"X-CSRFToken": login.json()["csrf_token"]}

    def send(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for _ in range(30):
            try:
                response = self.http.post(
                    "/api/operations", json={"operations": batch}, headers=self.headers
                )
                if response.status_code == 200:
                    results: list[dict[str, Any]] = response.json()["results"]
                    return results
            except httpx.TransportError:
                pass
            time.sleep(1)
        raise SystemExit("the web server refused a batch 30 times")


def _send_twice_at_once(
    base: str, username: str, batch: list[dict[str, Any]]
) -> list[list[dict[str, Any]]]:
    """Post one batch from two connections released at the same moment."""
    twins = [Phone(base, username) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[list[dict[str, Any]]] = [[], []]

    def send(k: int) -> None:
        barrier.wait()
        results[k] = twins[k].send(batch)

    threads = [threading.Thread(target=send, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _settings(control: str, **values: Any) -> None:
    httpx.post(control + "settings", json=values, timeout=30).raise_for_status()


def main() -> None:  # noqa: C901 - one scenario, read top to bottom
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="share of 10,000 ops / 2,000")
    parser.add_argument("--operations", type=int, default=None)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of sending")
    parser.add_argument("--outage-s", type=float, default=60.0)
    parser.add_argument("--late-stalls", action="store_true", help="also stall writes 40 s")
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/fieldhand_chaos"
    )
    args = parser.parse_args()
    operations = args.operations or round(10_000 * args.scale)
    devices = max(10, round(operations / 5))
    pairs = min(200, round(200 * operations / 10_000))
    duration, outage_s = args.duration, args.outage_s
    bound = 29.0
    load_before = load_average()

    _ensure_database(args.database_url)
    with (
        tempfile.TemporaryDirectory() as tmp,
        emulator_process("--devices", str(devices), "--seed", "2026", "--token-ttl", "30") as emu,
    ):
        url = fresh_database(args.database_url, Path(tmp))
        control = emu["control_url"]
        token = emulator_token(emu)
        auth = {"Authorization": f"Bearer {token}"}
        tuids = httpx.get(emu["base_url"] + "groups/unassigned/things", headers=auth, timeout=60)
        tuids_list: list[str] = tuids.json()["data"]["tuids"][:devices]
        for group in workload.GROUPS:
            httpx.post(emu["base_url"] + "groups", json={"group_id": group}, headers=auth)

        from app import create_app
        from app.services.accounts import create_user

        app = create_app({"DATABASE_URL": url})
        phones_n = 4
        with app.app_context():
            for i in range(phones_n + 1):
                create_user(f"tech{i}", PASSWORD, "technician")
        env = dict(
            os.environ,
            FIELDHAND_DATABASE_URL=url,
            FIELDHAND_SECRET_KEY="chaos",
            FIELDHAND_LOGIN_RATE_LIMIT="1000 per second",
            FIELDHAND_PLATFORM_URL=emu["base_url"],
            FIELDHAND_PLATFORM_CLIENT_ID=emu["client_id"],
            FIELDHAND_PLATFORM_CLIENT_SECRET=emu["client_secret"],
            FIELDHAND_SYNC_LEASE_S="30",
            FIELDHAND_SYNC_POLL_S="0.1",
        )
        port = free_port()
        web = subprocess.Popen(
            [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2"]
            + ["--log-level", "warning", "app:create_app()"],
            cwd=ROOT,
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                httpx.get(base + "/api/health", timeout=0.5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        plan = workload.build(tuids_list, operations, phones_n, pairs, seed=11)
        workers = Workers(env, Path(tmp))
        sent: set[str] = set()
        anomalies: list[str] = []
        sent_lock = threading.Lock()
        outage_end = [0.0]
        try:
            _settings(control, latency_ms=LATENCY_MS, jitter_ms=JITTER_MS, fail_rate=0.2)
            stats_before = httpx.get(control + "stats").json()
            workers.start()
            started = time.monotonic()

            def at(offset: float) -> None:
                time.sleep(max(0.0, started + offset - time.monotonic()))

            def record(results: list[dict[str, Any]], resend: bool) -> None:
                with sent_lock:
                    for r in results:
                        if r["result"] == "rejected":
                            anomalies.append(f"rejected {r['op_id']}: {r['error']}")
                        elif resend and r["result"] != "duplicate":
                            anomalies.append(f"resend of {r['op_id']} came back {r['result']}")
                        else:
                            sent.add(r["op_id"])

            late_queue: list[tuple[float, dict[str, Any]]] = []
            phones_done = threading.Event()

            def phone(index: int) -> None:
                device = Phone(base, f"tech{index}")
                batches = plan.phones[index]
                for n, batch in enumerate(batches):
                    at(duration * SENDING_SHARE * n / max(1, len(batches)))
                    record(device.send(batch), resend=False)
                    with sent_lock:
                        late_queue.extend(
                            (time.monotonic() + LATE_BY_S, plan.late[o["op_id"]])
                            for o in batch
                            if o["op_id"] in plan.late
                        )
                    if n % 10 == 3:  # 10 % of batches are sent again (a lost answer)
                        record(device.send(batch), resend=True)
                    if index == 0 and n == 5:  # one batch sent twice at the same moment
                        for got in _send_twice_at_once(base, f"tech{index}", batch):
                            record(got, resend=True)

            def late_phone() -> None:
                # Another technician's phone, offline for a while: its older action on the
                # device arrives after the newer one was sent (and often already synced).
                device = Phone(base, f"tech{phones_n}")
                while True:
                    with sent_lock:
                        now = time.monotonic()
                        due = [item for when, item in late_queue if when <= now]
                        late_queue[:] = [e for e in late_queue if e[0] > now]
                        finished = phones_done.is_set() and not late_queue
                    for i in range(0, len(due), 100):
                        record(device.send(due[i : i + 100]), resend=False)
                    if finished and not due:
                        return
                    time.sleep(0.5)

            def faults() -> None:
                windows = [
                    (0.15, lambda: _settings(control, rate_limit=RATE_LIMIT_WINDOW)),
                    (0.25, lambda: _settings(control, rate_limit=0)),
                    (0.3, lambda: _settings(control, stall_ms=12000, stall_share=0.05)),
                    (0.4, lambda: _settings(control, stall_ms=0)),
                    (0.45, lambda: _settings(control, rate_limit=RATE_LIMIT_WINDOW)),
                    (0.55, lambda: _settings(control, rate_limit=0)),
                ]
                if args.late_stalls:
                    # Early, so the late writes land and are read back before the outage.
                    windows += [
                        (0.2, lambda: _settings(control, stall_ms=40000, stall_share=0.02)),
                        (0.25, lambda: _settings(control, stall_ms=0)),
                    ]
                    windows.sort(key=lambda w: w[0])
                for fraction, action in windows:
                    at(duration * fraction)
                    action()

            def writes_fail_after_apply() -> None:
                after = [
                    {"status": s, "method": "POST", "path": "/things/"} for s in (502, 504, 500)
                ]
                while time.monotonic() < started + duration * OUTAGE_AT:
                    _settings(control, fail_next_after_apply=after)
                    time.sleep(3)

            def kills() -> None:
                for fraction in (0.1, 0.25, 0.4, 0.55, 0.7):
                    at(duration * fraction)
                    workers.kill_one()

            def outage() -> None:
                at(duration * OUTAGE_AT)
                # The injected faults end here: what follows measures recovery from the outage
                # itself, not the in-flight waits of 504s that keep arriving after it.
                _settings(control, outage="drop", fail_rate=0.0, fail_next_after_apply=[])
                at(duration * OUTAGE_AT + outage_s)
                _settings(control, outage="")
                outage_end[0] = time.monotonic()

            _settings(control, stall_methods=["POST"], stall_paths=["/installations", "/group"])
            phone_threads = [threading.Thread(target=phone, args=(i,)) for i in range(phones_n)]
            actors = [
                threading.Thread(target=f)
                for f in (late_phone, faults, writes_fail_after_apply, kills, outage)
            ]
            for t in phone_threads + actors:
                t.start()
            for t in phone_threads:
                t.join()
            phones_done.set()
            for t in actors:
                t.join()
            drained, settled = _wait_until_settled(app, started + 60 * 60)
            wall = time.monotonic() - started
        finally:
            workers.stop()
            web.terminate()
            web.wait(30)
        stats = httpx.get(control + "stats").json()
        calls_log = httpx.get(control + "calls", timeout=120).json()["calls"]
        history = httpx.get(control + "history", timeout=120).json()["devices"]
        breaker_opens = sum(
            (Path(tmp) / f"worker{i}.log").read_text(errors="replace").count("platform looks down")
            for i in range(2)
        )

    stored, steps, states, drift = _database_facts(app)
    verdict = workload.judge(sent, stored, steps, history)
    api_calls = [c for c in calls_log if "/auth/" not in c["path"]]
    served = [c for c in api_calls if c["status"] and c["status"] < 500 and c["status"] != 429]
    n = len(served)
    mean_latency = (LATENCY_MS + JITTER_MS / 2) / 1000
    concurrency = 2 * WORKER_CONCURRENCY
    bound_calls = n * mean_latency / concurrency
    print(f"operations sent     {len(sent)} over {len(history)} devices ({operations} planned)")
    print(f"states              {states}")
    print(f"drift               {drift}")
    print(f"lost                {verdict.lost}")
    print(f"duplicate writes    {verdict.duplicate_writes}")
    print(f"wrong final state   {verdict.wrong_final_state}")
    print(f"wrong history order {verdict.wrong_order}")
    print(f"false synced        {verdict.false_synced}")
    print(f"worker deaths       {workers.deaths} (besides {workers.kills} SIGKILLs we sent)")
    print(f"outage              {outage_s:.0f} s; breaker opened {breaker_opens} times")
    print(f"recovery: outbox    {drained - outage_end[0]:.1f} s after the platform returned")
    print(f"recovery: settled   {settled - outage_end[0]:.1f} s (every read-back done too)")
    print(f"in-flight bound     {bound:.0f} s; target: outbox drained within {20 + bound:.0f} s")
    print(f"API anomalies       {len(anomalies)} {anomalies[:3]}")
    print(
        f"platform calls      {len(api_calls)} ({n} served, "
        f"{sum(c['status'] == 429 for c in api_calls)} x 429, "
        f"{sum(c['status'] >= 500 for c in api_calls)} x 5xx, "
        f"{sum(c['status'] == 0 for c in api_calls)} dropped); token requests "
        f"{stats['token_requests'] - stats_before['token_requests']}"
    )
    print(
        f"wall time           {wall:.0f} s against max(N*L/C {bound_calls:.0f} s, "
        f"N/rate {n / RATE_LIMIT_WINDOW:.0f} s) with N={n} served calls, "
        f"L={mean_latency * 1000:.0f} ms, C={concurrency}; sending took {duration:.0f} s, "
        f"the outage {outage_s:.0f} s"
    )
    for what, examples in verdict.examples.items():
        print(f"  e.g. {what}: {examples}")
    print(
        f"load average        {load_before} before, {load_average()} after ({os.cpu_count()} cores)"
    )


def _wait_until_settled(app: Any, deadline: float) -> tuple[float, float]:
    """Return when the outbox drained and when every operation had settled."""
    from sqlalchemy import func, select

    from app.database import db
    from app.models.device_checks import DeviceCheck
    from app.models.operations import Operation, OutboxStep

    drained = 0.0
    with app.app_context():
        while time.monotonic() < deadline:
            pending = db.session.scalar(
                select(func.count())
                .select_from(OutboxStep)
                .where(OutboxStep.state.in_(("pending", "leased")))
            )
            if pending == 0 and not drained:
                drained = time.monotonic()
            unsettled = db.session.scalar(
                select(func.count())
                .select_from(Operation)
                .where(Operation.state.in_(("accepted", "syncing")))
            )
            owed = db.session.scalar(select(func.count()).select_from(DeviceCheck))
            db.session.rollback()
            if pending == 0 and unsettled == 0 and owed == 0:
                return drained, time.monotonic()
            if pending:
                drained = 0.0
            time.sleep(0.5)
    raise SystemExit("the run did not settle within an hour")


def _database_facts(app: Any) -> tuple[dict[str, Any], list[Any], dict[str, int], dict[str, int]]:
    from sqlalchemy import func, select

    from app.database import db
    from app.models.audit import AuditEvent
    from app.models.operations import Operation, OutboxStep

    with app.app_context():
        stored = {
            row.op_id: row
            for row in db.session.execute(
                select(Operation.id, Operation.op_id, Operation.state, Operation.tuid)
            )
        }
        steps = list(
            db.session.execute(
                select(
                    OutboxStep.id,
                    OutboxStep.tuid,
                    OutboxStep.action,
                    OutboxStep.result,
                    OutboxStep.order_at,
                    OutboxStep.operation_id,
                ).where(OutboxStep.state == "done")
            )
        )
        states: dict[str, int] = {
            state: n
            for state, n in db.session.execute(
                select(Operation.state, func.count()).group_by(Operation.state)
            )
        }
        drift: dict[str, int] = {
            action: n
            for action, n in db.session.execute(
                select(AuditEvent.action, func.count())
                .where(AuditEvent.action.like("sync.drift%"))
                .group_by(AuditEvent.action)
            )
        }
        held = db.session.scalar(
            select(func.count())
            .select_from(Operation)
            .where(Operation.error_code == "out_of_order")
        )
        states["(held out of order)"] = held or 0
    return stored, steps, states, drift


if __name__ == "__main__":
    main()
