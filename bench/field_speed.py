"""How fast a technician works with the phone app: taps and seconds per device (issue #14).

Runs the real app (SQLite, in-process sync worker) against the emulator, and Debian's Chromium
at 360x740 through Playwright. The camera is fake: a canvas stream showing the same QR label
images the e2e tests put in their fake camera video (tests/e2e/media.py), one label at a time,
so the page itself records the moment each label came into view. Prints:

- taps per device in batch mode and in single mode (and for typed ids),
- seconds from label in view to action queued (median, max), batch and single mode,
- taps to undo a wrong scan (batch, single, typed), and what the undo did.

Targets (issue #14): batch 0 taps, single 1 tap, undo <= 2 taps, label -> queued median <= 0.3 s.

    nice -n 10 .venv/bin/python bench/field_speed.py [--labels 30] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM_ARGS, PWA_DIST  # noqa: E402
from tests.e2e.media import label_image  # noqa: E402

GROUP = "prfi00bench"
USER, PASSWORD = "benchtech", "bench field 2026"

# A fake rear camera: a canvas stream; __cam.show(i) draws label i and notes when.
FAKE_CAMERA_JS = """
(() => {
  const canvas = document.createElement('canvas');
  canvas.width = 640; canvas.height = 480;
  const ctx = canvas.getContext('2d');
  const images = [];
  let current = -1;
  const paint = () => {
    if (current >= 0 && images[current]) ctx.drawImage(images[current], 0, 0);
    else { ctx.fillStyle = '#ececec'; ctx.fillRect(0, 0, 640, 480); }
  };
  paint();
  setInterval(paint, 40);
  window.__cam = {
    shownAt: {},
    async load(urls) {
      images.length = 0;
      for (const url of urls) {
        const img = new Image();
        img.src = url;
        await img.decode();
        images.push(img);
      }
    },
    show(i) { current = i; paint(); window.__cam.shownAt[i] = Date.now(); },
    blank() { current = -1; paint(); },
  };
  navigator.mediaDevices.getUserMedia = async () => canvas.captureStream(25);
})();
"""

OUTBOX_JS = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open('fieldhand');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const get = db.transaction('outbox').objectStore('outbox').getAll();
    get.onsuccess = () => { db.close(); resolve(get.result.map((op) => ({
      op_id: op.op_id, tuid: op.tuid, kind: op.kind, state: op.state, created_at: op.created_at,
      error: op.error ? op.error.message : null,
    }))); };
  };
})"""


@dataclass
class Taps:
    """Counts every tap the script makes, per phase."""

    counts: dict[str, int] = field(default_factory=dict)
    phase: str = "setup"

    def tap(self, page: Any, selector: str) -> None:
        page.click(selector)
        self.counts[self.phase] = self.counts.get(self.phase, 0) + 1

    def taken(self, phase: str) -> int:
        return self.counts.get(phase, 0)


