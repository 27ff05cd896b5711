"""Benchmark the Thingsee client: N set_installation_status calls through ONE shared client.

With per-request latency L and concurrency C, N calls cannot finish faster than N*L/C seconds
(the bound). The client should get close to it (target: >= 90 % at concurrency 8) and make one
token request per token lifetime however many threads share it.

    python bench/platform_client.py                    # in-process emulator, 50 ms latency
    python bench/platform_client.py --calls 400 --concurrency 8 32
    python bench/platform_client.py --base-url http://127.0.0.1:8765/prod/v1/ \\
        --client-id fieldhand-sandbox --client-secret ... --latency-ms 50
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.platform.interface import INSTALLATION_STATUSES  # noqa: E402
from app.platform.thingsee import ThingseeClient  # noqa: E402


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
    """Either an in-process emulator or an external one reached by its control URL."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._server: Any = None
        if args.base_url:
            self.base_url = args.base_url
            self.control_url = args.base_url.split("/prod/v1")[0] + "/_emulator/"
            self.client_id, self.client_secret = args.client_id, args.client_secret
        else:
            from emulator.server import start_emulator
            from emulator.state import EmulatorConfig

            self._server = start_emulator(
                EmulatorConfig(
                    client_id="bench",
                    client_secret="bench-secret",
                    latency_ms=args.latency_ms,
                    jitter_ms=0,
                    token_ttl=args.token_ttl,
                    seed=1,
                )
            )
            self.base_url = self._server.base_url
            self.control_url = self._server.control_url
            self.client_id = self._server.client_id
            self.client_secret = self._server.client_secret
        self._control = httpx.Client(base_url=self.control_url, timeout=30)
        if args.base_url:
            settings = {"latency_ms": args.latency_ms, "jitter_ms": 0, "token_ttl": args.token_ttl}
            self._control.post("settings", json=settings).raise_for_status()

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
        if self._server is not None:
            self._server.stop()


def run(
    client: ThingseeClient,
    emulator: Emulator,
    tuids: list[str],
    calls: int,
    concurrency: int,
    latency_s: float,
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
        bound_s=calls * latency_s / concurrency,
        client_tokens=client.token_requests() - tokens_before,
        emulator_tokens=(
            None
            if emulator_before is None or emulator_after is None
            else emulator_after - emulator_before
        ),
        errors=errors,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per run (default 2000)")
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=[1, 8, 32], help="thread counts to run"
    )
    parser.add_argument("--latency-ms", type=float, default=50.0, help="emulator latency")
    parser.add_argument("--devices", type=int, default=256, help="devices to seed")
    parser.add_argument("--base-url", help="use an external emulator instead of starting one")
    parser.add_argument("--client-id", default="fieldhand-sandbox")
    parser.add_argument("--client-secret", default="")
    parser.add_argument(
        "--token-ttl", type=float, default=900.0, help="token lifetime, emulator and client"
    )
    parser.add_argument("--token-margin", type=float, default=60.0, help="refresh this early")
    args = parser.parse_args(argv)

    emulator = Emulator(args)
    results: list[RunResult] = []
    latency_s = args.latency_ms / 1000.0
    try:
        tuids = emulator.seed(args.devices)
        client = ThingseeClient(
            emulator.base_url,
            emulator.client_id,
            emulator.client_secret,
            token_ttl=args.token_ttl,
            token_margin=args.token_margin,
        )
        with client:
            first_token_at = time.monotonic()
            client.get_installation_status(tuids[0])  # token and one warm connection
            print(
                f"{args.calls} set_installation_status calls, latency {args.latency_ms:.0f} ms, "
                f"{len(tuids)} devices, base {emulator.base_url}"
            )
            print(
                f"{'conc':>4} {'calls/s':>9} {'wall s':>8} {'bound s':>8} {'bound/wall':>10} "
                f"{'tokens(client)':>14} {'tokens(emulator)':>16} {'errors':>6}"
            )
            for concurrency in args.concurrency:
                cpu_before = time.process_time()
                result = run(client, emulator, tuids, args.calls, concurrency, latency_s)
                cpu_ms = (time.process_time() - cpu_before) * 1000 / args.calls
                results.append(result)
                print(
                    f"{result.concurrency:>4} {result.rate:>9.1f} {result.wall_s:>8.2f} "
                    f"{result.bound_s:>8.2f} {result.ratio:>10.1%} {result.client_tokens:>14} "
                    f"{'n/a' if result.emulator_tokens is None else result.emulator_tokens:>16} "
                    f"{result.errors:>6}   cpu {cpu_ms:.2f} ms/call",
                    flush=True,
                )
            # Used without pause, the client needs one token per (ttl - margin) seconds.
            elapsed = time.monotonic() - first_token_at
            refresh_every = args.token_ttl - args.token_margin
            lifetimes = int(elapsed // refresh_every) + 1
            print(
                f"token requests in total: client {client.token_requests()}, emulator "
                f"{emulator.token_requests()}; token lifetimes spanned: {lifetimes} "
                f"({elapsed:.1f} s, refresh every {refresh_every:.0f} s)"
            )
    finally:
        emulator.close()
    return 0 if all(r.errors == 0 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
