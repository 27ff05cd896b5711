"""Screenshots of the supervisor console into docs/screenshots/console-*.png.

Runs the real app (SQLite in a temporary folder, the Thingsee emulator, an in-process sync
worker) with a day's worth of demo data: four technicians' installs, removals and replacements,
a few the platform refused, a bulk retire dry run and a bulk job under way. Then takes 1280x800
pictures of the fleet overview (where the console opens), the history, a device timeline, the
sync-failure inbox, the dry run reading the devices and its verdicts, and the progress, and
360x640 pictures of the history and the inbox.
Run from the repository root after building the PWA (`cd pwa && npm run build`):

    .venv/bin/python pwa/scripts/console-screenshots.py [--lang fi] [--serve]

--serve keeps the seeded app running (the URL is printed) instead of taking pictures.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from emulator.server import start_emulator  # noqa: E402
from emulator.state import EmulatorConfig  # noqa: E402

DIST = ROOT / "pwa" / "dist"
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
PASSWORD = "console demo 2026"
SUPERVISOR = ("sanna", "Sanna Saarinen")
TECHNICIANS = [
    ("terttu", "Terttu Tekninen"),
    ("mikko", "Mikko Mäkelä"),
    ("aino", "Aino Asentaja"),
    ("jussi", "Jussi Järvinen"),
]
GROUPS = {
    "prfi00acmehq": "Acme HQ, Oulu",
    "prfi00acmewarehouse": "Acme warehouse, Kempele",
    "prfi00kauppatori": "Market hall, Oulu",
    "rdfi00labtest": "R&D lab bench",
}
GONE_GROUP = "prfi00acmeold"  # a site that was closed: installs into it are refused


class Client:
    """The app's test client with the PWA's CSRF header."""

    def __init__(self, app: Any, username: str) -> None:
        self.client = app.test_client()
        response = self.client.post(
            "/api/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.json
        self.csrf = response.json["csrf_token"]

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.client.post(url, headers={"X-CSRFToken": self.csrf}, **kwargs)


def operation(
    kind: str, tuid: str, when: datetime, seen: dict[str, Any] | None = None, **args: Any
) -> dict[str, Any]:
    return {
        "op_id": str(uuid.uuid4()),
        "kind": kind,
        "tuid": tuid,
        "args": args,
        "device_time": when.isoformat(),
        "seen": seen or {},
    }


def wait_until(check: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise TimeoutError("demo data did not settle")


def start(tmp: Path) -> tuple[str, Any, Any, Any]:
    """Start the emulator, migrate a SQLite database, start the app and a sync worker."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import MIGRATIONS_DIR
    from app.sync.worker import SyncWorker

    emulator = start_emulator(
        EmulatorConfig(client_id="fieldhand-demo", client_secret="demo", seed=11)
    )
    url = f"sqlite:///{tmp / 'console.sqlite3'}"
    config = {
        "DATABASE_URL": url,
        "SECRET_KEY": "console-screenshots",
        "PLATFORM_URL": emulator.base_url,
        "PLATFORM_CLIENT_ID": emulator.client_id,
        "PLATFORM_CLIENT_SECRET": emulator.client_secret,
        "PLATFORM_TIMEOUT_S": 5.0,
        "SYNC_BACKOFF_BASE_S": 0.05,
        "SYNC_BACKOFF_CAP_S": 0.5,
        "SYNC_POLL_S": 0.05,
        "SYNC_CONCURRENCY": 4,
        "PWA_DIST": str(DIST),
        "LOGIN_RATE_LIMIT": "1000 per minute",
    }
    app = create_app(config)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    worker = SyncWorker(app)
    threading.Thread(target=worker.run, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", app, emulator, worker


def seed(app: Any, emulator: Any) -> list[str]:
    """Fill the app with a believable few days of work; return the devices left for bulk jobs."""
    from sqlalchemy import select

    from app.database import db
    from app.models.operations import Operation
    from app.services.accounts import create_user

    rng = random.Random(2026)
    with app.app_context():
        create_user(SUPERVISOR[0], PASSWORD, "supervisor", display_name=SUPERVISOR[1])
        for username, name in TECHNICIANS:
            create_user(username, PASSWORD, "technician", display_name=name)
    for group_id, description in GROUPS.items():
        emulator.state.create_group(group_id, description)
    devices = emulator.state.add_devices(count=400)
    field, spare = devices[:90], devices[90:]
    clients = {username: Client(app, username) for username, _ in TECHNICIANS}
    now = datetime.now(UTC)

    delays: dict[str, float] = {}
    batches: dict[str, list[dict[str, Any]]] = {u: [] for u, _ in TECHNICIANS}
    groups = list(GROUPS)
    for i, tuid in enumerate(field):
        username = TECHNICIANS[i % len(TECHNICIANS)][0]
        when = now - timedelta(hours=rng.uniform(0.3, 70))
        group = groups[i % len(groups)]
        op = operation(
            "install", tuid, when, {"status": "new", "group": "unassigned"}, group_id=group
        )
        batches[username].append(op)
        # Most phones send within a minute; a few were offline in a basement for hours.
        delays[op["op_id"]] = (
            rng.choice([4, 9, 15, 22, 38, 61, 95]) if i % 9 else rng.uniform(3600, 5 * 3600)
        )
    for i, tuid in enumerate(field[:24]):
        username = TECHNICIANS[(i + 1) % len(TECHNICIANS)][0]
        when = now - timedelta(minutes=rng.uniform(5, 240))
        if i % 4 == 0:
            op = operation("remove", tuid, when, {"status": "installed"})
        elif i % 4 == 1:
            op = operation("set_status", tuid, when, {"status": "installed"}, status="quarantine")
        elif i % 4 == 2:
            op = operation(
                "replace",
                tuid,
                when,
                {"status": "installed"},
                new_tuid=spare.pop(),
                old_status="retired",
            )
        else:
            op = operation(
                "set_group",
                tuid,
                when,
                {"status": "installed"},
                group_id=groups[(i + 1) % len(groups)],
            )
        batches[username].append(op)
        delays[op["op_id"]] = rng.choice([3, 7, 12, 30])
    for username, ops in batches.items():
        response = clients[username].post("/api/operations", json={"operations": ops})
        assert response.status_code == 200, response.json

    # Refused by the platform: installs into a closed site, and one device the platform lost.
    refused = []
    for i, tuid in enumerate(spare[-4:]):
        when = now - timedelta(minutes=25 + 11 * i)
        refused.append(operation("install", tuid, when, {"status": "new"}, group_id=GONE_GROUP))
    clients["mikko"].post("/api/operations", json={"operations": refused[:3]})
    clients["aino"].post("/api/operations", json={"operations": refused[3:]})
    del spare[-4:]

    def settled() -> bool:
        with app.app_context():
            states = set(db.session.scalars(select(Operation.state)))
            db.session.remove()
        return not states & {"accepted", "syncing"}

    wait_until(settled)
    # A technician's phone was hours behind: its quarantine is older than what the platform has.
    late = operation(
        "set_status",
        field[5],
        now - timedelta(hours=80),
        {"status": "installed"},
        status="quarantine",
    )
    clients["jussi"].post("/api/operations", json={"operations": [late]})
    delays[late["op_id"]] = 6 * 3600
    wait_until(settled)

    # The demo sends everything at once; give each operation the delay a phone would have had.
    with app.app_context():
        for op in db.session.scalars(select(Operation)):
            delay = timedelta(seconds=delays.get(op.op_id, rng.choice([5, 11, 19])))
            received = op.device_time + delay
            op.received_at = received
            if op.synced_at is not None:
                op.synced_at = received + timedelta(seconds=rng.uniform(0.4, 2.5))
            for step in op.steps:
                if step.completed_at is not None:
                    step.completed_at = op.synced_at or received
        db.session.commit()
        db.session.remove()
    return spare


def dry_run_csv(tmp: Path, spare: list[str]) -> Path:
    """200 lines: known devices, some listed twice, a few the platform does not know, some typos."""
    known = spare[:182]
    lines = (
        ["tuid"]
        + known
        + known[:10]
        + ["TSPR04ZZZ00000001", "TSPR04ZZZ00000002", "TSPD02ZZZ00000003"]
    )
    lines += ["TSPR04-EZU3190", "see attached", "TSPR04EZU31901O2X", "12345", "TSGW05ZQW9546305"]
    path = tmp / "retire-acme-warehouse.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def shoot(page: Page, name: str) -> None:
    page.mouse.move(0, 0)  # no hover highlight on the rows
    page.wait_for_timeout(250)
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"console-{name}.png"))
    print(f"docs/screenshots/console-{name}.png")