@contextmanager
def live_app(workdir: Path) -> Iterator[tuple[str, Any, Any]]:
    """The app on a free loopback port with the emulator and an in-process sync worker."""
    from dataclasses import replace

    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from app import create_app
    from app.extensions import MIGRATIONS_DIR
    from app.sync.worker import SyncWorker
    from emulator.platforms import platform_defaults
    from emulator.server import start_emulator
    from emulator.state import EmulatorConfig
    from tests.platforms import emulator_settings

    config = EmulatorConfig(client_id="bench", client_secret="bench-secret", seed=11)
    emulator = start_emulator(replace(platform_defaults("thingsee", config), rate_limit=0.0))
    settings = {
        "DATABASE_URL": f"sqlite:///{workdir / 'field_speed.sqlite3'}",
        "SECRET_KEY": "bench",
        **emulator_settings(emulator),
        "PLATFORM_RATE_LIMIT": 0,
        "SYNC_POLL_S": 0.1,
        "PWA_DIST": str(PWA_DIST),
        "LOGIN_RATE_LIMIT": "1000 per minute",
    }
    app = create_app(settings)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        from app.platform.provider import current_platform
        from app.services.accounts import create_user
        from app.services.groups import create_group

        create_user(USER, PASSWORD, "technician", display_name="Bench Tech")
        create_group(current_platform(), GROUP, "Bench site")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    worker = SyncWorker(app)
    threading.Thread(target=worker.run, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app, emulator
    finally:
        worker.stop()
        server.shutdown()
        emulator.stop()


def label_urls(texts: list[str]) -> list[str]:
    """The label images as data URLs."""
    urls = []
    for text in texts:
        buffer = io.BytesIO()
        label_image(text).save(buffer, format="PNG")
        urls.append("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode())
    return urls


def outbox(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate(OUTBOX_JS))


def wait_queued(page: Any, tuid: str, known: int, timeout: float = 20.0) -> dict[str, Any]:
    """Wait until a new operation for `tuid` is in the outbox; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ops = [op for op in outbox(page) if op["tuid"] == tuid and op["kind"] != "undo"]
        if len(ops) > known:
            return max(ops, key=lambda op: op["created_at"])
        time.sleep(0.02)
    raise TimeoutError(f"{tuid} was not queued")


def seconds(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"median {statistics.median(values):.2f} s, max {max(values):.2f} s (n={len(values)})"


def undo_outcome(page: Any, tuid: str, timeout: float = 20.0) -> str:
    """What became of the undo of the action on `tuid`, once it settles."""
    deadline = time.monotonic() + timeout
    while True:
        ops = [op for op in outbox(page) if op["tuid"] == tuid]
        if any(op["state"] == "cancelled" for op in ops):
            return "cancelled on the phone (never sent)"
        undo = next((op for op in ops if op["kind"] == "undo"), None)
        if undo and undo["state"] in ("synced", "failed", "conflict"):
            return f"undo {undo['state']}" + (f": {undo['error']}" if undo["error"] else "")
        if time.monotonic() > deadline:
            return f"undo {undo['state'] if undo else 'not queued'} after {timeout:.0f} s"
        time.sleep(0.2)


def undo_taps(taps: Taps, page: Any, phase: str, button: str) -> int:
    """Undo through `button`, confirming if asked; return the taps it took."""
    taps.phase = phase
    taps.tap(page, button)
    page.wait_for_timeout(300)
    if page.locator("dialog[open] [data-testid=confirm]").count():
        taps.tap(page, "dialog[open] [data-testid=confirm]")
    return taps.taken(phase)


def run(labels: int, chromium: str) -> None:
    from playwright.sync_api import sync_playwright

    from tests.e2e.test_pwa_outbox import label_texts

    with tempfile.TemporaryDirectory() as tmp, live_app(Path(tmp)) as (url, _app, emulator):
        batch_tuids = emulator.state.add_devices(count=labels)
        single_tuids = emulator.state.add_devices(count=10)
        typed_tuids = emulator.state.add_devices(count=5)
        wrong = emulator.state.add_devices(count=4)
        all_tuids = batch_tuids + single_tuids + wrong
        urls = label_urls(label_texts(all_tuids))
        index = {tuid: i for i, tuid in enumerate(all_tuids)}
        taps = Taps()
        results: dict[str, Any] = {}

        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium, headless=True, args=CHROMIUM_ARGS
            )
            context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-GB")
            context.add_init_script(FAKE_CAMERA_JS)
            page = context.new_page()
            page.set_default_timeout(20_000)
            page.goto(url + "/")
            page.fill("#username", USER)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.locator(".list-button", has_text=GROUP).click()
            page.wait_for_selector("#scan-title")
            page.evaluate("urls => window.__cam.load(urls)", urls)

            # ---- batch mode ---------------------------------------------------------------
            page.check("[data-testid=batch-mode]")
            page.click("[data-testid=start-camera]")
            page.wait_for_selector("[data-testid=start-camera]", state="detached")
            taps.phase = "batch"
            latencies = []
            for tuid in batch_tuids:
                page.evaluate("i => window.__cam.show(i)", index[tuid])
                op = wait_queued(page, tuid, 0)
                shown = page.evaluate("i => window.__cam.shownAt[i]", index[tuid])
                latencies.append((op["created_at"] - shown) / 1000)
                page.evaluate("() => window.__cam.blank()")
                page.wait_for_timeout(250)
            results["batch"] = (taps.taken("batch") / len(batch_tuids), latencies)

            # A wrong scan in batch mode, undone from the message under the camera.
            page.evaluate("i => window.__cam.show(i)", index[wrong[0]])
            wait_queued(page, wrong[0], 0)
            page.evaluate("() => window.__cam.blank()")
            results["undo_batch"] = (
                undo_taps(
                    taps, page, "undo-batch", "[data-testid=scan-message] [data-testid=undo]"
                ),
                undo_outcome(page, wrong[0]),
            )

            # The same offline (a basement): the action is still on the phone, so it is cancelled.
            context.set_offline(True)
            page.wait_for_timeout(500)
            page.evaluate("i => window.__cam.show(i)", index[wrong[3]])
            wait_queued(page, wrong[3], 0)
            page.evaluate("() => window.__cam.blank()")
            results["undo_batch_offline"] = (
                undo_taps(
                    taps, page, "undo-offline", "[data-testid=scan-message] [data-testid=undo]"
                ),
                undo_outcome(page, wrong[3]),
            )
            context.set_offline(False)

            # ---- single mode --------------------------------------------------------------
            page.uncheck("[data-testid=batch-mode]")
            page.wait_for_timeout(500)
            taps.phase = "single"
            to_card, to_queued, reopened = [], [], 0
            for tuid in single_tuids:
                page.evaluate("i => window.__cam.show(i)", index[tuid])
                page.wait_for_selector(f"[data-testid=device-tuid]:has-text('{tuid}')")
                shown = page.evaluate("i => window.__cam.shownAt[i]", index[tuid])
                to_card.append((page.evaluate("() => Date.now()") - shown) / 1000)
                page.wait_for_selector("[data-testid=action-install]:not([disabled])")
                taps.tap(page, "[data-testid=action-install]")
                if page.locator("dialog[open] [data-testid=confirm]").count():
                    taps.tap(page, "dialog[open] [data-testid=confirm]")
                op = wait_queued(page, tuid, 0)
                to_queued.append((op["created_at"] - shown) / 1000)
                # The label stays in view while the camera comes back: the card must not reopen.
                page.wait_for_timeout(1_500)
                reopened += page.locator("[data-testid=device-tuid]").count()
                page.evaluate("() => window.__cam.blank()")
                page.wait_for_timeout(400)
            results["single"] = (
                taps.taken("single") / len(single_tuids),
                to_card,
                to_queued,
                reopened,
            )

            page.evaluate("i => window.__cam.show(i)", index[wrong[1]])
            page.wait_for_selector(f"[data-testid=device-tuid]:has-text('{wrong[1]}')")
            page.click("[data-testid=action-install]")
            wait_queued(page, wrong[1], 0)
            page.evaluate("() => window.__cam.blank()")
            results["undo_single"] = (
                undo_taps(taps, page, "undo-single", "[data-testid=toast-undo]"),
                undo_outcome(page, wrong[1]),
            )
            page.click("button:has-text('Stop camera')")

            # ---- typed ids ----------------------------------------------------------------
            taps.phase = "typed"
            typed_seconds = []
            for tuid in typed_tuids:
                dashed = f"{tuid[:6]}-{tuid[6:]}"  # as printed under the code
                taps.tap(page, "[data-testid=manual-tuid]")
                page.fill("[data-testid=manual-tuid]", dashed)
                started = page.evaluate("() => Date.now()")
                page.press("[data-testid=manual-tuid]", "Enter")
                taps.counts["typed"] += 1  # the Enter / Open key
                page.wait_for_selector("[data-testid=action-install]:not([disabled])")
                taps.tap(page, "[data-testid=action-install]")
                op = wait_queued(page, tuid, 0)
                typed_seconds.append((op["created_at"] - started) / 1000)
                page.wait_for_selector("#scan-title")
            results["typed"] = (taps.taken("typed") / len(typed_tuids), typed_seconds)
            taps.tap(page, "[data-testid=manual-tuid]")
            page.fill("[data-testid=manual-tuid]", wrong[2])
            page.press("[data-testid=manual-tuid]", "Enter")
            page.click("[data-testid=action-install]")
            wait_queued(page, wrong[2], 0)
            results["undo_typed"] = (
                undo_taps(taps, page, "undo-typed", "[data-testid=toast-undo]"),
                undo_outcome(page, wrong[2]),
            )
            browser.close()

    per_device, latencies = results["batch"]
    s_taps, to_card, to_queued, reopened = results["single"]
    t_taps, typed_seconds = results["typed"]
    load = os.getloadavg()[0]
    print(f"field_speed: Chromium 360x740, fake camera, {len(all_tuids)} labels, load {load:.1f}")
    print(
        f"batch mode:  {per_device:.1f} taps/device (target 0); "
        f"label in view -> queued {seconds(latencies)} (target median <= 0.3 s)"
    )
    print(
        f"single mode: {s_taps:.1f} taps/device (target 1); label -> card {seconds(to_card)}; "
        f"label -> queued {seconds(to_queued)}; card reopened for the label just installed: "
        f"{reopened} times"
    )
    print(
        f"typed id:    {t_taps:.1f} taps/device (field, Enter, Install; typing not counted); "
        f"Enter -> queued {seconds(typed_seconds)}"
    )
    for name in ("batch", "batch_offline", "single", "typed"):
        count, outcome = results[f"undo_{name}"]
        print(f"undo a wrong scan ({name}): {count} taps (target <= 2): {outcome}")


def main() -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=int, default=30, help="labels scanned in batch mode")
    parser.add_argument(
        "--chromium", default=os.environ.get("FIELDHAND_CHROMIUM", "/usr/bin/chromium")
    )
    args = parser.parse_args()
    run(args.labels, args.chromium)


if __name__ == "__main__":
    main()
