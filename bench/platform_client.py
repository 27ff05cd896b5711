"""Benchmark each platform's client: N set_installation_status calls through ONE shared client.

With per-request latency L and concurrency C, N calls cannot finish faster than N*L/C seconds;
a platform with a documented rate limit (ThingScale: 20 requests/s) adds N/rate. The bound is
max(N*L/C, N/rate). Each client should get close to it (target: >= 90 % at concurrency 8) and
make one token request per token lifetime however many threads share it (none with a fixed API
token). The emulator enforces the documented rate limit, so a client that overran it would be
refused (429s show as errors).

    python bench/platform_client.py                          # every platform, 50 ms latency
    python bench/platform_client.py --platform thingsee --calls 400 --concurrency 8 32
    python bench/platform_client.py --platform thingsee \\
        --base-url http://127.0.0.1:8765/prod/v1/ --client-id fieldhand-sandbox --client-secret ...
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.platform.interface import INSTALLATION_STATUSES, Platform  # noqa: E402
from app.platform.provider import PLATFORM_KEYS, build_platform, profile_for  # noqa: E402
from bench._support import emulator_process  # noqa: E402


@dataclass
class RunResult:
    concurrency: int
    calls: int
    wall_s: float
    bound_s: float
    client_tokens: int
    emulator_tokens: int | None
    errors: int

    @property
    def rate(self) -> float:
        return self.calls / self.wall_s

    @property
    def ratio(self) -> float:
        return self.bound_s / self.wall_s


class Emulator:
    """Either an in-process emulator of the platform or an external one (its control URL)."""

    def __init__(self, platform: str, args: argparse.Namespace) -> None:
        self._stack = ExitStack()
        self.platform = platform
        settings = {"latency_ms": args.latency_ms, "jitter_ms": 0, "token_ttl": args.token_ttl}
        if args.base_url:
            self.base_url = args.base_url
            origin = httpx.URL(args.base_url).copy_with(path="/", query=None)
            self.control_url = str(origin) + "_emulator/"
            self.client_id, self.client_secret = args.client_id, args.client_secret
        else:
            # Its own process, as the real platform is: the emulator's CPU must not share the
            # client's GIL, or the bench measures the emulator's work as the client's overhead.
            emu = self._stack.enter_context(
                emulator_process(
                    "--seed",
                    "1",
                    "--latency-ms",
                    str(args.latency_ms),
                    "--jitter-ms",
                    "0",
                    *(["--token-ttl", str(args.token_ttl)] if args.token_ttl else []),
                    platform=platform,
                )
            )
            self.base_url = emu["base_url"]
            self.control_url = emu["control_url"]
            self.client_id = emu["client_id"]
            self.client_secret = emu["api_key"] or emu["client_secret"]
        self._control = httpx.Client(base_url=self.control_url, timeout=30)
        if args.base_url:
            self._control.post("settings", json=settings).raise_for_status()

    def settings(self) -> dict[str, Any]:
        """Return the platform settings a client of this emulator needs."""
        return {
            "PLATFORM": self.platform,
            "PLATFORM_URL": self.base_url,
            "PLATFORM_CLIENT_ID": self.client_id,
            "PLATFORM_CLIENT_SECRET": self.client_secret,
            "PLATFORM_API_KEY": self.client_secret if self.platform == "thingscale" else None,
        }

    def seed(self, count: int) -> list[str]:
        response = self._control.post("devices", json={"count": count})
        response.raise_for_status()
        return list(response.json()["tuids"])

    def token_requests(self) -> int | None:
        try:
            return int(self._control.get("stats").json()["token_requests"])
        except (httpx.HTTPError, KeyError, ValueError):
            return None

    def close(self) -> None:
        self._control.close()
        self._stack.close()


def run(
    client: Platform,
    emulator: Emulator,
    tuids: list[str],
    calls: int,
    concurrency: int,
    bound_s: float,
) -> RunResult:
    """Make `calls` status writes at `concurrency` through the shared client."""
    tokens_before = client.token_requests()
    emulator_before = emulator.token_requests()
    errors = 0
    errors_lock = threading.Lock()

    def one(i: int) -> None:
        nonlocal errors
        status = INSTALLATION_STATUSES[1 + i // len(tuids) % 4]
        try:
            client.set_installation_status(tuids[i % len(tuids)], status)
        except Exception:
            with errors_lock:
                errors += 1

    with ThreadPoolExecutor(concurrency) as pool:
        started = time.perf_counter()
        list(pool.map(one, range(calls)))
        wall = time.perf_counter() - started
    emulator_after = emulator.token_requests()
    return RunResult(
        concurrency=concurrency,
        calls=calls,
        wall_s=wall,
        bound_s=bound_s,
        client_tokens=client.token_requests() - tokens_before,
        emulator_tokens=(
            None
            if emulator_before is None or emulator_after is None
            else emulator_after - emulator_before
        ),
        errors=errors,
    )


def bench_platform(platform: str, args: argparse.Namespace) -> list[RunResult]:
    """Run every concurrency against one platform's emulator and print a table."""
    profile = profile_for(platform)
    rate = profile.rate_limit
    # A rate-limited platform runs fewer calls: the bound is N/rate whatever the concurrency.
    calls = min(args.calls, int(rate * args.rate_limited_s)) if rate else args.calls
    latency_s = args.latency_ms / 1000.0
    emulator = Emulator(platform, args)
    results: list[RunResult] = []
    try:
        tuids = emulator.seed(args.devices)
        settings = {
            **emulator.settings(),
            "PLATFORM_TOKEN_TTL_S": args.token_ttl,
            "PLATFORM_TOKEN_MARGIN_S": args.token_margin,
        }
        client = build_platform(settings)
        try:
            first_token_at = time.monotonic()
            client.get_installation_status(tuids[0])  # token and one warm connection
            limit = f", documented limit {rate:.0f} requests/s" if rate else ""
            print(
                f"\n{profile.title}: {calls} set_installation_status calls, latency "
                f"{args.latency_ms:.0f} ms{limit}, {len(tuids)} devices, base {emulator.base_url}"
            )
            print(
                f"{'conc':>4} {'calls/s':>9} {'wall s':>8} {'bound s':>8} {'bound/wall':>10} "
                f"{'tokens(client)':>14} {'tokens(emulator)':>16} {'errors':>6}"
            )
            for concurrency in args.concurrency:
                bound = max(calls * latency_s / concurrency, calls / rate if rate else 0.0)
                cpu_before = time.process_time()
                result = run(client, emulator, tuids, calls, concurrency, bound)
                cpu_ms = (time.process_time() - cpu_before) * 1000 / calls
                results.append(result)
                print(
                    f"{result.concurrency:>4} {result.rate:>9.1f} {result.wall_s:>8.2f} "
                    f"{result.bound_s:>8.2f} {result.ratio:>10.1%} {result.client_tokens:>14} "
                    f"{'n/a' if result.emulator_tokens is None else result.emulator_tokens:>16} "
                    f"{result.errors:>6}   cpu {cpu_ms:.2f} ms/call",
                    flush=True,
                )
            elapsed = time.monotonic() - first_token_at
            if profile.token_ttl == float("inf"):
                print(f"token requests in total: 0 (a fixed API token; {elapsed:.1f} s)")
            else:
                # Used without pause, the client needs one token per (ttl - margin) seconds.
                refresh_every = args.token_ttl - args.token_margin
                lifetimes = int(elapsed // refresh_every) + 1
                print(
                    f"token requests in total: client {client.token_requests()}, emulator "
                    f"{emulator.token_requests()}; token lifetimes spanned: {lifetimes} "
                    f"({elapsed:.1f} s, refresh every {refresh_every:.0f} s)"
                )
        finally:
            client.close()
    finally:
        emulator.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--platform", choices=("all", *PLATFORM_KEYS), default="all", help="default: all"
    )
    parser.add_argument("--calls", type=int, default=2000, help="calls per run (default 2000)")
    parser.add_argument(
        "--rate-limited-s",
        type=float,
        default=10.0,
        help="on a rate-limited platform, make as many calls as fit in this many seconds",
    )
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=[1, 8, 32], help="thread counts to run"
    )
    parser.add_argument("--latency-ms", type=float, default=50.0, help="emulator latency")
    parser.add_argument("--devices", type=int, default=256, help="devices to seed")
    parser.add_argument("--base-url", help="use an external emulator (one --platform)")
    parser.add_argument("--client-id", default="fieldhand-sandbox")
    parser.add_argument("--client-secret", default="")
    parser.add_argument(
        "--token-ttl", type=float, default=900.0, help="token lifetime, emulator and client"
    )
    parser.add_argument("--token-margin", type=float, default=60.0, help="refresh this early")
    args = parser.parse_args(argv)
    platforms = PLATFORM_KEYS if args.platform == "all" else (args.platform,)
    if args.base_url and len(platforms) != 1:
        parser.error("--base-url needs one --platform")

    results = [r for platform in platforms for r in bench_platform(platform, args)]
    return 0 if all(r.errors == 0 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
