"""Memory of label-photo decoding through the real app: one upload, then 20 at once.

The app runs in a subprocess (Werkzeug's threaded server, as `make run` serves it, or
gunicorn with sync workers, as the README's production line); its resident memory (the sum
over the server's processes, from psutil, sampled every 10 ms) is read while the uploads run.
Files:

- worst: the 381 KB 7000x7000 16-bit RGBA PNG of issue #13 (196 MB once decoded; refused
  from its header now);
- largest admitted: a 4096x4096 RGBA PNG with nothing to read, just under
  LABEL_DECODE_MAX_BYTES, so it is decoded and runs the whole cascade;
- phone photo: a 12 MP JPEG of a label from the benchmark corpus.

Targets (#13): one upload <= 150 MB above the idle server; 20 concurrent uploads of the worst
file <= 600 MB peak, and memory back near idle afterwards.

    .venv/bin/python bench/upload_memory.py [--server werkzeug|gunicorn] [--concurrent 20]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import (  # noqa: E402
    BIN,
    ROOT,
    free_port,
    fresh_database,
    server_env,
    wait_for_http,
)

PASSWORD = "bench-password-long"
SINGLE_TARGET_MB = 150
CONCURRENT_TARGET_MB = 600


def worst_png(side: int = 7000) -> bytes:
    """A 16-bit RGBA PNG of one colour: tiny on the wire, 4 bytes a pixel once decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    row = b"\x00" + b"\x7f\x00" * 4 * side
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 16, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def admitted_png(side: int = 4096) -> bytes:
    """A side x side RGBA PNG of boxes (no code in it) at the decoded-size limit."""
    rng = random.Random(13)
    image = Image.new("RGBA", (side, side), (200, 200, 190, 255))
    draw = ImageDraw.Draw(image)
    for _ in range(300):
        x, y = rng.randrange(side), rng.randrange(side)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle((x, y, x + rng.randrange(8, 400), y + rng.randrange(8, 400)), fill=colour)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def phone_jpeg() -> bytes:
    """A 12 MP label photo from the decode benchmark's corpus."""
    from bench.label_corpus import make_sample

    for index in range(50):
        sample = make_sample(1, index)
        if sample.twelve_mp and "distractor" not in sample.effects:
            return sample.jpeg
    raise RuntimeError("no 12 MP photo in the first 50")


def tree_rss_mb(process: psutil.Process) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


class Sampler:
    """Track the peak of tree_rss_mb in a background thread."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_mb(self.process))
            self._stop.wait(0.01)

    def __enter__(self) -> Sampler:
        self.peak = tree_rss_mb(self.process)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def serve(port: int) -> None:
    """Run the app on Werkzeug's threaded server (what `make run` does), until killed."""
    from werkzeug.serving import make_server

    from app import create_app

    make_server("127.0.0.1", port, create_app(), threaded=True).serve_forever()


def start_server(kind: str, url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = server_env(url)
    if kind == "gunicorn":
        command = [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "120",
            "--log-level",
            "warning",
            "app:create_app()",
        ]
    else:
        command = [sys.executable, __file__, "--serve", str(port)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)


def signed_in(base: str) -> Callable[[bytes], int]:
    """Sign in once; return a function that uploads a photo and answers the HTTP status."""
    client = httpx.Client(base_url=base, timeout=120)
    response = client.post("/api/auth/login", json={"username": "bench", "password": PASSWORD})
    response.raise_for_status()
    headers = {"X-CSRFToken": response.json()["csrf_token"]}
    cookies = dict(client.cookies)
    local = threading.local()

    def upload(data: bytes) -> int:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base, timeout=120, cookies=cookies)
        files = {"image": ("photo", data, "application/octet-stream")}
        return local.client.post("/api/labels/decode", files=files, headers=headers).status_code

    return upload


def measure(
    process: psutil.Process, upload: Callable[[bytes], int], data: bytes, concurrent: int
) -> tuple[float, float, float, Counter[int], float]:
    """Return (idle MB before, peak MB, MB 2 s after, statuses, seconds) for a burst."""
    idle = tree_rss_mb(process)
    started = time.perf_counter()
    with Sampler(process) as sampler, ThreadPoolExecutor(concurrent) as pool:
        statuses = Counter(pool.map(upload, [data] * concurrent))
    took = time.perf_counter() - started
    time.sleep(2)
    return idle, sampler.peak, tree_rss_mb(process), statuses, took


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", choices=("werkzeug", "gunicorn"), default="werkzeug")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    files = {
        "worst (7000x7000 16-bit RGBA PNG)": worst_png(),
        "largest admitted (4096x4096 RGBA PNG)": admitted_png(),
        "phone photo (12 MP JPEG)": phone_jpeg(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(None, Path(tmp))
        from app import create_app
        from app.services.accounts import create_user

        with create_app({"DATABASE_URL": url}).app_context():
            create_user("bench", PASSWORD, "technician")
        port = free_port()
        server = start_server(args.server, url, port, args.workers)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_http(base + "/api/health")
            upload = signed_in(base)
            process = psutil.Process(server.pid)
            upload(files["phone photo (12 MP JPEG)"])  # warm up: imports, first allocations
            time.sleep(1)
            where = args.server + (
                f", {args.workers} sync workers" if args.server == "gunicorn" else ""
            )
            print(
                f"server: {where}; load average {os.getloadavg()[0]:.1f}; "
                f"idle RSS {tree_rss_mb(process):.0f} MB"
            )
            columns = ("uploads", "idle", "peak", "extra", "after")
            print(f"{'file':<40} " + " ".join(f"{c:>6}" for c in columns) + "  statuses (MB)")
            for name, data in files.items():
                for count in (1, args.concurrent):
                    idle, peak, after, statuses, took = measure(process, upload, data, count)
                    target = SINGLE_TARGET_MB if count == 1 else CONCURRENT_TARGET_MB
                    shown = ", ".join(f"{k}x{v}" for k, v in sorted(statuses.items()))
                    print(
                        f"{name + f' ({len(data) / 1e3:.0f} KB)':<40} {count:>7} {idle:>6.0f} "
                        f"{peak:>6.0f} {peak - idle:>6.0f} {after:>6.0f}  {shown} in {took:.1f} s "
                        f"(target: {'extra' if count == 1 else 'peak'} <= {target} MB)"
                    )
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
