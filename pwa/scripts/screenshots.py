"""Take 360x740 screenshots of every PWA screen into docs/screenshots/.

Serves the built app (pwa/dist) from a small static server and answers /api/* with canned data
through Playwright routes, so the pictures are the same on every run and need no backend.
Run from the repository root after building the PWA:

    .venv/bin/python pwa/scripts/screenshots.py [--lang fi]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import threading
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Route, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "pwa" / "dist"
OUT = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # A test-pattern camera, so the scan screens show what a phone shows (Replace starts it).
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
USER = {"id": 1, "username": "tina", "display_name": "Tina Tech", "role": "supervisor"}
GROUPS = [
    {"group_id": "prfi00acmehq", "description": "Acme HQ, Oulu"},
    {"group_id": "prfi00acmewarehouse", "description": "Acme warehouse"},
    {"group_id": "prfi00kauppatori", "description": "Market hall"},
    {"group_id": "unassigned", "description": None},
]
REFUSED = "Deployment group 'Acme HQ' is not valid: use 1 to 64 lowercase letters and digits."
DEVICES = {
    "TSPR04EZU31901021": ("PRESENCE", "installed", "prfi00acmehq", 86),
    "TSPD02ABC12345678": ("ENVIRONMENT", "new", "unassigned", 100),
    "TSGW05ZQW95463057": ("Gateway LAN", "uninstalled", "unassigned", None),
}


class SpaHandler(SimpleHTTPRequestHandler):
    """Serve dist/, with index.html for unknown paths (like the Flask app does)."""

    def send_head(self):  # type: ignore[override]
        path = Path(self.translate_path(self.path))
        if not path.exists() and not self.path.startswith("/api/"):
            self.path = "/index.html"
        return super().send_head()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeApi:
    """Canned answers for the API routes the PWA calls."""

    def __init__(self) -> None:
        self.operations: dict[str, dict[str, Any]] = {}
        self.expired = False
        self.offline = False
        self.signed_in = False  # the browser has no session cookie until the sign-in
        self.reject_tuids = {"TSGW05ZQW95463057"}

    def __call__(self, route: Route) -> None:
        request = route.request
        path = request.url.split("://", 1)[1].split("/", 1)[1].split("?", 1)[0]
        method = request.method
        if self.offline:
            return route.abort("internetdisconnected")
        if path == "api/health":
            return self.json(route, 200, {"status": "ok", "time": now()})
        if self.expired and path != "api/auth/login":
            return self.json(
                route, 401, {"error": {"code": "unauthenticated", "message": "Sign in."}}
            )
        if path == "api/auth/me" and "optional=true" in request.url and not self.signed_in:
            return self.json(route, 200, {"user": None, "csrf_token": None})
        if path == "api/auth/login" or path == "api/auth/me":
            self.signed_in = True
            self.expired = False
            return self.json(route, 200, {"user": USER, "csrf_token": "csrf"})
        if path == "api/groups":
            return self.json(
                route, 200, {"items": GROUPS, "source": "platform", "synced_at": now()}
            )
        if path.startswith("api/devices/"):
            tuid = path.rsplit("/", 1)[1]
            kind, status, group, battery = DEVICES.get(tuid, ("unknown", None, None, None))
            platform = {
                "reachable": True,
                "found": tuid in DEVICES,
                "status": status,
                "group": group,
                "battery_level": battery,
                "last_seen": None,
                "version": None,
                "message": None,
            }
            return self.json(
                route,
                200,
                {
                    "tuid": tuid,
                    "imc": tuid[:6],
                    "psn": tuid[6:],
                    "device_type": kind,
                    "local": None,
                    "platform": platform,
                    "history": [],
                },
            )
        if path == "api/operations" and method == "POST":
            results = []
            for op in json.loads(request.post_data or "{}")["operations"]:
                if op["tuid"] in self.reject_tuids:
                    results.append(
                        {
                            "op_id": op["op_id"],
                            "result": "rejected",
                            "operation": None,
                            "error": {
                                "code": "validation_failed",
                                "message": REFUSED,
                            },
                        }
                    )
                    continue
                stored = {
                    **op,
                    "state": "synced",
                    "received_at": now(),
                    "synced_at": now(),
                    "error": None,
                }
                self.operations[op["op_id"]] = stored
                results.append(
                    {"op_id": op["op_id"], "result": "accepted", "operation": stored, "error": None}
                )
            return self.json(route, 200, {"results": results})
        if path == "api/operations":
            return self.json(route, 200, {"items": list(self.operations.values())})
        return self.json(route, 404, {"error": {"code": "not_found", "message": path}})

    @staticmethod
    def json(route: Route, status: int, body: Any) -> None:
        route.fulfill(status=status, content_type="application/json", body=json.dumps(body))


def now() -> str:
    return datetime.now(UTC).isoformat()


def shot(page: Page, name: str) -> None:
    page.wait_for_selector(".toast", state="detached", timeout=12_000)  # an undo toast: 8 s
    page.wait_for_timeout(300)
    page.screenshot(path=str(OUT / f"{name}.png"))
    print("wrote", OUT / f"{name}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lang", default="en", choices=["en", "fi"])
    args = parser.parse_args()
    if not (DIST / "index.html").exists():
        raise SystemExit("build the PWA first: make pwa")
    OUT.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(SpaHandler, directory=str(DIST))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    suffix = "" if args.lang == "en" else f"-{args.lang}"
    api = FakeApi()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("FIELDHAND_CHROMIUM", "/usr/bin/chromium"),
            args=CHROMIUM_ARGS,
        )
        context = browser.new_context(
            viewport={"width": 360, "height": 740},
            device_scale_factor=1,
            locale="fi-FI" if args.lang == "fi" else "en-GB",
            service_workers="block",  # so the routes below see every API request
        )
        context.route("**/api/**", api)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(base + "/")
        page.wait_for_selector("#username")
        shot(page, f"01-sign-in{suffix}")

        page.fill("#username", "tina")
        page.fill("#password", "secret")
        page.click("button[type=submit]")
        page.wait_for_selector(".list-button")
        shot(page, f"02-group{suffix}")  # with the storage banner, shown until dismissed
        if page.locator("[data-testid=persist-dismiss]").count():
            page.click("[data-testid=persist-dismiss]")

        page.locator(".list-button").first.click()
        page.wait_for_selector("#scan-title")
        page.locator("[data-testid=manual-tuid]").fill("TSPR04EZU3190102")  # one character short
        page.locator("[data-testid=manual-tuid]").press("Enter")
        shot(page, f"03-scan-not-a-label{suffix}")

        page.locator("[data-testid=manual-tuid]").fill("EZU31901021,TSPR04")
        page.locator("[data-testid=manual-tuid]").press("Enter")
        page.wait_for_selector("[data-testid=device-source]")
        shot(page, f"04-device-card{suffix}")

        page.click("[data-testid=action-install]")
        page.wait_for_selector("dialog[open]")
        shot(page, f"05-confirm-installed{suffix}")
        page.click("[data-testid=confirm]")
        page.wait_for_selector("#scan-title")

        for tuid in ("TSPD02ABC12345678", "TSGW05ZQW95463057"):
            page.locator("[data-testid=manual-tuid]").fill(tuid)
            page.locator("[data-testid=manual-tuid]").press("Enter")
            page.wait_for_selector("[data-testid=device-source]")
            page.click("[data-testid=action-install]")
            page.wait_for_selector("#scan-title")

        # Replace: old device card -> scan the new one -> confirm panel.
        page.locator("[data-testid=manual-tuid]").fill("TSPR04EZU31901021")
        page.locator("[data-testid=manual-tuid]").press("Enter")
        page.wait_for_selector("[data-testid=device-source]")
        page.click("[data-testid=action-replace]")
        page.locator("[data-testid=manual-tuid]").fill("TSPR04QQQ00000001")
        page.locator("[data-testid=manual-tuid]").press("Enter")
        page.wait_for_selector("[data-testid=replace-new]")
        shot(page, f"06-replace{suffix}")
        page.goto(base + "/#/scan")

        # Offline with queued actions, then the session expires.
        api.offline = True
        page.evaluate("window.dispatchEvent(new Event('offline'))")
        page.wait_for_selector(".conn-off")
        # Replace started the camera; typed IDs below need it off (the typing panel folds away).
        page.wait_for_selector("[data-testid=stop-camera]")
        page.click("[data-testid=stop-camera]")
        for tuid in ("TSPR04EZU31901099", "TSPR04EZU31901098"):
            page.locator("[data-testid=manual-tuid]").fill(tuid)
            page.locator("[data-testid=manual-tuid]").press("Enter")
            page.wait_for_selector("[data-testid=device-source]")
            page.click("[data-testid=action-install]")
            page.wait_for_selector("#scan-title")
        page.click("[data-testid=batch-mode]")
        if page.locator("[data-testid=start-camera]").count():
            page.click("[data-testid=start-camera]")
        page.wait_for_selector(".camera-on")
        shot(page, f"07-scan-offline-batch{suffix}")
        page.goto(base + "/#/queue")
        page.wait_for_selector("#queue-title")
        shot(page, f"08-queue{suffix}")

        api.expired = True
        api.offline = False
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.wait_for_selector("[data-testid=session-expired]")
        shot(page, f"09-session-expired{suffix}")
        page.click("[data-testid=session-expired] button")
        page.wait_for_selector("#password")
        shot(page, f"10-sign-in-again{suffix}")
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
