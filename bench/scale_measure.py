"""Measuring for bench/scale.py: timing, CPU, percentiles, the app under test, the table."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import scale_fill


@dataclass
class Figure:
    """One line of the table: what was measured, against which target, and the verdict."""

    name: str
    value: str
    target: str
    ok: bool | None
    note: str = ""


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def timed(action: Callable[[], Any], runs: int, warm: int = 2) -> tuple[list[float], Any]:
    """Run `action` warm times, then `runs` times; return the times in ms and the last result."""
    result = None
    for _ in range(warm):
        result = action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def interleaved(actions: dict[str, Callable[[], Any]], runs: int) -> dict[str, list[float]]:
    """Time each action in turn, `runs` rounds after a warm-up, in ms.

    Taking turns makes a neighbour's burst of load fall on every action alike, so their ratio
    holds on a busy machine.
    """
    for action in actions.values():
        action()
        action()
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            times[name].append((time.perf_counter() - started) * 1000)
    return times


def load() -> str:
    """Return the machine's load averages, to print beside figures."""
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


class CpuMeter:
    """CPU seconds spent by this process and by the PostgreSQL backends serving one app.

    On a loaded machine wall times stretch with everyone else's work; CPU per request much less,
    so it is the figure to compare between runs. Backends must be local processes (/proc).
    """

    def __init__(self, app: Any) -> None:
        from sqlalchemy import event

        from app.database import db

        self.backends: set[int] = set()
        with app.app_context():
            if db.engine.dialect.name == "postgresql":
                event.listen(db.engine, "connect", self._remember)
                db.engine.dispose()  # reconnect, so every connection is remembered

    def _remember(self, dbapi_connection: Any, _record: Any) -> None:
        self.backends.add(dbapi_connection.info.backend_pid)

    def database(self) -> float:
        """CPU seconds of the backends so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.backends:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # not local, or gone
            total += (int(fields[11]) + int(fields[12])) / ticks
        return total

    def seconds(self) -> float:
        """CPU seconds of this process and the backends so far."""
        return time.process_time() + self.database()


def app_for(url: str) -> Any:
    """Return the real app on this database (no platform: nothing here calls it)."""
    from app import create_app

    return create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench", "LOGIN_RATE_LIMIT": "1000 per second"}
    )


def signed_in(app: Any, username: str) -> Any:
    """Return a test client signed in as one of the fill's users."""
    from tests.conftest import ApiClient

    api = ApiClient(app.test_client())
    response = api.login(username, scale_fill.BENCH_PASSWORD)
    assert response.status_code == 200, response.json
    return api


def print_table(title: str, figures: list[Figure]) -> None:
    """Print figures under a title, with PASS/MISS."""
    if not figures:
        return
    print(f"\n{title}")
    width = max(len(f.name) for f in figures)
    for f in figures:
        verdict = "" if f.ok is None else ("PASS" if f.ok else "MISS")
        print(f"  {f.name:<{width}}  {f.value:<34} {f.target:<16} {verdict:<4}  {f.note}")
