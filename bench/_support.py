"""Shared bench plumbing: run the emulator as its own process, make a migrated database."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def emulator_process(*args: str, platform: str = "thingsee") -> Iterator[dict[str, Any]]:
    """Start `thingsee-emulator` in its own process (so it does not share our GIL)."""
    port = free_port()
    secret = "bench-secret"
    command = [
        str(BIN / "thingsee-emulator"),
        "--platform",
        platform,
        "--port",
        str(port),
        "--client-id",
        "bench",
        "--client-secret",
        secret,
        *args,
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{base}/_emulator/stats", timeout=0.5)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        prefix, api_key = "/prod/v1", None
        if platform != "thingsee":
            info = httpx.get(f"{base}/_emulator/platform", timeout=5).json()
            prefix, api_key = info["api_prefix"], info.get("api_key")
        yield {
            "base_url": f"{base}{prefix}/",
            "control_url": f"{base}/_emulator/",
            "client_id": "bench",
            "client_secret": secret,
            "api_key": api_key,
            "pid": proc.pid,
        }
    finally:
        proc.terminate()
        proc.wait(10)


def server_env(database_url: str) -> dict[str, str]:
    """Environment for the app under benchmark: this database, no login limit, no platform."""
    return dict(
        os.environ,
        FIELDHAND_DATABASE_URL=database_url,
        FIELDHAND_SECRET_KEY="bench",
        FIELDHAND_LOGIN_RATE_LIMIT="1000 per second",
        FIELDHAND_PLATFORM_URL="http://127.0.0.1:9/prod/v1/",
    )


def wait_for_http(url: str, tries: int = 400) -> None:
    """Poll a URL until the server behind it answers (or give up after `tries` x 50 ms)."""
    for _ in range(tries):
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.05)


def peak_rss_mb(pid: int | None = None) -> float:
    """Peak resident memory in MB of this process (or of a live child process by pid)."""
    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    status = Path(f"/proc/{pid}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def fresh_database(url: str | None, workdir: Path) -> str:
    """Return a database URL with the schema migrated from scratch."""
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import MIGRATIONS_DIR
    from tests.conftest import _reset_database

    url = url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    _reset_database(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
    os.environ.setdefault("FIELDHAND_SECRET_KEY", "bench")
    return url


def emulator_token(emu: dict[str, Any]) -> str:
    """Fetch a bearer token from a running emulator."""
    response = httpx.post(
        emu["base_url"] + "auth/client-token",
        json={"client_id": emu["client_id"], "client_secret": emu["client_secret"]},
        timeout=30,
    )
    token: str = response.json()["data"]["token"]
    return token


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages, as `uptime` prints them."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())
