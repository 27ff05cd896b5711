"""Ingest throughput: batches of 100 through POST /api/operations under gunicorn, beside a bare
Flask JSON endpoint in the same run.

Two references: the bare endpoint's request rate with a small JSON body (the framework's
ceiling, compared with operations/s), and, stricter, a bare endpoint that parses and answers the
same 100-operation batches (compared operation for operation). A third endpoint does what ingest
does before touching the database (signed-in session, CSRF, per-item validation and plan), to
show how much of the gap to the bare batch no database work can close.

Each rate is printed twice: as the clients saw it, and as the server's CPU cost per request
(gunicorn's processes, from psutil) allows on this machine's cores. The clients run in one
Python process and limit the cheap endpoints, so only the second is a property of the server.
On PostgreSQL the database server's own CPU is not counted.

    .venv/bin/python bench/ingest.py [--seconds 10] [--clients 8] [--workers 4]
                                     [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import (  # noqa: E402
    BIN,
    ROOT,
    free_port,
    fresh_database,
    server_env,
    wait_for_http,
)

BATCH = 100
CORES = os.cpu_count() or 1


def batch() -> dict[str, object]:
    now = datetime.now(UTC).isoformat()
    return {
        "operations": [
            {
                "op_id": str(uuid.uuid4()),
                "kind": "install",
                "tuid": f"TSPR04{uuid.uuid4().hex[:11].upper()}",
                "args": {"group_id": "prfi00bench"},
                "device_time": now,
                "seen": {"status": "new", "group": "unassigned"},
            }
            for _ in range(BATCH)
        ]
    }


def server_cpu_s(server: psutil.Process) -> float:
    """CPU seconds used so far by gunicorn's master and its live workers."""
    total = 0.0
    for proc in [server, *server.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


@dataclass
class Phase:
    rate: float  # operations (or requests) per second, as the clients saw it
    requests: int
    server_cpu_s: float

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu_s * 1000 / self.requests

    def capacity(self, per_request: int) -> float:
        """Operations (or requests) per second the server's CPUs could serve at this cost."""
        return CORES * per_request / (self.server_cpu_s / self.requests)


def hammer(
    base: str,
    path: str,
    clients: int,
    seconds: float,
    password: str,
    server: psutil.Process,
    per_request: int = BATCH,
) -> Phase:
    """Post from `clients` threads for `seconds`; measure the rate and the server's CPU time."""
    done = [0] * clients
    errors: list[str] = []
    payloads = [batch() for _ in range(50)] if per_request > 1 else [{"n": 1, "operations": []}]

    def run(i: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            login = client.post("/api/auth/login", json={"username": "bench", "password": password})
            headers = {"X-CSRFToken": login.json()["csrf_token"]}
            deadline = time.perf_counter() + seconds
            n = 0
            while time.perf_counter() < deadline:
                body = payloads[(i * 7 + n) % len(payloads)]
                # fresh op_ids so the real endpoint inserts rather than answering duplicates
                for item in body["operations"]:  # type: ignore[union-attr]
                    item["op_id"] = str(uuid.uuid4())
                r = client.post(path, json=body, headers=headers)
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                    return
                n += 1
            done[i] = n

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    cpu_before = server_cpu_s(server)
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    cpu = server_cpu_s(server) - cpu_before
    if errors:
        raise SystemExit(f"{path}: {errors[0]}")
    return Phase(sum(done) * per_request / elapsed, sum(done), cpu)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.database_url, Path(tmp))
        from app import create_app
        from app.services.accounts import create_user

        password = "bench-password-long"
        with create_app({"DATABASE_URL": url}).app_context():
            create_user("bench", password, "technician")
        port = free_port()
        env = server_env(url)
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
                "bench.ingest_app:app",
            ],
            cwd=ROOT,
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_http(base + "/api/health")
            watched = psutil.Process(server.pid)
            for path in ("/bench/bare-batch", "/api/operations"):  # warm up
                hammer(base, path, args.clients, 1.0, password, watched)
            bare = hammer(base, "/bench/bare", args.clients, args.seconds, password, watched, 1)
            bare_batch = hammer(
                base, "/bench/bare-batch", args.clients, args.seconds, password, watched
            )
            validated = hammer(
                base, "/bench/signed-in-validated", args.clients, args.seconds, password, watched
            )
            real = hammer(base, "/api/operations", args.clients, args.seconds, password, watched)
        finally:
            server.terminate()
            server.wait(10)

    def row(label: str, phase: Phase, unit: str, note: str = "") -> None:
        print(f"{label:<25}{phase.rate:>9,.0f} {unit:<13}{phase.cpu_ms_per_request:7.2f} ms {note}")

    print(f"database                 {url.split(':')[0]}")
    print(
        f"gunicorn workers/clients {args.workers}/{args.clients}, batches of {BATCH}, {CORES} cores"
    )
    print(f"{'':<25}{'as the clients saw it':<23}server CPU per request")
    row("bare Flask JSON endpoint", bare, "requests/s", "(small body)")
    row("bare, same 100-op batch", bare_batch, "ops/s")
    row("signed in + validated", validated, "ops/s", "(no database)")
    row("POST /api/operations", real, "ops/s", f"({real.rate / BATCH:,.0f} batches/s)")
    # The clients share one Python process and can be the limit; the server's CPU cost per
    # request gives the rate the server alone could reach on this machine's cores.
    for label, reference, per_request in (
        ("bare requests/s", bare, 1),
        ("bare batch", bare_batch, BATCH),
    ):
        seen = real.rate / reference.rate
        server_bound = real.capacity(BATCH) / reference.capacity(per_request)
        print(f"ratio to {label:<16}{seen:7.1%} as seen, {server_bound:7.1%} by server CPU")


if __name__ == "__main__":
    main()
