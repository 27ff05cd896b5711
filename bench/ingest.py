"""Ingest throughput: batches of 100 through POST /api/operations under gunicorn, beside a bare
Flask JSON endpoint in the same run.

Two references: the bare endpoint's request rate with a small JSON body (the framework's
ceiling, compared with operations/s), and, stricter, a bare endpoint that parses and answers the
same 100-operation batches (compared operation for operation). A third endpoint does what ingest
does before touching the database (signed-in session, CSRF, per-item validation and plan), to
show how much of the gap to the bare batch no database work can close.

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
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import BIN, ROOT, free_port, fresh_database  # noqa: E402

BATCH = 100


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


def hammer(
    base: str, path: str, clients: int, seconds: float, password: str, per_request: int = BATCH
) -> float:
    """Post from `clients` threads for `seconds`; return operations (or requests) per second."""
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
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{path}: {errors[0]}")
    return sum(done) * per_request / elapsed


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
        env = dict(
            os.environ,
            FIELDHAND_DATABASE_URL=url,
            FIELDHAND_SECRET_KEY="bench",
            FIELDHAND_LOGIN_RATE_LIMIT="1000 per second",
            FIELDHAND_PLATFORM_URL="http://127.0.0.1:9/prod/v1/",
        )
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
            for _ in range(200):
                try:
                    httpx.get(base + "/api/health", timeout=0.5)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            hammer(base, "/bench/bare-batch", args.clients, 1.0, password)  # warm up
            hammer(base, "/api/operations", args.clients, 1.0, password)
            bare = hammer(base, "/bench/bare", args.clients, args.seconds, password, 1)
            bare_batch = hammer(base, "/bench/bare-batch", args.clients, args.seconds, password)
            validated = hammer(
                base, "/bench/signed-in-validated", args.clients, args.seconds, password
            )
            real = hammer(base, "/api/operations", args.clients, args.seconds, password)
        finally:
            server.terminate()
            server.wait(10)

    print(f"database                 {url.split(':')[0]}")
    print(f"gunicorn workers/clients {args.workers}/{args.clients}, batches of {BATCH}")
    print(f"bare Flask JSON endpoint {bare:,.0f} requests/s (small body)")
    print(f"bare, same 100-op batch  {bare_batch:,.0f} ops/s")
    print(
        f"signed in + validated    {validated:,.0f} ops/s ({validated / bare_batch:.1%} of bare"
        " batch; no database)"
    )
    print(f"POST /api/operations     {real:,.0f} ops/s ({real / BATCH:,.0f} batches/s)")
    print(f"ratio to bare requests/s {real / bare:.0%}")
    print(f"ratio to bare batch      {real / bare_batch:.1%}")


if __name__ == "__main__":
    main()
