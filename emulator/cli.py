"""The `thingsee-emulator` console script: serve the emulator until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence
from dataclasses import replace
from types import FrameType

from .platforms import PLATFORMS, THINGSEE, platform_defaults
from .server import start_emulator
from .state import EmulatorConfig

# Seeded CLI fleets include a few silent devices so the alert routes have something to show.
CLI_OFFLINE_SHARE = 0.05


def build_parser() -> argparse.ArgumentParser:
    """Describe the command-line options."""
    defaults = EmulatorConfig()
    parser = argparse.ArgumentParser(
        prog="thingsee-emulator",
        description="Emulate the Thingsee Open Services REST API (or, with --platform, "
        "ThingsMatrix 2.3, ThingScale 2.0 or thingsHub v3) on a local port.",
    )
    parser.add_argument("--platform", choices=PLATFORMS, default=THINGSEE)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--client-id", default=defaults.client_id)
    parser.add_argument("--client-secret", default=None, help="default: random, printed")
    parser.add_argument(
        "--token-ttl", type=float, default=None, help="seconds (default: the platform's own)"
    )
    parser.add_argument("--latency-ms", type=float, default=defaults.latency_ms)
    parser.add_argument("--jitter-ms", type=float, default=defaults.jitter_ms)
    parser.add_argument(
        "--fail-rate", type=float, default=defaults.fail_rate, help="share answered 5xx, 0-1"
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        help="requests/s; 0 is off (default: the platform's documented limit, else off)",
    )
    parser.add_argument("--devices", type=int, default=0, help="seed this many devices")
    parser.add_argument("--seed", type=int, default=None, help="makes seeded devices repeatable")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Start the emulator, print how to reach it, and serve until interrupted."""
    args = build_parser().parse_args(argv)
    config = platform_defaults(
        args.platform,
        EmulatorConfig(
            client_id=args.client_id,
            client_secret=args.client_secret,
            latency_ms=args.latency_ms,
            jitter_ms=args.jitter_ms,
            fail_rate=args.fail_rate,
            devices=args.devices,
            seed=args.seed,
            offline_share=CLI_OFFLINE_SHARE,
        ),
    )
    overrides = {"token_ttl": args.token_ttl, "rate_limit": args.rate_limit}
    config = replace(config, **{k: v for k, v in overrides.items() if v is not None})
    server = start_emulator(config, host=args.host, port=args.port, platform=args.platform)
    name = "Thingsee" if args.platform == THINGSEE else args.platform
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Handle SIGINT ourselves too: a shell starting us in the background makes Python ignore it.
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(f"{name} emulator: {server.base_url}", flush=True)
    print(f"  control:       {server.control_url}", flush=True)
    print(f"  client_id:     {server.client_id}", flush=True)
    print(f"  client_secret: {server.client_secret}", flush=True)
    print(f"  devices:       {len(server.state.tuids())}", flush=True)
    if args.platform != THINGSEE:
        # ThingScale's API token and ThingsMatrix's API key; the same value as the secret.
        print(f"  api key:       {server.client_secret}", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        print(f"{name} emulator stopped.", flush=True)
    return 0