def scroll_to(page: Page, selector: str) -> None:
    """Scroll so the element starts just under the sticky header."""
    page.evaluate(
        "s => window.scrollTo(0, document.querySelector(s).getBoundingClientRect().top - 110)",
        selector,
    )


def screenshots(url: str, emulator: Any, spare: list[str], tmp: Path, lang: str) -> None:
    suffix = "" if lang == "en" else f"-{lang}"
    locale = "fi-FI" if lang == "fi" else "en-GB"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, locale=locale, timezone_id="Europe/Helsinki"
        )
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.goto(url + "/console.html")
        page.fill("#username", SUPERVISOR[0])
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        # The console opens on the fleet overview (its charts draw once their data is in).
        expect(page.locator("main h1")).to_be_visible()
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)
        page.mouse.move(0, 0)
        shoot(page, f"overview{suffix}")

        page.click("[data-testid=tab-history]")
        expect(page.locator("[data-testid=history-table]")).to_be_visible()
        page.mouse.move(0, 0)
        shoot(page, f"history{suffix}")

        page.locator("[data-testid=open-timeline]").nth(2).click()
        expect(page.locator("[data-testid=timeline]")).to_be_visible()
        shoot(page, f"timeline{suffix}")
        page.keyboard.press("Escape")

        page.click("[data-testid=tab-inbox]")
        expect(page.locator("[data-testid=inbox-item]").first).to_be_visible()
        shoot(page, f"inbox{suffix}")

        page.click("[data-testid=tab-bulk]")
        page.click("[data-testid=source-csv] >> xpath=..")
        page.set_input_files("[data-testid=csv-file]", str(dry_run_csv(tmp, spare)))
        emulator.state.update_settings(latency_ms=500)  # slow enough to catch the reading
        page.click("[data-testid=preview]")
        page.wait_for_function(
            "() => (document.querySelector('[data-testid=checking-progress]')?.value ?? 0) >= 60",
            timeout=60_000,
        )
        shoot(page, f"checking{suffix}")
        emulator.state.update_settings(latency_ms=0)
        expect(page.locator("[data-testid=summary]")).to_be_visible()
        page.mouse.move(0, 0)
        shoot(page, f"dry-run{suffix}")

        will_change = (
            page.locator("[data-testid=summary-change]")
            .inner_text()
            .replace(",", "")
            .replace("\u00a0", "")
        )
        emulator.state.update_settings(latency_ms=350)  # slow enough to catch the job half-way
        page.fill("[data-testid=confirm-count]", will_change)
        page.click("[data-testid=confirm-job]")
        page.wait_for_function(
            "() => (document.querySelector('progress.c-progress')?.value ?? 0) >= 35",
            timeout=120_000,
        )
        shoot(page, f"progress{suffix}")
        emulator.state.update_settings(latency_ms=0)

        phone = browser.new_context(
            viewport={"width": 360, "height": 640}, locale=locale, timezone_id="Europe/Helsinki"
        )
        phone.set_default_timeout(30_000)
        mobile = phone.new_page()
        mobile.goto(url + "/console.html")
        mobile.fill("#username", SUPERVISOR[0])
        mobile.fill("#password", PASSWORD)
        mobile.click("button[type=submit]")
        expect(mobile.locator("main h1")).to_be_visible()
        mobile.click("[data-testid=tab-history]")
        expect(mobile.locator("[data-testid=history-table]")).to_be_visible()
        scroll_to(mobile, "[data-testid=history-total]")
        shoot(mobile, f"history-360{suffix}")
        mobile.click("[data-testid=tab-inbox]")
        expect(mobile.locator("[data-testid=inbox-item]").first).to_be_visible()
        scroll_to(mobile, "[data-testid=inbox-total]")
        shoot(mobile, f"inbox-360{suffix}")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lang", choices=["en", "fi"], default="en")
    parser.add_argument("--serve", action="store_true", help="keep the seeded app running instead")
    args = parser.parse_args()
    if not (DIST / "console.html").exists():
        sys.exit("pwa/dist/console.html is missing: run `cd pwa && npm run build` first")
    with tempfile.TemporaryDirectory(prefix="fieldhand-console-") as folder:
        tmp = Path(folder)
        url, app, emulator, worker = start(tmp)
        try:
            spare = seed(app, emulator)
            if args.serve:
                csv = dry_run_csv(tmp, spare)
                user, password = SUPERVISOR[0], PASSWORD
                print(f"{url}/console.html  ({user} / {password!r}; demo CSV {csv})", flush=True)
                while True:
                    time.sleep(3600)
            screenshots(url, emulator, spare, tmp, args.lang)
        finally:
            worker.stop()
            emulator.stop()


if __name__ == "__main__":
    main()
