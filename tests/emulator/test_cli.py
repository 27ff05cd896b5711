"""The thingsee-emulator command: options, start-up banner and a clean Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import httpx

from emulator.cli import build_parser


def test_parser_defaults() -> None:
    args = build_parser().parse_args([])

    assert (args.host, args.port) == ("127.0.0.1", 8081)
    assert args.client_id == "fieldhand-sandbox"
    assert args.client_secret is None
    assert args.platform == "thingsee"
    # None: the platform's own (Thingsee: 900 s tokens, no rate limit).
    assert (args.token_ttl, args.rate_limit, args.devices) == (None, None, 0)


def test_module_serves_seeded_devices_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "--port",
            "0",
            "--devices",
            "5",
            "--seed",
            "1",
            "--client-id",
            "cli-test",
            "--latency-ms",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(5)]
        found = re.search(r"(http://\S+/prod/v1/)", banner[0])
        if found is None:
            process.kill()
            raise AssertionError(f"no banner: {banner!r} {process.communicate()[1]}")
        base_url = found.group(1)
        secret = banner[3].split()[-1]
        assert "cli-test" in banner[2]
        assert banner[4].split()[-1] == "5"

        token = httpx.post(
            base_url + "auth/client-token", json={"client_id": "cli-test", "client_secret": secret}
        ).json()["data"]["token"]
        groups = httpx.get(base_url + "groups", headers={"Authorization": f"Bearer {token}"})
        assert groups.status_code == 200
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)

    assert process.returncode == 0, err
    assert "stopped" in out
    assert "Traceback" not in err
